package clientapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
)

// TestAccountDataRoundTrip: global and per-room account data, each its own
// namespace, private to its owner.
func TestAccountDataRoundTrip(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room := e.room(alice)
		direct := map[string][]string{bob.UserID.String(): {room.String()}}
		require.NoError(t, alice.SetAccountData(e.ctx, "m.direct", direct))
		require.NoError(t, alice.SetRoomAccountData(e.ctx, room, "org.example.cfg", map[string]any{"color": "red"}))
		require.NoError(t, alice.SetAccountData(e.ctx, "org.example.cfg", map[string]any{"color": "blue", "n": 2}))

		var gotDirect map[string][]string
		require.NoError(t, alice.GetAccountData(e.ctx, "m.direct", &gotDirect))
		assert.Equal(t, direct, gotDirect)
		var cfg map[string]any
		require.NoError(t, alice.GetRoomAccountData(e.ctx, room, "org.example.cfg", &cfg))
		assert.Equal(t, map[string]any{"color": "red"}, cfg, "room data does not fall back to global")
		require.NoError(t, alice.GetAccountData(e.ctx, "org.example.cfg", &cfg))
		assert.Equal(t, map[string]any{"color": "blue", "n": float64(2)}, cfg)

		// Overwrite.
		require.NoError(t, alice.SetAccountData(e.ctx, "org.example.cfg", map[string]any{"color": "green"}))
		cfg = nil
		require.NoError(t, alice.GetAccountData(e.ctx, "org.example.cfg", &cfg))
		assert.Equal(t, map[string]any{"color": "green"}, cfg)

		user := "/user/" + esc(alice.UserID.String())
		roomPath := user + "/rooms/" + esc(room.String())
		e.expectErr(e.do(alice, http.MethodGet, user+"/account_data/org.example.none", nil), 404, "M_NOT_FOUND")
		e.expectErr(e.do(alice, http.MethodGet, roomPath+"/account_data/m.direct", nil), 404, "M_NOT_FOUND")
		e.expectErr(e.do(bob, http.MethodGet, user+"/account_data/m.direct", nil), 403, "M_FORBIDDEN")
		e.expectErr(e.do(bob, http.MethodPut, user+"/account_data/m.direct", map[string]any{}), 403, "M_FORBIDDEN")
		e.expectErr(e.do(bob, http.MethodGet, roomPath+"/account_data/org.example.cfg", nil), 403, "M_FORBIDDEN")
		for _, typ := range []string{"m.fully_read", "m.push_rules"} {
			e.expectErr(e.do(alice, http.MethodPut, user+"/account_data/"+typ, map[string]any{}), 405, "M_BAD_JSON")
			e.expectErr(e.do(alice, http.MethodPut, roomPath+"/account_data/"+typ, map[string]any{}), 405, "M_BAD_JSON")
		}
		e.expectErr(e.do(alice, http.MethodPut, user+"/account_data/x", "[1,2]"), 400, "M_BAD_JSON")
		e.expectErr(e.do(alice, http.MethodPut, user+"/account_data/x", "{oops"), 400, "M_NOT_JSON")
		e.expectErr(e.do(alice, http.MethodPut, user+"/account_data/"+strings.Repeat("t", 300), map[string]any{}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(alice, http.MethodPut, user+"/rooms/not-a-room/account_data/x", map[string]any{}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(alice, http.MethodGet, user+"/rooms/not-a-room/account_data/x", nil), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(alice, http.MethodPut, "/user/nobody/account_data/x", map[string]any{}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(alice, http.MethodPut, user+"/account_data/m.ignored_user_list",
			map[string]any{"ignored_users": []string{"@x:y"}}), 400, "M_BAD_JSON")
		var bobCfg map[string]any
		assert.Error(t, bob.GetAccountData(e.ctx, "org.example.cfg", &bobCfg), "bob has none of alice's data")
	})
}

// TestAccountDataInSync: the initial sync carries all account data, global
// and per room; incremental syncs carry each change once.
func TestAccountDataInSync(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room := e.room(alice, bob)
		require.NoError(t, alice.SetAccountData(e.ctx, "m.direct", map[string][]string{bob.UserID.String(): {room.String()}}))
		require.NoError(t, alice.SetRoomAccountData(e.ctx, room, "org.example.room", map[string]any{"a": 1}))

		resp := e.poll(alice, "", 0, "")
		assert.JSONEq(t, `{"`+bob.UserID.String()+`":["`+room.String()+`"]}`, string(accountDataIn(resp, "")["m.direct"]))
		assert.JSONEq(t, `{"a":1}`, string(accountDataIn(resp, room)["org.example.room"]))
		assert.Empty(t, accountDataIn(e.poll(bob, "", 0, ""), ""), "bob sees none of it")

		since := resp.NextBatch
		require.NoError(t, alice.SetRoomAccountData(e.ctx, room, "org.example.room", map[string]any{"a": 2}))
		resp = e.poll(alice, since, 0, "")
		assert.Empty(t, accountDataIn(resp, ""), "global data unchanged")
		rd := accountDataIn(resp, room)
		assert.Len(t, rd, 1)
		assert.JSONEq(t, `{"a":2}`, string(rd["org.example.room"]))
		jr := resp.Rooms.Join[room]
		assert.Empty(t, jr.Timeline.Events, "an entry for account data alone")
		resp = e.poll(alice, resp.NextBatch, 0, "")
		assert.Empty(t, resp.Rooms.Join, "sent once")
		assert.Empty(t, resp.AccountData.Events)

		// The account_data filters.
		require.NoError(t, alice.SetAccountData(e.ctx, "org.example.skip", map[string]any{}))
		filtered, err := alice.SyncRequest(e.ctx, 0, "", `{"account_data":{"not_types":["m.direct"]},"room":{"account_data":{"types":["m.tag"]}}}`, false, event.PresenceOffline)
		require.NoError(t, err)
		assert.NotContains(t, accountDataIn(filtered, ""), "m.direct")
		assert.Contains(t, accountDataIn(filtered, ""), "org.example.skip")
		assert.Empty(t, accountDataIn(filtered, room))
	})
}

