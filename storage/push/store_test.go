package push_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/push"
	"github.com/concordchat/concord/storage/storagetest"
)

const alice, bob = "@alice:hs.test", "@bob:hs.test"

func newStore(t *testing.T, db *storage.DB) *push.Store {
	s, err := push.New(push.Deps{DB: db})
	require.NoError(t, err)
	return s
}

func ids(t *testing.T, s *push.Store, user, kind string) []string {
	t.Helper()
	rules, _, err := s.Rules(context.Background(), user)
	require.NoError(t, err)
	out := []string{}
	for _, r := range rules {
		if r.Kind == kind {
			out = append(out, r.RuleID)
		}
	}
	return out
}

func rule(kind, id string) push.Rule {
	return push.Rule{Kind: kind, RuleID: id, Conditions: json.RawMessage(`[]`), Actions: json.RawMessage(`["notify"]`)}
}

// TestRuleOrder: new rules go first; before/after place a rule; a replaced
// rule keeps its place and its enabled state.
func TestRuleOrder(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		put := func(id, before, after string) error {
			return s.PutRule(ctx, alice, rule("override", id), before, after)
		}
		require.NoError(t, put("a", "", ""))
		require.NoError(t, put("b", "", ""))
		assert.Equal(t, []string{"b", "a"}, ids(t, s, alice, "override"))
		require.NoError(t, put("c", "a", ""))
		assert.Equal(t, []string{"b", "c", "a"}, ids(t, s, alice, "override"))
		require.NoError(t, put("d", "", "b"))
		assert.Equal(t, []string{"b", "d", "c", "a"}, ids(t, s, alice, "override"))
		require.NoError(t, put("e", "", "a"))
		assert.Equal(t, []string{"b", "d", "c", "a", "e"}, ids(t, s, alice, "override"))
		require.NoError(t, put("f", "d", "a"), "before wins over after")
		assert.Equal(t, []string{"b", "f", "d", "c", "a", "e"}, ids(t, s, alice, "override"))

		// Replacing: same place without before/after, moved with them.
		require.NoError(t, s.SetEnabled(ctx, alice, "override", "c", false))
		r := rule("override", "c")
		r.Actions = json.RawMessage(`[]`)
		require.NoError(t, s.PutRule(ctx, alice, r, "", ""))
		assert.Equal(t, []string{"b", "f", "d", "c", "a", "e"}, ids(t, s, alice, "override"))
		require.NoError(t, put("c", "", "e"))
		assert.Equal(t, []string{"b", "f", "d", "a", "e", "c"}, ids(t, s, alice, "override"))
		rules, _, err := s.Rules(ctx, alice)
		require.NoError(t, err)
		for _, r := range rules {
			if r.RuleID == "c" {
				assert.False(t, r.Enabled, "a replaced rule keeps its enabled state")
				assert.JSONEq(t, `["notify"]`, string(r.Actions))
			} else {
				assert.True(t, r.Enabled, r.RuleID)
			}
		}

		// Unknown anchors change nothing; an anchor of another kind is unknown.
		require.NoError(t, s.PutRule(ctx, alice, rule("underride", "u"), "", ""))
		assert.ErrorIs(t, put("g", "nope", ""), push.ErrRelativeNotFound)
		assert.ErrorIs(t, put("g", "", "u"), push.ErrRelativeNotFound)
		assert.ErrorIs(t, put("c", "c", ""), push.ErrRelativeNotFound, "a rule is not relative to itself")
		assert.Equal(t, []string{"b", "f", "d", "a", "e", "c"}, ids(t, s, alice, "override"))
		assert.Equal(t, []string{"u"}, ids(t, s, alice, "underride"))
		assert.Empty(t, ids(t, s, bob, "override"), "rules are per user")

		require.NoError(t, s.DeleteRule(ctx, alice, "override", "d"))
		assert.Equal(t, []string{"b", "f", "a", "e", "c"}, ids(t, s, alice, "override"))
		require.NoError(t, put("h", "", "f"))
		assert.Equal(t, []string{"b", "f", "h", "a", "e", "c"}, ids(t, s, alice, "override"))
	})
}

