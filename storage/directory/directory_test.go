package directory_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/directory"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/storagetest"
)

const server = "hs.test"

func uid(l string) string { return "@" + l + ":" + server }

func raw(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

func sk(s string) *string { return &s }

// fixture is a roomserver over the test database, to make real rooms.
type fixture struct {
	t   *testing.T
	ctx context.Context
	rs  *roomserver.RoomServer
	dir *directory.Store
}

func newFixture(t *testing.T, db *storage.DB) *fixture {
	key, err := signing.GenerateKey(server)
	require.NoError(t, err)
	rs, err := roomserver.New(context.Background(), roomserver.Deps{Store: rooms.New(db), Key: key, Logger: zaptest.NewLogger(t)})
	require.NoError(t, err)
	dir, err := directory.New(directory.Deps{DB: db})
	require.NoError(t, err)
	return &fixture{t: t, ctx: context.Background(), rs: rs, dir: dir}
}

// room makes a v11 room of creator with the join rule and history
// visibility, joins the members (with display names "Name of <localpart>"),
// and returns its ID.
func (f *fixture) room(creator, joinRule, history string, members ...string) string {
	f.t.Helper()
	c := uid(creator)
	ps := []roomserver.Proposal{
		{Type: event.TypeMember, StateKey: sk(c), Sender: c, Content: raw(map[string]any{"membership": "join", "displayname": "Name of " + creator})},
		{Type: event.TypePowerLevels, StateKey: sk(""), Sender: c, Content: raw(map[string]any{"users": map[string]any{c: 100}})},
		{Type: event.TypeJoinRules, StateKey: sk(""), Sender: c, Content: raw(map[string]any{"join_rule": "public"})},
		{Type: event.TypeHistoryVisibility, StateKey: sk(""), Sender: c, Content: raw(map[string]any{"history_visibility": history})},
		{Type: "m.room.name", StateKey: sk(""), Sender: c, Content: raw(map[string]any{"name": "room of " + creator})},
	}
	for _, m := range members {
		u := uid(m)
		ps = append(ps, roomserver.Proposal{Type: event.TypeMember, StateKey: sk(u), Sender: u,
			Content: raw(map[string]any{"membership": "join", "displayname": "Name of " + m, "avatar_url": "mxc://" + server + "/" + m})})
	}
	ps = append(ps, roomserver.Proposal{Type: event.TypeJoinRules, StateKey: sk(""), Sender: c, Content: raw(map[string]any{"join_rule": joinRule})})
	id, _, err := f.rs.CreateRoom(f.ctx, roomversion.MustGet("11"), c, nil, ps)
	require.NoError(f.t, err)
	return id
}

func TestPublishedRooms(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := f.ctx
		big := f.room("alice", "public", "shared", "bob", "carol")
		small := f.room("dave", "public", "shared")
		hidden := f.room("erin", "public", "shared", "frank")

		for _, id := range []string{big, small} {
			require.NoError(t, f.dir.SetPublished(ctx, id, true, uid("alice"), 1))
		}
		// Publishing twice is fine; a room the server does not know is left out.
		require.NoError(t, f.dir.SetPublished(ctx, big, true, uid("bob"), 2))
		require.NoError(t, f.dir.SetPublished(ctx, "!unknown:"+server, true, uid("alice"), 3))

		ok, err := f.dir.IsPublished(ctx, big)
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = f.dir.IsPublished(ctx, hidden)
		require.NoError(t, err)
		assert.False(t, ok)

		list, err := f.dir.PublishedRooms(ctx, []string{"m.room.name", event.TypeJoinRules, event.TypeCreate})
		require.NoError(t, err)
		got := map[string]directory.PublishedRoom{}
		for _, p := range list {
			got[p.RoomID] = p
		}
		require.Len(t, got, 2)
		assert.Equal(t, 3, got[big].JoinedMembers)
		assert.Equal(t, 1, got[small].JoinedMembers)
		assert.Len(t, got[big].State, 3)

		// The NIDs point at the room's current events of those types.
		info, err := rooms.New(db).Room(ctx, big)
		require.NoError(t, err)
		evs, err := rooms.New(db).EventsByNID(ctx, []int64{got[big].State["m.room.name"]})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, info.NID, evs[0].RoomNID)
		assert.JSONEq(t, `{"name":"room of alice"}`, string(evs[0].Event.Content()))

		require.NoError(t, f.dir.SetPublished(ctx, big, false, uid("alice"), 4))
		list, err = f.dir.PublishedRooms(ctx, nil)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, small, list[0].RoomID)
		assert.Empty(t, list[0].State)
	})
}

