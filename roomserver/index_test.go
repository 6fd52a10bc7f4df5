package roomserver

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/relations"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/search"
	"github.com/concordchat/concord/storage/storagetest"
)

// indexRoom is a room of the local @alice:hs.test that events from
// remote.test are committed to directly, as the federation input will.
type indexRoom struct {
	t      *testing.T
	ctx    context.Context
	rs     *RoomServer
	store  *rooms.Store
	rel    *relations.Store
	search *search.Store
	id     string
}

const (
	idxAlice  = "@alice:hs.test"
	idxRemote = "@bob:remote.test"
)

func newIndexRoom(t *testing.T, db *storage.DB) *indexRoom {
	ctx := context.Background()
	store := rooms.New(db)
	rs, err := New(ctx, Deps{Store: store, Key: roomtest.Key("hs.test"), Logger: zaptest.NewLogger(t)})
	require.NoError(t, err)
	v, err := roomversion.Get("11")
	require.NoError(t, err)
	empty := ""
	member := func(u string) Proposal {
		return Proposal{Type: event.TypeMember, StateKey: &u, Sender: u, Content: json.RawMessage(`{"membership":"join"}`)}
	}
	roomID, _, err := rs.CreateRoom(ctx, v, idxAlice, nil, []Proposal{member(idxAlice),
		{Type: event.TypePowerLevels, StateKey: &empty, Sender: idxAlice, Content: json.RawMessage(`{"users":{"@alice:hs.test":100}}`)},
		{Type: event.TypeJoinRules, StateKey: &empty, Sender: idxAlice, Content: json.RawMessage(`{"join_rule":"public"}`)}})
	require.NoError(t, err)
	return &indexRoom{t: t, ctx: ctx, rs: rs, store: store, rel: relations.New(db), search: search.New(db), id: roomID}
}

// remote builds an event of remote.test on the room's current extremities
// without storing it.
func (ir *indexRoom) remote(typ string, content any, redacts string) *event.Event {
	r := ir.rs.roomFor(ir.id)
	r.mu.Lock()
	defer r.mu.Unlock()
	raw, err := json.Marshal(content)
	require.NoError(ir.t, err)
	ev, err := event.Builder{Version: r.version, RoomID: ir.id, Type: typ, Sender: idxRemote, Content: json.RawMessage(raw),
		Redacts: redacts, PrevEvents: newBatch(r).prev(), AuthEvents: []*event.Event{r.create},
		OriginServerTS: ir.rs.now()}.Build(roomtest.Key("remote.test"))
	require.NoError(ir.t, err)
	return ev
}

// commit stores events as the federation input will: no local auth, the
// same commit path.
func (ir *indexRoom) commit(evs ...*event.Event) {
	r := ir.rs.roomFor(ir.id)
	r.mu.Lock()
	defer r.mu.Unlock()
	b := newBatch(r)
	for _, e := range evs {
		b.add(e)
		b.txns = append(b.txns, Proposal{})
	}
	_, err := ir.rs.commit(ir.ctx, r, b, false)
	require.NoError(ir.t, err)
}

func (ir *indexRoom) stored(id string) rooms.StoredEvent {
	evs, err := ir.store.EventsByID(ir.ctx, []string{id})
	require.NoError(ir.t, err)
	require.Len(ir.t, evs, 1)
	return evs[0]
}

func (ir *indexRoom) searchHits(term string) int {
	info, err := ir.store.Room(ir.ctx, ir.id)
	require.NoError(ir.t, err)
	hits, err := ir.search.Search(ir.ctx, search.Query{Terms: search.Terms(term), RoomNIDs: []int64{info.NID}, Limit: 10})
	require.NoError(ir.t, err)
	return len(hits)
}