// TestTags: tags are the m.tag room account data, edited one at a time.
func TestTags(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room := e.room(alice)
		since := e.poll(alice, "", 0, "").NextBatch
		require.NoError(t, alice.AddTag(e.ctx, room, event.RoomTagFavourite, 0.25))
		require.NoError(t, alice.AddTagWithCustomData(e.ctx, room, "u.work", map[string]any{}))

		tags, err := alice.GetTags(e.ctx, room)
		require.NoError(t, err)
		require.Len(t, tags.Tags, 2)
		order, err := tags.Tags[event.RoomTagFavourite].Order.Float64()
		require.NoError(t, err)
		assert.InDelta(t, 0.25, order, 0)
		assert.Contains(t, tags.Tags, event.RoomTag("u.work"))

		resp := e.poll(alice, since, 0, "")
		var content struct {
			Tags map[string]map[string]any `json:"tags"`
		}
		require.NoError(t, json.Unmarshal(accountDataIn(resp, room)["m.tag"], &content))
		assert.Equal(t, map[string]map[string]any{"m.favourite": {"order": 0.25}, "u.work": {}}, content.Tags)
		since = resp.NextBatch

		require.NoError(t, alice.RemoveTag(e.ctx, room, event.RoomTagFavourite))
		require.NoError(t, alice.RemoveTag(e.ctx, room, "u.never-set"), "removing a missing tag is fine")
		tags, err = alice.GetTags(e.ctx, room)
		require.NoError(t, err)
		assert.Equal(t, []event.RoomTag{"u.work"}, tagNames(tags.Tags))
		resp = e.poll(alice, since, 0, "")
		content.Tags = nil
		require.NoError(t, json.Unmarshal(accountDataIn(resp, room)["m.tag"], &content))
		assert.Equal(t, map[string]map[string]any{"u.work": {}}, content.Tags)

		// A room without tags, another user's tags, bad tags.
		other := e.room(bob)
		tags, err = alice.GetTags(e.ctx, other)
		require.NoError(t, err)
		assert.Empty(t, tags.Tags)
		r := e.do(alice, http.MethodGet, "/user/"+esc(alice.UserID.String())+"/rooms/"+esc(other.String())+"/tags", nil)
		assert.JSONEq(t, `{"tags":{}}`, string(r.raw))
		tagPath := "/user/" + esc(alice.UserID.String()) + "/rooms/" + esc(room.String()) + "/tags/"
		e.expectErr(e.do(bob, http.MethodPut, tagPath+"u.x", map[string]any{}), 403, "M_FORBIDDEN")
		e.expectErr(e.do(bob, http.MethodGet, "/user/"+esc(alice.UserID.String())+"/rooms/"+esc(room.String())+"/tags", nil), 403, "M_FORBIDDEN")
		e.expectErr(e.do(alice, http.MethodPut, tagPath+strings.Repeat("x", 256), map[string]any{}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(alice, http.MethodPut, tagPath+"u.x", map[string]any{"order": "first"}), 400, "M_BAD_JSON")
		e.expectErr(e.do(alice, http.MethodPut, tagPath+"u.x", "[]"), 400, "M_BAD_JSON")
		tags, err = alice.GetTags(e.ctx, room)
		require.NoError(t, err)
		assert.Len(t, tags.Tags, 1, "bad requests changed nothing")
	})
}

func tagNames(m event.Tags) []event.RoomTag {
	var out []event.RoomTag
	for k := range m {
		out = append(out, k)
	}
	return out
}
