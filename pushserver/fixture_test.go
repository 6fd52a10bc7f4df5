package pushserver

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/push"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/syncapi"
)

const (
	server = "hs.test"
	alice  = "@alice:hs.test"
	bob    = "@bob:hs.test"
	carol  = "@carol:hs.test"
)

// fixture is a roomserver whose outputs go to a push worker, over one
// database, without HTTP.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	store  *push.Store
	rooms  *rooms.Store
	rules  *Rules
	worker *Worker
	inbox  *Inbox
	rs     *roomserver.RoomServer
}

func newFixture(t *testing.T, db *storage.DB, queueSize int, start bool) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), rooms: rooms.New(db)}
	var err error
	f.store, err = push.New(push.Deps{DB: db})
	require.NoError(t, err)
	f.rules, err = NewRules(RulesDeps{Store: f.store})
	require.NoError(t, err)
	f.worker, err = NewWorker(WorkerDeps{Rules: f.rules, Store: f.store, RoomStore: f.rooms, ServerName: server,
		Logger: zaptest.NewLogger(t), QueueSize: queueSize})
	require.NoError(t, err)
	key, err := signing.GenerateKey(server)
	require.NoError(t, err)
	f.rs, err = roomserver.New(f.ctx, roomserver.Deps{Store: f.rooms, Key: key, Logger: zaptest.NewLogger(t),
		Notifier: roomserver.Notifiers{f.worker}})
	require.NoError(t, err)
	f.inbox, err = NewInbox(InboxDeps{Store: f.store, RoomStore: f.rooms, Worker: f.worker, Position: f.rs.StreamPosition})
	require.NoError(t, err)
	if start {
		f.start()
	}
	return f
}

func (f *fixture) start() {
	require.NoError(f.t, f.worker.Start(f.ctx))
	f.t.Cleanup(f.worker.Stop)
}

func raw(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

func sk(s string) *string { return &s }

// member is a join with a display name ("" for none).
func member(user, name string) roomserver.Proposal {
	content := map[string]any{"membership": "join"}
	if name != "" {
		content["displayname"] = name
	}
	return roomserver.Proposal{Type: event.TypeMember, StateKey: sk(user), Sender: user, Content: raw(content)}
}

// room creates a public room of alice (room version 10: power levels decide
// everything) that the others join, with display names "Alice", "Bobby" and
// "Carol".
func (f *fixture) room(others ...string) string {
	f.t.Helper()
	v := roomversion.MustGet("10")
	roomID, _, err := f.rs.CreateRoom(f.ctx, v, alice, nil, []roomserver.Proposal{
		member(alice, "Alice"),
		{Type: event.TypePowerLevels, StateKey: sk(""), Sender: alice, Content: raw(map[string]any{"users": map[string]any{alice: 100}})},
		{Type: event.TypeJoinRules, StateKey: sk(""), Sender: alice, Content: raw(map[string]any{"join_rule": "public"})},
	})
	require.NoError(f.t, err)
	names := map[string]string{bob: "Bobby", carol: "Carol"}
	for _, u := range others {
		f.sendProposal(roomID, member(u, names[u]))
	}
	return roomID
}

func (f *fixture) sendProposal(roomID string, p roomserver.Proposal) string {
	f.t.Helper()
	out, err := f.rs.Send(f.ctx, roomID, p)
	require.NoError(f.t, err)
	return out.Event.ID()
}

// msg sends an event of type typ (m.room.message when "") with content.
func (f *fixture) msg(roomID, sender string, content map[string]any, typ ...string) string {
	t := "m.room.message"
	if len(typ) > 0 {
		t = typ[0]
	}
	return f.sendProposal(roomID, roomserver.Proposal{Type: t, Sender: sender, Content: raw(content)})
}

func text(body string) map[string]any { return map[string]any{"msgtype": "m.text", "body": body} }

// counts returns a user's unread counts in a room.
func (f *fixture) counts(user, roomID string) syncapi.UnreadCounts {
	f.t.Helper()
	uc, err := f.inbox.UnreadCounts(f.ctx, user, []string{roomID})
	require.NoError(f.t, err)
	return uc[roomID]
}

func uc(n, h int) syncapi.UnreadCounts {
	return syncapi.UnreadCounts{NotificationCount: n, HighlightCount: h}
}
