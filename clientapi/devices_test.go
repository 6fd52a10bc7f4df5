package clientapi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDevicesReadAndRename(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", map[string]any{"device_id": "AAA", "initial_device_display_name": "Phone"})
		e.login("alice", "pw", map[string]any{"device_id": "BBB"})
		bob := e.register("bob", "pw", map[string]any{"device_id": "BOBDEV"})
		require.NoError(t, e.store.TouchDevice(e.ctx, "alice", "AAA", 1_700_000_123_000, "192.0.2.9"))

		r := e.do("GET", v3+"/devices", nil, alice.token)
		require.Equal(t, 200, r.status)
		assert.Equal(t, map[string]any{"devices": []any{
			map[string]any{"device_id": "AAA", "display_name": "Phone", "last_seen_ip": "192.0.2.9", "last_seen_ts": float64(1_700_000_123_000)},
			map[string]any{"device_id": "BBB"},
		}}, r.body)

		r = e.do("GET", v3+"/devices/AAA", nil, alice.token)
		require.Equal(t, 200, r.status)
		assert.Equal(t, "Phone", r.str("display_name"))
		assert.Equal(t, "AAA", r.str("device_id"))
		e.expectError(e.do("GET", v3+"/devices/NOPE", nil, alice.token), 404, "M_NOT_FOUND")
		e.expectError(e.do("GET", v3+"/devices/BOBDEV", nil, alice.token), 404, "M_NOT_FOUND")

		r = e.do("PUT", v3+"/devices/BBB", map[string]any{"display_name": "Laptop"}, alice.token)
		require.Equal(t, 200, r.status)
		assert.Equal(t, map[string]any{}, r.body)
		assert.Equal(t, "Laptop", e.do("GET", v3+"/devices/BBB", nil, alice.token).str("display_name"))
		// No display_name: nothing changes.
		require.Equal(t, 200, e.do("PUT", v3+"/devices/BBB", map[string]any{}, alice.token).status)
		assert.Equal(t, "Laptop", e.do("GET", v3+"/devices/BBB", nil, alice.token).str("display_name"))
		e.expectError(e.do("PUT", v3+"/devices/BBB", map[string]any{}, ""), 401, "M_MISSING_TOKEN")
		e.expectError(e.do("PUT", v3+"/devices/NOPE", map[string]any{"display_name": "x"}, alice.token), 404, "M_NOT_FOUND")
		e.expectError(e.do("PUT", v3+"/devices/NOPE", map[string]any{}, alice.token), 404, "M_NOT_FOUND")
		e.expectError(e.do("PUT", v3+"/devices/BOBDEV", map[string]any{"display_name": "mine"}, alice.token), 404, "M_NOT_FOUND")
		e.expectError(e.do("PUT", v3+"/devices/BBB", map[string]any{"display_name": strings.Repeat("x", 101)}, alice.token), 400, "M_INVALID_PARAM")
		e.expectError(e.do("PUT", v3+"/devices/BBB", map[string]any{"display_name": 3}, alice.token), 400, "M_BAD_JSON")

		d, err := e.store.GetDevice(e.ctx, "bob", "BOBDEV")
		require.NoError(t, err)
		assert.Empty(t, d.DisplayName, "bob's device is untouched")
		assert.Equal(t, 200, e.whoami(bob.token).status)
	})
}