func TestRuleUpdates(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		c := push.Rule{Kind: "content", RuleID: "cake", Pattern: "cake*", Conditions: json.RawMessage(`[]`), Actions: json.RawMessage(`[]`)}
		require.NoError(t, s.PutRule(ctx, bob, c, "", ""))
		require.NoError(t, s.SetActions(ctx, bob, "content", "cake", json.RawMessage(`["notify"]`)))
		require.NoError(t, s.SetEnabled(ctx, bob, "content", "cake", false))
		rules, _, err := s.Rules(ctx, bob)
		require.NoError(t, err)
		require.Len(t, rules, 1)
		assert.Equal(t, "cake*", rules[0].Pattern)
		assert.JSONEq(t, `["notify"]`, string(rules[0].Actions))
		assert.False(t, rules[0].Enabled)

		assert.ErrorIs(t, s.SetActions(ctx, bob, "override", "cake", json.RawMessage(`[]`)), push.ErrNotFound)
		assert.ErrorIs(t, s.SetEnabled(ctx, alice, "content", "cake", true), push.ErrNotFound)
		assert.ErrorIs(t, s.DeleteRule(ctx, bob, "content", "pie"), push.ErrNotFound)
		require.NoError(t, s.DeleteRule(ctx, bob, "content", "cake"))
		assert.ErrorIs(t, s.DeleteRule(ctx, bob, "content", "cake"), push.ErrNotFound)

		// Changes to server-default rules.
		require.NoError(t, s.SetDefaultEnabled(ctx, bob, ".m.rule.master", true))
		require.NoError(t, s.SetDefaultActions(ctx, bob, ".m.rule.message", json.RawMessage(`[]`)))
		require.NoError(t, s.SetDefaultEnabled(ctx, bob, ".m.rule.message", false))
		require.NoError(t, s.SetDefaultEnabled(ctx, bob, ".m.rule.master", false))
		_, changes, err := s.Rules(ctx, bob)
		require.NoError(t, err)
		require.Len(t, changes, 2)
		assert.Equal(t, ".m.rule.master", changes[0].RuleID)
		assert.False(t, *changes[0].Enabled)
		assert.Nil(t, changes[0].Actions)
		assert.Equal(t, ".m.rule.message", changes[1].RuleID)
		assert.False(t, *changes[1].Enabled)
		assert.JSONEq(t, `[]`, string(changes[1].Actions))
		require.Error(t, s.SetDefaultActions(ctx, bob, ".m.rule.message", json.RawMessage(`[`)))
	})
}

func note(user, room, thread string, pos int64, highlight bool) push.Notification {
	sender := "@carol:hs.test"
	if pos%2 == 0 {
		sender = "@dave:hs.test"
	}
	return push.Notification{UserID: user, EventID: fmt.Sprintf("$e%d", pos), RoomID: room, ThreadID: thread, Sender: sender,
		StreamPos: pos, Actions: json.RawMessage(`["notify"]`), Highlight: highlight, TS: 1000 + pos}
}