func TestSearchUsers(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := f.ctx
		f.room("pub", "public", "shared", "bob")             // a public room
		f.room("zed", "invite", "shared", "carol")           // the searcher's private room
		f.room("dave", "invite", "shared", "erin")           // a private room zed is not in
		f.room("wally", "invite", "world_readable", "frank") // world readable

		ids := func(cs []directory.UserCandidate) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.UserID)
			}
			return out
		}
		all, err := f.dir.SearchUsers(ctx, directory.UserSearch{Searcher: uid("zed"), Limit: 100})
		require.NoError(t, err)
		// carol shares a room with zed and comes first; zed never finds
		// himself, nor dave and erin of the private room.
		assert.Equal(t, []string{uid("carol"), uid("bob"), uid("frank"), uid("pub"), uid("wally")}, ids(all))
		assert.True(t, all[0].SharesRoom)
		assert.False(t, all[1].SharesRoom)
		assert.Equal(t, "Name of carol", all[0].DisplayName)
		assert.Equal(t, "mxc://"+server+"/carol", all[0].AvatarURL)

		// Words filter on the user ID or the display name, case-insensitively.
		got, err := f.dir.SearchUsers(ctx, directory.UserSearch{Searcher: uid("zed"), Words: []string{"name", "fra"}, Limit: 10})
		require.NoError(t, err)
		assert.Equal(t, []string{uid("frank")}, ids(got))
		got, err = f.dir.SearchUsers(ctx, directory.UserSearch{Searcher: uid("zed"), Words: []string{"erin"}, Limit: 10})
		require.NoError(t, err)
		assert.Empty(t, got)
		// LIKE wildcards in words are literal.
		got, err = f.dir.SearchUsers(ctx, directory.UserSearch{Searcher: uid("zed"), Words: []string{"%"}, Limit: 10})
		require.NoError(t, err)
		assert.Empty(t, got)

		// dave sees erin (shared) and the public ones.
		got, err = f.dir.SearchUsers(ctx, directory.UserSearch{Searcher: uid("dave"), Limit: 2})
		require.NoError(t, err)
		assert.Equal(t, []string{uid("erin"), uid("bob")}, ids(got))
	})
}

func TestReports(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := directory.New(directory.Deps{DB: db})
		require.NoError(t, err)
		reason, score := "spam", int64(-100)
		var ids []int64
		for i, r := range []directory.Report{
			{Kind: directory.KindEvent, RoomID: "!a:x", EventID: "$1", EventSender: uid("mallory"), Reporter: uid("bob"), Reason: &reason, Score: &score, ReceivedTS: 10},
			{Kind: directory.KindEvent, RoomID: "!b:x", EventID: "$2", EventSender: uid("mallory"), Reporter: uid("carol"), ReceivedTS: 20},
			{Kind: directory.KindRoom, RoomID: "!a:x", Reporter: uid("bob"), Reason: &reason, ReceivedTS: 30},
			{Kind: directory.KindEvent, RoomID: "!a:x", EventID: "$3", EventSender: uid("trent"), Reporter: uid("carol"), ReceivedTS: 40},
		} {
			id, err := s.AddReport(ctx, r)
			require.NoError(t, err, i)
			ids = append(ids, id)
		}
		_, err = s.AddReport(ctx, directory.Report{Kind: "user"})
		require.Error(t, err)

		events := func(q directory.ReportQuery) ([]string, int64) {
			q.Kind = directory.KindEvent
			rs, total, err := s.ListReports(ctx, q)
			require.NoError(t, err)
			var out []string
			for _, r := range rs {
				out = append(out, r.EventID)
			}
			return out, total
		}
		got, total := events(directory.ReportQuery{Limit: 10})
		assert.Equal(t, []string{"$3", "$2", "$1"}, got, "newest first by default")
		assert.EqualValues(t, 3, total)
		got, _ = events(directory.ReportQuery{Limit: 2, Forwards: true})
		assert.Equal(t, []string{"$1", "$2"}, got)
		got, total = events(directory.ReportQuery{Limit: 2, From: 2, Forwards: true})
		assert.Equal(t, []string{"$3"}, got)
		assert.EqualValues(t, 3, total)
		got, total = events(directory.ReportQuery{Limit: 10, RoomID: "!a:x"})
		assert.Equal(t, []string{"$3", "$1"}, got)
		assert.EqualValues(t, 2, total)
		got, _ = events(directory.ReportQuery{Limit: 10, Reporter: uid("carol")})
		assert.Equal(t, []string{"$3", "$2"}, got)
		got, _ = events(directory.ReportQuery{Limit: 10, EventSender: uid("mallory"), Reporter: uid("carol")})
		assert.Equal(t, []string{"$2"}, got)

		r, err := s.GetReport(ctx, directory.KindEvent, ids[0])
		require.NoError(t, err)
		assert.Equal(t, "spam", *r.Reason)
		assert.EqualValues(t, -100, *r.Score)
		assert.Equal(t, uid("mallory"), r.EventSender)
		r, err = s.GetReport(ctx, directory.KindEvent, ids[1])
		require.NoError(t, err)
		assert.Nil(t, r.Reason)
		assert.Nil(t, r.Score)
		_, err = s.GetReport(ctx, directory.KindEvent, ids[2])
		assert.ErrorIs(t, err, directory.ErrNotFound, "a room report is not an event report")

		rooms, total, err := s.ListReports(ctx, directory.ReportQuery{Kind: directory.KindRoom, Limit: 10})
		require.NoError(t, err)
		require.Len(t, rooms, 1)
		assert.EqualValues(t, 1, total)
		assert.Equal(t, "!a:x", rooms[0].RoomID)

		require.NoError(t, s.DeleteReport(ctx, directory.KindEvent, ids[0]))
		assert.ErrorIs(t, s.DeleteReport(ctx, directory.KindEvent, ids[0]), directory.ErrNotFound)
		got, total = events(directory.ReportQuery{Limit: 10})
		assert.Equal(t, []string{"$3", "$2"}, got)
		assert.EqualValues(t, 2, total)
	})
}