// TestRedactionBeforeItsEvent: a redaction that arrives before the event it
// redacts waits, and is applied when the event is stored: the event is kept
// in redacted form and stays out of the indexes.
func TestRedactionBeforeItsEvent(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ir := newIndexRoom(t, db)
		late := ir.remote("m.room.message", map[string]any{"body": "arrives late", "msgtype": "m.text"}, "")
		out, err := ir.rs.Send(ir.ctx, ir.id, Proposal{Type: event.TypeRedaction, Sender: idxAlice, Redacts: late.ID(),
			Content: json.RawMessage(`{"reason":"spam"}`)})
		require.NoError(t, err)
		applied, err := ir.rel.AppliedRedactions(ir.ctx, []string{late.ID()})
		require.NoError(t, err)
		assert.Empty(t, applied, "nothing to apply yet")

		ir.commit(late)
		se := ir.stored(late.ID())
		assert.True(t, se.Event.Redacted())
		assert.JSONEq(t, `{}`, string(se.Event.Content()))
		applied, err = ir.rel.AppliedRedactions(ir.ctx, []string{late.ID()})
		require.NoError(t, err)
		assert.Equal(t, map[string]int64{late.ID(): ir.stored(out.Event.ID()).NID}, applied)
		assert.Zero(t, ir.searchHits("arrives"))
	})
}

// TestRemoteRelationsAndRedactions: remote events relating to unknown events
// are indexed (the parent may come later), those relating to an event of
// another room are not; a remote user without the redact level cannot
// redact a local user's event, while a redaction on the same server can.
func TestRemoteRelationsAndRedactions(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ir := newIndexRoom(t, db)
		other := newIndexRoomOn(t, ir)
		local, err := ir.rs.Send(ir.ctx, ir.id, Proposal{Type: "m.room.message", Sender: idxAlice,
			Content: json.RawMessage(`{"body":"local words","msgtype":"m.text"}`)})
		require.NoError(t, err)
		foreign, err := ir.rs.Send(ir.ctx, other, Proposal{Type: "m.room.message", Sender: idxAlice,
			Content: json.RawMessage(`{"body":"elsewhere","msgtype":"m.text"}`)})
		require.NoError(t, err)

		toUnknown := ir.remote("m.room.message", map[string]any{"body": "in a thread", "msgtype": "m.text",
			"m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": "$not-here-yet"}}, "")
		ir.commit(toUnknown)
		toForeign := ir.remote("m.reaction", map[string]any{
			"m.relates_to": map[string]any{"rel_type": "m.annotation", "event_id": foreign.Event.ID(), "key": "x"}}, "")
		ir.commit(toForeign)
		kids, err := ir.rel.Children(ir.ctx, relations.ChildQuery{ParentIDs: []string{"$not-here-yet", foreign.Event.ID()}})
		require.NoError(t, err)
		require.Len(t, kids, 1)
		assert.Equal(t, toUnknown.ID(), kids[0].EventID)
		assert.Equal(t, relations.RelThread, kids[0].RelType)

		// bob of remote.test has power level 0: his redaction is stored, not applied.
		remoteRed := ir.remote(event.TypeRedaction, map[string]any{"redacts": local.Event.ID()}, local.Event.ID())
		ir.commit(remoteRed)
		assert.False(t, ir.stored(local.Event.ID()).Event.Redacted())
		assert.Equal(t, 1, ir.searchHits("local words"))
		// His own event he may redact: same server.
		mine := ir.remote("m.room.message", map[string]any{"body": "bob's words", "msgtype": "m.text"}, "")
		ir.commit(mine)
		assert.Equal(t, 1, ir.searchHits("bob's words"))
		ir.commit(ir.remote(event.TypeRedaction, map[string]any{"redacts": mine.ID()}, mine.ID()))
		assert.True(t, ir.stored(mine.ID()).Event.Redacted())
		assert.Zero(t, ir.searchHits("bob's words"))
	})
}

// newIndexRoomOn makes a second room on the same roomserver.
func newIndexRoomOn(t *testing.T, ir *indexRoom) string {
	v, err := roomversion.Get("11")
	require.NoError(t, err)
	u := idxAlice
	roomID, _, err := ir.rs.CreateRoom(ir.ctx, v, idxAlice, nil, []Proposal{{Type: event.TypeMember, StateKey: &u,
		Sender: idxAlice, Content: json.RawMessage(`{"membership":"join"}`)}})
	require.NoError(t, err)
	return roomID
}
