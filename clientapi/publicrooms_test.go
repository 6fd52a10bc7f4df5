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

// roomIDs lists the room IDs of a directory page.
func roomIDs(chunk []*mautrix.PublicRoomInfo) []id.RoomID {
	out := []id.RoomID{}
	for _, r := range chunk {
		out = append(out, r.RoomID)
	}
	return out
}

// dirFilterReq is the body of POST /publicRooms.
type dirFilterReq struct {
	Limit  int            `json:"limit,omitempty"`
	Since  string         `json:"since,omitempty"`
	Filter map[string]any `json:"filter,omitempty"`

	IncludeAllNetworks   bool   `json:"include_all_networks,omitempty"`
	ThirdPartyInstanceID string `json:"third_party_instance_id,omitempty"`
}

func TestPublicRoomDirectory(t *testing.T) {
	forEachDirEnv(t, func(t *testing.T, e *dirEnv) {
		alice, bob, carol, dave := e.user("alice"), e.user("bob"), e.user("carol"), e.user("dave")
		ctx := e.ctx
		name := func(s string) string { return s }
		join := func(cli *mautrix.Client, room id.RoomID) {
			_, err := cli.JoinRoomByID(ctx, room)
			require.NoError(t, err)
		}
		lounge := e.createRoom(alice, &mautrix.ReqCreateRoom{Visibility: "public", Preset: "public_chat", Name: name("Big lounge"),
			Topic: "General chat", RoomAliasName: "lounge"})
		join(bob, lounge)
		join(carol, lounge)
		cooking := e.createRoom(alice, &mautrix.ReqCreateRoom{Visibility: "public", Preset: "public_chat", Name: "Medium room", Topic: "Cooking"})
		join(bob, cooking)
		space := e.createRoom(carol, &mautrix.ReqCreateRoom{Visibility: "public", Preset: "public_chat", Name: "A space",
			CreationContent: map[string]any{"type": "m.space"},
			InitialState: []*event.Event{{Type: event.StateRoomAvatar, Content: event.Content{Raw: map[string]any{"url": "mxc://hs/space"}}},
				{Type: event.StateGuestAccess, Content: event.Content{Raw: map[string]any{"guest_access": "can_join"}}}}})
		inviteOnly := e.createRoom(alice, &mautrix.ReqCreateRoom{Visibility: "public", Preset: "private_chat", Name: "Secret"})
		readable := e.createRoom(bob, &mautrix.ReqCreateRoom{Visibility: "public", Preset: "private_chat", Name: "Readable",
			InitialState: []*event.Event{{Type: event.StateHistoryVisibility, Content: event.Content{Raw: map[string]any{"history_visibility": "world_readable"}}}}})
		unlisted := e.createRoom(dave, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "Unlisted"})
		knockable := e.createRoom(dave, &mautrix.ReqCreateRoom{Visibility: "public", Preset: "private_chat", Name: "Knock here",
			InitialState: []*event.Event{{Type: event.StateJoinRules, Content: event.Content{Raw: map[string]any{"join_rule": "knock"}}}}})

		// Listed: published rooms anyone may join, knock on or read, the
		// largest first, then by room ID.
		resp, err := e.anonymous().PublicRooms(ctx, &mautrix.ReqPublicRooms{})
		require.NoError(t, err)
		ones := sortedIDs(space, readable, knockable)
		want := append([]id.RoomID{lounge, cooking}, ones...)
		assert.Equal(t, want, roomIDs(resp.Chunk))
		assert.Equal(t, 5, resp.TotalRoomCountEstimate)
		assert.Empty(t, resp.NextBatch)
		assert.Empty(t, resp.PrevBatch)
		byID := map[id.RoomID]*mautrix.PublicRoomInfo{}
		for _, r := range resp.Chunk {
			byID[r.RoomID] = r
		}
		l := byID[lounge]
		assert.Equal(t, "Big lounge", l.Name)
		assert.Equal(t, "General chat", l.Topic)
		assert.Equal(t, id.RoomAlias("#lounge:"+testServerName), l.CanonicalAlias)
		assert.Equal(t, 3, l.NumJoinedMembers)
		assert.Equal(t, event.JoinRulePublic, l.JoinRule)
		assert.False(t, l.WorldReadable)
		assert.False(t, l.GuestCanJoin)
		assert.Empty(t, l.RoomType)
		assert.Equal(t, 2, byID[cooking].NumJoinedMembers)
		s := byID[space]
		assert.Equal(t, event.RoomTypeSpace, s.RoomType)
		assert.Equal(t, id.ContentURIString("mxc://hs/space"), s.AvatarURL)
		assert.True(t, s.GuestCanJoin)
		assert.True(t, byID[readable].WorldReadable)
		assert.Equal(t, event.JoinRuleInvite, byID[readable].JoinRule)
		assert.Equal(t, event.JoinRuleKnock, byID[knockable].JoinRule)
		assert.NotContains(t, byID, inviteOnly)
		assert.NotContains(t, byID, unlisted)

		// Pages of two, forwards and back.
		var walked []id.RoomID
		var pages []*mautrix.RespPublicRooms
		since := ""
		for {
			page, err := alice.PublicRooms(ctx, &mautrix.ReqPublicRooms{Limit: 2, Since: since})
			require.NoError(t, err)
			assert.Equal(t, 5, page.TotalRoomCountEstimate)
			assert.Equal(t, len(pages) > 0, page.PrevBatch != "", "prev_batch only after the first page")
			pages = append(pages, page)
			walked = append(walked, roomIDs(page.Chunk)...)
			if page.NextBatch == "" {
				break
			}
			since = page.NextBatch
		}
		assert.Equal(t, want, walked)
		require.Len(t, pages, 3)
		assert.Len(t, pages[2].Chunk, 1)
		back, err := alice.PublicRooms(ctx, &mautrix.ReqPublicRooms{Limit: 2, Since: pages[2].PrevBatch})
		require.NoError(t, err)
		assert.Equal(t, roomIDs(pages[1].Chunk), roomIDs(back.Chunk))
		assert.Equal(t, pages[1].NextBatch, back.NextBatch)
		back, err = alice.PublicRooms(ctx, &mautrix.ReqPublicRooms{Limit: 2, Since: back.PrevBatch})
		require.NoError(t, err)
		assert.Equal(t, roomIDs(pages[0].Chunk), roomIDs(back.Chunk))
		assert.Empty(t, back.PrevBatch)

		// POST with filters.
		post := func(body dirFilterReq) *mautrix.RespPublicRooms {
			t.Helper()
			var out mautrix.RespPublicRooms
			require.NoError(t, e.do(bob, http.MethodPost, mautrix.ClientURLPath{"v3", "publicRooms"}, nil, body, &out))
			return &out
		}
		got := post(dirFilterReq{Filter: map[string]any{"generic_search_term": "cook"}})
		assert.Equal(t, []id.RoomID{cooking}, roomIDs(got.Chunk))
		assert.Equal(t, 1, got.TotalRoomCountEstimate)
		assert.Equal(t, []id.RoomID{lounge}, roomIDs(post(dirFilterReq{Filter: map[string]any{"generic_search_term": "LOUNGE:"}}).Chunk),
			"the canonical alias matches too")
		assert.Equal(t, []id.RoomID{space}, roomIDs(post(dirFilterReq{Filter: map[string]any{"room_types": []any{"m.space"}}}).Chunk))
		assert.Equal(t, append([]id.RoomID{lounge, cooking}, sortedIDs(readable, knockable)...),
			roomIDs(post(dirFilterReq{Filter: map[string]any{"room_types": []any{nil}}}).Chunk))
		assert.Equal(t, want, roomIDs(post(dirFilterReq{IncludeAllNetworks: true}).Chunk))
		assert.Empty(t, post(dirFilterReq{ThirdPartyInstanceID: "irc"}).Chunk)
		got = post(dirFilterReq{Limit: 1, Filter: map[string]any{"generic_search_term": "e"}})
		assert.Equal(t, []id.RoomID{lounge}, roomIDs(got.Chunk))
		got = post(dirFilterReq{Limit: 1, Since: got.NextBatch, Filter: map[string]any{"generic_search_term": "e"}})
		assert.Equal(t, []id.RoomID{cooking}, roomIDs(got.Chunk))

		// Entries follow the rooms' state.
		_, err = alice.SendStateEvent(ctx, cooking, event.StateRoomName, "", map[string]any{"name": "Kitchen"})
		require.NoError(t, err)
		_, err = bob.LeaveRoom(ctx, lounge)
		require.NoError(t, err)
		_, err = carol.LeaveRoom(ctx, lounge)
		require.NoError(t, err)
		resp, err = alice.PublicRooms(ctx, &mautrix.ReqPublicRooms{Limit: 2})
		require.NoError(t, err)
		assert.Equal(t, []id.RoomID{cooking}, roomIDs(resp.Chunk)[:1])
		assert.Equal(t, "Kitchen", resp.Chunk[0].Name)

		// Bad input.
		requireMatrixErr(t, e.do(bob, http.MethodGet, mautrix.ClientURLPath{"v3", "publicRooms"}, map[string]string{"since": "garbage"}, nil, nil),
			http.StatusBadRequest, "M_INVALID_PARAM")
		requireMatrixErr(t, e.do(bob, http.MethodGet, mautrix.ClientURLPath{"v3", "publicRooms"}, map[string]string{"limit": "-1"}, nil, nil),
			http.StatusBadRequest, "M_INVALID_PARAM")
		requireMatrixErr(t, e.do(bob, http.MethodGet, mautrix.ClientURLPath{"v3", "publicRooms"}, map[string]string{"limit": "ten"}, nil, nil),
			http.StatusBadRequest, "M_INVALID_PARAM")
		requireMatrixErr(t, e.do(bob, http.MethodGet, mautrix.ClientURLPath{"v3", "publicRooms"}, map[string]string{"server": "elsewhere.test"}, nil, nil),
			http.StatusBadRequest, "M_INVALID_PARAM")
		requireMatrixErr(t, e.do(bob, http.MethodPost, mautrix.ClientURLPath{"v3", "publicRooms"}, nil, map[string]any{"limit": "ten"}, nil),
			http.StatusBadRequest, "M_BAD_JSON")
		requireMatrixErr(t, e.do(e.anonymous(), http.MethodPost, mautrix.ClientURLPath{"v3", "publicRooms"}, nil, map[string]any{}, nil),
			http.StatusUnauthorized, "M_MISSING_TOKEN")
	})
}

