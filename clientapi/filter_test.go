package clientapi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/internal/matrixhttp"
)

func TestCapabilities(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", nil)
		r := e.do("GET", v3+"/capabilities", nil, alice.token)
		require.Equal(t, 200, r.status)
		available := map[string]any{"1": "stable", "2": "stable", "3": "stable", "4": "stable", "5": "stable", "6": "stable",
			"7": "stable", "8": "stable", "9": "stable", "10": "stable", "11": "stable", "12": "stable"}
		assert.Equal(t, map[string]any{"capabilities": map[string]any{
			"m.change_password": map[string]any{"enabled": true},
			"m.room_versions":   map[string]any{"default": "10", "available": available},
			"m.set_displayname": map[string]any{"enabled": true},
			"m.set_avatar_url":  map[string]any{"enabled": true},
			"m.3pid_changes":    map[string]any{"enabled": false},
		}}, r.body)
		e.expectError(e.do("GET", v3+"/capabilities", nil, ""), 401, "M_MISSING_TOKEN")
	}, func(c *config.Config) { c.Rooms.DefaultVersion = "10" })
}

func TestFilters(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", nil)
		bob := e.register("bob", "pw", nil)
		path := v3 + "/user/@alice:test.local/filter"
		filter := `{
			"room": {
				"state": {"types": ["m.room.*"], "not_rooms": ["!726s6s6q:example.com"], "lazy_load_members": true},
				"timeline": {"limit": 10, "types": ["m.room.message"], "not_senders": ["@spam:example.com"], "contains_url": false},
				"ephemeral": {"types": ["m.receipt", "m.typing"], "unread_thread_notifications": true},
				"rooms": ["!aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
				"include_leave": true
			},
			"presence": {"types": ["m.presence"], "not_senders": ["@alice:example.com"], "limit": 5},
			"account_data": {"not_types": ["m.push_rules"]},
			"event_format": "client",
			"event_fields": ["type", "content", "sender"],
			"org.example.custom": {"kept": [1, 2]}
		}`
		r := e.do("POST", path, filter, alice.token)
		require.Equal(t, 200, r.status, "%s", r.raw)
		id := r.str("filter_id")
		require.NotEmpty(t, id)
		assert.NotEqual(t, byte('{'), id[0])

		got := e.do("GET", path+"/"+id, nil, alice.token)
		require.Equal(t, 200, got.status)
		var want map[string]any
		require.NoError(t, json.Unmarshal([]byte(filter), &want))
		assert.Equal(t, want, got.body, "the filter comes back as uploaded, unknown fields included")
		assert.NotContains(t, string(got.raw), "\n\t", "stored in canonical form")

		// The same filter, keys reordered: the same ID. Another filter: another ID.
		same := `{"event_fields":["type","content","sender"],"event_format":"client","account_data":{"not_types":["m.push_rules"]},` +
			`"presence":{"limit":5,"not_senders":["@alice:example.com"],"types":["m.presence"]},"org.example.custom":{"kept":[1,2]},` +
			`"room":{"include_leave":true,"rooms":["!aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],"ephemeral":{"unread_thread_notifications":true,"types":["m.receipt","m.typing"]},` +
			`"timeline":{"contains_url":false,"not_senders":["@spam:example.com"],"types":["m.room.message"],"limit":10},` +
			`"state":{"lazy_load_members":true,"not_rooms":["!726s6s6q:example.com"],"types":["m.room.*"]}}}`
		assert.Equal(t, id, e.do("POST", path, same, alice.token).str("filter_id"))
		other := e.do("POST", path, `{}`, alice.token)
		require.Equal(t, 200, other.status)
		assert.NotEqual(t, id, other.str("filter_id"))
		assert.Equal(t, map[string]any{}, e.do("GET", path+"/"+other.str("filter_id"), nil, alice.token).body)

		// Filters are private.
		e.expectError(e.do("GET", path+"/"+id, nil, bob.token), 403, "M_FORBIDDEN")
		e.expectError(e.do("POST", path, `{}`, bob.token), 403, "M_FORBIDDEN")
		e.expectError(e.do("GET", v3+"/user/@bob:test.local/filter/"+id, nil, bob.token), 404, "M_NOT_FOUND")
		e.expectError(e.do("GET", v3+"/user/@alice:elsewhere.org/filter/"+id, nil, alice.token), 403, "M_FORBIDDEN")
		e.expectError(e.do("GET", v3+"/user/alice/filter/"+id, nil, alice.token), 400, "M_INVALID_PARAM")
		e.expectError(e.do("GET", path+"/999999", nil, alice.token), 404, "M_NOT_FOUND")
		e.expectError(e.do("GET", path+"/notanumber", nil, alice.token), 404, "M_NOT_FOUND")
		e.expectError(e.do("GET", path+"/"+id, nil, ""), 401, "M_MISSING_TOKEN")

		// The stored filter serves /sync's filter parameter.
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/", nil)
		body, err := e.api.storedFilter(c, Session{Localpart: "alice"}, id)
		require.NoError(t, err)
		assert.JSONEq(t, string(got.raw), string(body))
		_, err = e.api.storedFilter(c, Session{Localpart: "bob"}, id)
		var me *matrixhttp.Error
		require.ErrorAs(t, err, &me)
		assert.Equal(t, "M_INVALID_PARAM", me.ErrCode)
	})
}

