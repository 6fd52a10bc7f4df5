package clientapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/storagetest"
	"github.com/concordchat/concord/syncapi"
)

// fixedCounts is an UnreadCounter with set answers.
type fixedCounts map[string]syncapi.UnreadCounts

func (f fixedCounts) UnreadCounts(_ context.Context, _ string, roomIDs []string) (map[string]syncapi.UnreadCounts, error) {
	out := map[string]syncapi.UnreadCounts{}
	for _, r := range roomIDs {
		out[r] = f[r]
	}
	return out, nil
}

// TestSyncUnreadThreadNotifications: with room.timeline
// unread_thread_notifications, the room's counts are the main timeline's
// and each thread with notifications has its own; without it, the totals.
func TestSyncUnreadThreadNotifications(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		counts := fixedCounts{}
		wire := stWire(stOptions{presence: syncapi.PresenceOptions{Disabled: true}})
		e := &stEnv{newRoomsEnv(t, db, func(re *roomsEnv, rs *roomserver.Deps, sd *syncapi.Deps, ad *Deps) {
			wire(re, rs, sd, ad)
			sd.Unread = counts
		})}
		alice := e.user("alice")
		room := e.room(alice)
		counts[room.String()] = syncapi.UnreadCounts{NotificationCount: 9, HighlightCount: 3, Threads: map[string]syncapi.UnreadCounts{
			"$t1": {NotificationCount: 4, HighlightCount: 1}, "$t2": {NotificationCount: 0}}}

		get := func(filter string) map[string]json.RawMessage {
			r := e.do(alice, http.MethodGet, "/sync?set_presence=offline&filter="+url.QueryEscape(filter), nil)
			require.Equal(t, 200, r.status, "%s", r.raw)
			var body struct {
				Rooms struct {
					Join map[string]map[string]json.RawMessage `json:"join"`
				} `json:"rooms"`
			}
			require.NoError(t, json.Unmarshal(r.raw, &body))
			return body.Rooms.Join[room.String()]
		}
		jr := get(`{"room":{"timeline":{"unread_thread_notifications":true}}}`)
		assert.JSONEq(t, `{"notification_count":5,"highlight_count":2}`, string(jr["unread_notifications"]))
		assert.JSONEq(t, `{"$t1":{"notification_count":4,"highlight_count":1}}`, string(jr["unread_thread_notifications"]),
			"threads without notifications are left out")
		jr = get(`{}`)
		assert.JSONEq(t, `{"notification_count":9,"highlight_count":3}`, string(jr["unread_notifications"]))
		assert.NotContains(t, jr, "unread_thread_notifications")
	})
}