func TestRoomDirectoryVisibility(t *testing.T) {
	forEachDirEnv(t, func(t *testing.T, e *dirEnv) {
		admin, bob, carol := e.user("admin"), e.user("bob"), e.user("carol")
		ctx := e.ctx
		vis := func(room id.RoomID) string {
			t.Helper()
			var out struct {
				Visibility string `json:"visibility"`
			}
			require.NoError(t, e.do(e.anonymous(), http.MethodGet, mautrix.ClientURLPath{"v3", "directory", "list", "room", room}, nil, nil, &out))
			return out.Visibility
		}
		put := func(cli *mautrix.Client, room id.RoomID, body any) error {
			return e.do(cli, http.MethodPut, mautrix.ClientURLPath{"v3", "directory", "list", "room", room}, nil, body, nil)
		}
		listed := func() []id.RoomID {
			resp, err := carol.PublicRooms(ctx, &mautrix.ReqPublicRooms{})
			require.NoError(t, err)
			return roomIDs(resp.Chunk)
		}

		room := e.createRoom(bob, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "Bob's"})
		_, err := carol.JoinRoomByID(ctx, room)
		require.NoError(t, err)
		assert.Equal(t, "private", vis(room))
		assert.Empty(t, listed())

		// Members without the power to set the canonical alias, and
		// non-members, may not publish.
		requireMatrixErr(t, put(carol, room, map[string]any{"visibility": "public"}), http.StatusForbidden, "M_FORBIDDEN")
		other := e.user("dave")
		requireMatrixErr(t, put(other, room, map[string]any{"visibility": "public"}), http.StatusForbidden, "M_FORBIDDEN")
		assert.Equal(t, "private", vis(room))

		// The creator may; visibility defaults to public.
		require.NoError(t, put(bob, room, map[string]any{}))
		assert.Equal(t, "public", vis(room))
		assert.Equal(t, []id.RoomID{room}, listed())
		require.NoError(t, put(bob, room, map[string]any{"visibility": "public"}), "publishing twice is fine")
		require.NoError(t, put(bob, room, map[string]any{"visibility": "private"}))
		assert.Equal(t, "private", vis(room))
		assert.Empty(t, listed())

		// A server admin may, without being in the room.
		require.NoError(t, put(admin, room, map[string]any{"visibility": "public"}))
		assert.Equal(t, []id.RoomID{room}, listed())

		// Giving carol the power lets her hide it (bob, the room version
		// 12 creator, is above the users list).
		_, err = bob.SendStateEvent(ctx, room, event.StatePowerLevels, "", map[string]any{
			"users": map[string]any{carol.UserID.String(): 50}})
		require.NoError(t, err)
		require.NoError(t, put(carol, room, map[string]any{"visibility": "private"}))
		assert.Empty(t, listed())

		// Bad input and unknown rooms.
		requireMatrixErr(t, put(bob, room, map[string]any{"visibility": "secret"}), http.StatusBadRequest, "M_INVALID_PARAM")
		requireMatrixErr(t, put(bob, room, map[string]any{"visibility": 1}), http.StatusBadRequest, "M_BAD_JSON")
		unknown := id.RoomID("!nothere:" + testServerName)
		requireMatrixErr(t, put(admin, unknown, map[string]any{"visibility": "public"}), http.StatusNotFound, "M_NOT_FOUND")
		requireMatrixErr(t, put(bob, unknown, map[string]any{"visibility": "public"}), http.StatusNotFound, "M_NOT_FOUND")
		requireMatrixErr(t, e.do(e.anonymous(), http.MethodGet, mautrix.ClientURLPath{"v3", "directory", "list", "room", unknown}, nil, nil, nil),
			http.StatusNotFound, "M_NOT_FOUND")
		requireMatrixErr(t, e.do(e.anonymous(), http.MethodGet, mautrix.ClientURLPath{"v3", "directory", "list", "room", "nope"}, nil, nil, nil),
			http.StatusBadRequest, "M_INVALID_PARAM")
		requireMatrixErr(t, put(e.anonymous(), room, map[string]any{"visibility": "public"}), http.StatusUnauthorized, "M_MISSING_TOKEN")
	})
}

// sortedIDs returns the room IDs in ascending order.
func sortedIDs(ids ...id.RoomID) []id.RoomID {
	out := append([]id.RoomID(nil), ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