func TestFilterValidation(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", nil)
		path := v3 + "/user/@alice:test.local/filter"
		for _, tc := range []struct {
			name, body string
			status     int
			errcode    string
		}{
			{"not json", `{"room":`, 400, "M_NOT_JSON"},
			{"array", `[]`, 400, "M_BAD_JSON"},
			{"string", `"filter"`, 400, "M_BAD_JSON"},
			{"room not an object", `{"room": []}`, 400, "M_BAD_JSON"},
			{"timeline not an object", `{"room": {"timeline": "all"}}`, 400, "M_BAD_JSON"},
			{"limit is a string", `{"room": {"timeline": {"limit": "10"}}}`, 400, "M_BAD_JSON"},
			{"limit is a fraction", `{"presence": {"limit": 1.5}}`, 400, "M_BAD_JSON"},
			{"limit zero", `{"room": {"timeline": {"limit": 0}}}`, 400, "M_INVALID_PARAM"},
			{"limit negative", `{"account_data": {"limit": -1}}`, 400, "M_INVALID_PARAM"},
			{"types not a list", `{"presence": {"types": "m.presence"}}`, 400, "M_BAD_JSON"},
			{"types of numbers", `{"presence": {"types": [1]}}`, 400, "M_BAD_JSON"},
			{"not_types of objects", `{"room": {"state": {"not_types": [{}]}}}`, 400, "M_BAD_JSON"},
			{"bad sender", `{"room": {"timeline": {"senders": ["alice"]}}}`, 400, "M_INVALID_PARAM"},
			{"bad not_sender", `{"presence": {"not_senders": ["@alice"]}}`, 400, "M_INVALID_PARAM"},
			{"bad room", `{"room": {"rooms": ["#alias:example.org"]}}`, 400, "M_INVALID_PARAM"},
			{"bad not_room", `{"room": {"not_rooms": ["!short"]}}`, 400, "M_INVALID_PARAM"},
			{"bad room in event filter", `{"room": {"ephemeral": {"rooms": ["room"]}}}`, 400, "M_INVALID_PARAM"},
			{"bad event_format", `{"event_format": "xml"}`, 400, "M_INVALID_PARAM"},
			{"event_format not a string", `{"event_format": 1}`, 400, "M_BAD_JSON"},
			{"event_fields not a list", `{"event_fields": "type"}`, 400, "M_BAD_JSON"},
			{"lazy_load_members not a bool", `{"room": {"state": {"lazy_load_members": "yes"}}}`, 400, "M_BAD_JSON"},
			{"include_leave not a bool", `{"room": {"include_leave": 1}}`, 400, "M_BAD_JSON"},
			{"too large", `{"event_fields": ["` + strings.Repeat("a", maxFilterBytes) + `"]}`, 413, "M_TOO_LARGE"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := e.sub(t)
				e.expectError(e.do("POST", path, tc.body, alice.token), tc.status, tc.errcode)
			})
		}
		// Nulls are the same as absent fields.
		r := e.do("POST", path, `{"room": {"timeline": null, "rooms": null}, "presence": null}`, alice.token)
		assert.Equal(t, 200, r.status, "%s", r.raw)
		// A federation-format filter with room version 12 style room IDs is fine.
		r = e.do("POST", path, `{"event_format": "federation", "room": {"not_rooms": ["!aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}}`, alice.token)
		assert.Equal(t, 200, r.status, "%s", r.raw)
	})
}
