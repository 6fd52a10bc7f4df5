package clientapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

func TestUserDirectorySearch(t *testing.T) {
	forEachDirEnv(t, func(t *testing.T, e *dirEnv) {
		ctx := e.ctx
		alice, bob, carol, dave, erin, frank, robert, zoe := e.user("alice"), e.user("bob"), e.user("carol"),
			e.user("dave"), e.user("erin"), e.user("frank"), e.user("robert"), e.user("zoe")
		join := func(cli *mautrix.Client, room id.RoomID) {
			t.Helper()
			_, err := cli.JoinRoomByID(ctx, room)
			require.NoError(t, err)
		}
		invite := func(cli *mautrix.Client, room id.RoomID, who *mautrix.Client) {
			t.Helper()
			_, err := cli.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: who.UserID})
			require.NoError(t, err)
			join(who, room)
		}
		require.NoError(t, robert.SetDisplayName(ctx, "Bob Builder"))
		require.NoError(t, bob.SetAvatarURL(ctx, id.ContentURI{Homeserver: testServerName, FileID: "bobface"}))

		private := e.createRoom(alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
		invite(alice, private, carol)
		public := e.createRoom(bob, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		join(robert, public)
		join(zoe, public)
		secret := e.createRoom(dave, &mautrix.ReqCreateRoom{Preset: "private_chat"})
		invite(dave, secret, erin)
		e.createRoom(frank, &mautrix.ReqCreateRoom{Preset: "private_chat", InitialState: []*event.Event{{
			Type: event.StateHistoryVisibility, Content: event.Content{Raw: map[string]any{"history_visibility": "world_readable"}}}}})
		require.NoError(t, e.accounts.DeactivateUser(ctx, "zoe"))

		// mautrix reads the results as profiles ("displayname"), while the
		// spec's field is "display_name": the IDs come from mautrix, the
		// profile fields from the raw answer.
		search := func(cli *mautrix.Client, term string, limit int) *mautrix.RespSearchUserDirectory {
			t.Helper()
			resp, err := cli.SearchUserDirectory(ctx, term, limit)
			require.NoError(t, err)
			return resp
		}
		users := func(resp *mautrix.RespSearchUserDirectory) []id.UserID {
			out := []id.UserID{}
			for _, r := range resp.Results {
				out = append(out, r.UserID)
			}
			return out
		}
		type rawResult struct {
			UserID      string  `json:"user_id"`
			DisplayName *string `json:"display_name"`
			AvatarURL   *string `json:"avatar_url"`
		}
		rawSearch := func(cli *mautrix.Client, term string) []rawResult {
			t.Helper()
			var out struct {
				Results []rawResult `json:"results"`
			}
			require.NoError(t, e.do(cli, http.MethodPost, mautrix.ClientURLPath{"v3", "user_directory", "search"}, nil,
				map[string]any{"search_term": term}, &out))
			return out.Results
		}
		strp := func(s string) *string { return &s }

		got := search(alice, "bob", 10)
		assert.Equal(t, []id.UserID{bob.UserID, robert.UserID}, users(got), "by localpart and by display name")
		assert.False(t, got.Limited)
		assert.Equal(t, []rawResult{
			{UserID: bob.UserID.String(), DisplayName: strp("bob"), AvatarURL: strp("mxc://" + testServerName + "/bobface")},
			{UserID: robert.UserID.String(), DisplayName: strp("Bob Builder")},
		}, rawSearch(alice, "bob"))

		assert.Equal(t, []id.UserID{robert.UserID}, users(search(alice, "BUILD", 10)), "case-insensitive word prefix")
		assert.Empty(t, users(search(alice, "uilder", 10)), "not the middle of a word")
		assert.Equal(t, []id.UserID{robert.UserID}, users(search(alice, "bob bu", 10)), "every word must match")
		assert.Equal(t, []id.UserID{robert.UserID}, users(search(alice, "@robert:"+testServerName, 10)), "a whole user ID")
		assert.Empty(t, users(search(alice, "erin", 10)), "erin shares no room with alice and is in no public room")
		assert.Equal(t, []id.UserID{erin.UserID}, users(search(dave, "erin", 10)), "dave shares a room with erin")
		assert.Equal(t, []id.UserID{frank.UserID}, users(search(alice, "frank", 10)), "frank is in a world readable room")
		assert.Empty(t, users(search(alice, "zoe", 10)), "deactivated users are never found")
		assert.Empty(t, users(search(alice, "alice", 10)), "nor is the searcher")
		assert.Empty(t, users(search(alice, "!!", 10)), "no words, no results")

		// Users sharing a room come first, even with a weaker match.
		require.NoError(t, carol.SetDisplayName(ctx, "Bobby Tables"))
		got = search(alice, "bob", 10)
		assert.Equal(t, []id.UserID{carol.UserID, bob.UserID, robert.UserID}, users(got))
		assert.Equal(t, strp("Bobby Tables"), rawSearch(alice, "bob")[0].DisplayName)
		got = search(alice, "bob", 1)
		assert.Equal(t, []id.UserID{carol.UserID}, users(got))
		assert.True(t, got.Limited)

		// After carol leaves, alice no longer finds her.
		_, err := carol.LeaveRoom(ctx, private)
		require.NoError(t, err)
		assert.Equal(t, []id.UserID{bob.UserID, robert.UserID}, users(search(alice, "bob", 10)))

		// Bad input.
		path := mautrix.ClientURLPath{"v3", "user_directory", "search"}
		requireMatrixErr(t, e.do(alice, http.MethodPost, path, nil, map[string]any{"limit": 3}, nil), http.StatusBadRequest, "M_MISSING_PARAM")
		requireMatrixErr(t, e.do(alice, http.MethodPost, path, nil, map[string]any{"search_term": 3}, nil), http.StatusBadRequest, "M_BAD_JSON")
		requireMatrixErr(t, e.do(alice, http.MethodPost, path, nil, map[string]any{"search_term": "bob", "limit": -1}, nil),
			http.StatusBadRequest, "M_INVALID_PARAM")
		requireMatrixErr(t, e.do(e.anonymous(), http.MethodPost, path, nil, map[string]any{"search_term": "bob"}, nil),
			http.StatusUnauthorized, "M_MISSING_TOKEN")
	})
}