// TestUnreadCounts: counts per thread after unthreaded and threaded read
// positions and the user's own events; redactions remove notifications.
func TestUnreadCounts(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		const room, other = "!r:hs.test", "!o:hs.test"
		ns := []push.Notification{
			note(bob, room, "main", 10, false), note(bob, room, "main", 11, true), note(bob, room, "$t", 12, false),
			note(bob, room, "main", 13, false), note(bob, room, "$t", 14, true), note(bob, room, "$u", 15, false),
			note(bob, other, "main", 16, true), note(alice, room, "main", 17, false),
		}
		require.NoError(t, s.Record(ctx, ns, nil, nil))
		require.NoError(t, s.Record(ctx, ns[:3], nil, nil), "recording again keeps one row per event")

		counts := func(read push.ReadPositions) map[string]push.Counts {
			t.Helper()
			c, err := s.UnreadCounts(ctx, bob, room, read, nil)
			require.NoError(t, err)
			return c
		}
		assert.Equal(t, map[string]push.Counts{"main": {3, 1}, "$t": {2, 1}, "$u": {1, 0}}, counts(push.ReadPositions{}))
		assert.Equal(t, map[string]push.Counts{"main": {1, 0}, "$t": {1, 1}, "$u": {1, 0}},
			counts(push.ReadPositions{Unthreaded: 12}), "an unthreaded receipt covers every thread")
		assert.Equal(t, map[string]push.Counts{"$t": {2, 1}, "$u": {1, 0}},
			counts(push.ReadPositions{Threads: map[string]int64{"main": 13}}), "a main receipt covers only the main timeline")
		assert.Equal(t, map[string]push.Counts{"main": {1, 0}, "$u": {1, 0}},
			counts(push.ReadPositions{Unthreaded: 11, Threads: map[string]int64{"$t": 14, "main": 5}}))
		assert.Empty(t, counts(push.ReadPositions{Unthreaded: 100}))
		// Notifications from ignored senders (dave sent the even positions) are left out.
		c, err := s.UnreadCounts(ctx, bob, room, push.ReadPositions{Unthreaded: 10}, []string{"@dave:hs.test", "@x:hs.test"})
		require.NoError(t, err)
		assert.Equal(t, map[string]push.Counts{"main": {2, 1}, "$u": {1, 0}}, c)

		// Bob's own event in thread $t at 13 reads $t up to it.
		require.NoError(t, s.Record(ctx, nil, []push.OwnRead{{UserID: bob, RoomID: room, ThreadID: "$t", StreamPos: 13}}, nil))
		require.NoError(t, s.Record(ctx, nil, []push.OwnRead{{UserID: bob, RoomID: room, ThreadID: "$t", StreamPos: 9}}, nil))
		assert.Equal(t, map[string]push.Counts{"main": {3, 1}, "$t": {1, 1}, "$u": {1, 0}}, counts(push.ReadPositions{}))
		own, err := s.OwnReads(ctx, bob, room)
		require.NoError(t, err)
		assert.Equal(t, map[string]int64{"$t": 13}, own, "own reads only move forwards")

		// A redaction removes the notification for everyone.
		require.NoError(t, s.Record(ctx, nil, nil, []string{"$e14", "$e10"}))
		assert.Equal(t, map[string]push.Counts{"main": {2, 1}, "$u": {1, 0}}, counts(push.ReadPositions{}))

		// Other users and rooms are separate.
		c, err = s.UnreadCounts(ctx, alice, room, push.ReadPositions{}, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string]push.Counts{"main": {1, 0}}, c)
	})
}

func TestListNotifications(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		var ns []push.Notification
		for i := int64(1); i <= 7; i++ {
			ns = append(ns, note(bob, "!r:hs.test", "main", i, i%3 == 0))
		}
		ns = append(ns, note(alice, "!r:hs.test", "main", 8, true))
		// Many rows in one record: more than one INSERT statement.
		for i := int64(100); i < 1300; i++ {
			ns = append(ns, note("@many:hs.test", "!r:hs.test", "main", i, false))
		}
		require.NoError(t, s.Record(ctx, ns, nil, nil))

		page, err := s.List(ctx, push.ListRequest{UserID: bob, Limit: 3})
		require.NoError(t, err)
		require.Len(t, page, 3)
		assert.Equal(t, []int64{7, 6, 5}, []int64{page[0].StreamPos, page[1].StreamPos, page[2].StreamPos})
		assert.Equal(t, "$e6", page[1].EventID)
		assert.Equal(t, "@dave:hs.test", page[1].Sender)
		assert.True(t, page[1].Highlight)
		assert.Equal(t, int64(1006), page[1].TS)
		assert.JSONEq(t, `["notify"]`, string(page[1].Actions))
		page, err = s.List(ctx, push.ListRequest{UserID: bob, Before: 5, Limit: 10})
		require.NoError(t, err)
		require.Len(t, page, 4)
		assert.Equal(t, int64(4), page[0].StreamPos)
		assert.Equal(t, int64(1), page[3].StreamPos)
		page, err = s.List(ctx, push.ListRequest{UserID: bob, Limit: 10, OnlyHighlight: true})
		require.NoError(t, err)
		require.Len(t, page, 2)
		assert.Equal(t, []int64{6, 3}, []int64{page[0].StreamPos, page[1].StreamPos})
		page, err = s.List(ctx, push.ListRequest{UserID: bob, Limit: 10, Ignored: []string{"@dave:hs.test"}})
		require.NoError(t, err)
		require.Len(t, page, 4)
		assert.Equal(t, []int64{7, 5, 3, 1}, []int64{page[0].StreamPos, page[1].StreamPos, page[2].StreamPos, page[3].StreamPos})

		c, err := s.UnreadCounts(ctx, "@many:hs.test", "!r:hs.test", push.ReadPositions{}, nil)
		require.NoError(t, err)
		assert.Equal(t, push.Counts{Notifications: 1200}, c["main"])
	})
}

func TestNewNeedsDB(t *testing.T) {
	_, err := push.New(push.Deps{})
	require.Error(t, err)
}