func TestDeleteDevice(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", map[string]any{"device_id": "MAIN"})
		old := e.login("alice", "pw", map[string]any{"device_id": "OLD"}).str("access_token")
		spare := e.login("alice", "pw", map[string]any{"device_id": "SPARE"}).str("access_token")

		first := e.do("DELETE", v3+"/devices/OLD", nil, alice.token)
		require.Equal(t, 401, first.status)
		session := first.str("session")
		// The session is bound to deleting OLD: it cannot delete SPARE.
		e.expectError(e.do("DELETE", v3+"/devices/SPARE", map[string]any{"auth": passwordAuth(session, "alice", "pw")}, alice.token), 403, "M_FORBIDDEN")
		assert.Equal(t, 200, e.whoami(spare).status)

		r := e.do("DELETE", v3+"/devices/OLD", map[string]any{"auth": passwordAuth(session, "alice", "pw")}, alice.token)
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, map[string]any{}, r.body)
		assert.Equal(t, []string{"MAIN", "SPARE"}, e.deviceIDs("alice"))
		e.expectError(e.whoami(old), 401, "M_UNKNOWN_TOKEN")

		// Deleting a device that is gone succeeds once authenticated.
		r = e.uiaRoundTrip("DELETE", v3+"/devices/OLD", alice.token, map[string]any{}, "alice", "pw")
		require.Equal(t, 200, r.status, "%s", r.raw)

		// Deleting your own device logs you out.
		r = e.uiaRoundTrip("DELETE", v3+"/devices/MAIN", alice.token, map[string]any{}, "alice", "pw")
		require.Equal(t, 200, r.status)
		e.expectError(e.whoami(alice.token), 401, "M_UNKNOWN_TOKEN")
		assert.Equal(t, []string{"SPARE"}, e.deviceIDs("alice"))
	})
}

func TestDeleteDevicesBulk(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", map[string]any{"device_id": "MAIN"})
		a := e.login("alice", "pw", map[string]any{"device_id": "A"}).str("access_token")
		b := e.login("alice", "pw", map[string]any{"device_id": "B"}).str("access_token")
		bob := e.register("bob", "pw", map[string]any{"device_id": "A"})
		path := v3 + "/delete_devices"

		e.expectError(e.do("POST", path, map[string]any{}, alice.token), 400, "M_MISSING_PARAM")
		e.expectError(e.do("POST", path, map[string]any{"devices": "A"}, alice.token), 400, "M_BAD_JSON")
		e.expectError(e.do("POST", path, map[string]any{"devices": []any{1}}, alice.token), 400, "M_BAD_JSON")
		many := make([]string, maxDeleteDevices+1)
		for i := range many {
			many[i] = strings.Repeat("x", i%50) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
		}
		e.expectError(e.do("POST", path, map[string]any{"devices": many}, alice.token), 400, "M_INVALID_PARAM")

		// A wrong password deletes nothing.
		body := map[string]any{"devices": []string{"A", "B", "A", "UNKNOWN"}}
		first := e.do("POST", path, body, alice.token)
		require.Equal(t, 401, first.status)
		body["auth"] = passwordAuth(first.str("session"), "alice", "nope")
		r := e.do("POST", path, body, alice.token)
		require.Equal(t, 401, r.status)
		assert.Equal(t, "M_FORBIDDEN", r.errcode())
		assert.Equal(t, []string{"A", "B", "MAIN"}, e.deviceIDs("alice"))

		// The session is bound to the list: another list is refused.
		body["auth"] = passwordAuth(first.str("session"), "alice", "pw")
		body["devices"] = []string{"MAIN"}
		e.expectError(e.do("POST", path, body, alice.token), 403, "M_FORBIDDEN")

		body["devices"] = []string{"B", "A", "UNKNOWN"} // same set, other order
		r = e.do("POST", path, body, alice.token)
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, []string{"MAIN"}, e.deviceIDs("alice"))
		e.expectError(e.whoami(a), 401, "M_UNKNOWN_TOKEN")
		e.expectError(e.whoami(b), 401, "M_UNKNOWN_TOKEN")
		assert.Equal(t, 200, e.whoami(alice.token).status)
		assert.Equal(t, []string{"A"}, e.deviceIDs("bob"), "bob's device A is not alice's")
		assert.Equal(t, 200, e.whoami(bob.token).status)

		r = e.uiaRoundTrip("POST", path, alice.token, map[string]any{"devices": []string{}}, "alice", "pw")
		require.Equal(t, 200, r.status)
		assert.Equal(t, []string{"MAIN"}, e.deviceIDs("alice"))
	})
}
