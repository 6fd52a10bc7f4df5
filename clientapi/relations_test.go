package clientapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// TestEditsBundled: the most recent valid edit is bundled with the original
// on /event, /messages and /sync; invalid edits (another sender, another
// type, no m.new_content, edits of edits) are ignored; the original content
// stays as sent; redacting the latest edit falls back to the previous one.
func TestEditsBundled(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice, bob := h.user("alice"), h.user("bob")
		room := h.publicRoom(t, alice, bob)
		orig := h.text(t, alice, room, "I like cake")
		e1 := h.relate(t, alice, room, "m.replace", orig, "I like chocolate cake")
		e2 := h.relate(t, alice, room, "m.replace", orig, "I really like chocolate cake")
		// Invalid edits, all later than e2.
		h.relate(t, bob, room, "m.replace", orig, "bob edits alice")
		h.send(t, alice, room, "m.custom", relContent("m.replace", orig, "another type"))
		h.send(t, alice, room, "m.room.message", map[string]any{"msgtype": "m.text", "body": "* no new content",
			"m.relates_to": map[string]any{"rel_type": "m.replace", "event_id": orig}})
		h.relate(t, alice, room, "m.replace", e2, "an edit of an edit")

		got := h.event(t, alice, room, orig)
		assert.Equal(t, "I like cake", got.Get("content.body").Str, "the original content is served as sent")
		edit := got.Get(relPath("m.replace"))
		assert.Equal(t, e2.String(), edit.Get("event_id").Str)
		assert.Equal(t, "I really like chocolate cake", edit.Get(`content.m\.new_content.body`).Str)
		assert.Equal(t, alice.UserID.String(), edit.Get("sender").Str)
		assert.Equal(t, room.String(), edit.Get("room_id").Str)
		// Bob sees the same aggregation.
		assert.Equal(t, e2.String(), h.event(t, bob, room, orig).Get(relPath("m.replace")+".event_id").Str)
		// Edits themselves carry no aggregation, not even their own edit.
		assert.False(t, h.event(t, alice, room, e2).Get(`unsigned.m\.relations`).Exists())

		msgs := h.get(t, bob, map[string]string{"dir": "b", "limit": "20"}, "v3", "rooms", room, "messages")
		found := false
		for _, ev := range msgs.Get("chunk").Array() {
			if ev.Get("event_id").Str == orig.String() {
				found = true
				assert.Equal(t, e2.String(), ev.Get(relPath("m.replace")+".event_id").Str)
			}
		}
		assert.True(t, found, "the original is in /messages")

		sync := h.get(t, bob, map[string]string{"filter": `{"room":{"timeline":{"limit":20}}}`}, "v3", "sync")
		found = false
		for _, ev := range key(sync.Get("rooms.join"), room.String()).Get("timeline.events").Array() {
			if ev.Get("event_id").Str == orig.String() {
				found = true
				edit := ev.Get(relPath("m.replace"))
				assert.Equal(t, e2.String(), edit.Get("event_id").Str)
				assert.False(t, edit.Get("room_id").Exists(), "sync leaves room_id out of bundled events too")
			}
		}
		assert.True(t, found, "the original is in /sync")

		// Redacting the latest edit reverts to the previous one.
		_, err := alice.RedactEvent(h.ctx, room, e2)
		require.NoError(t, err)
		assert.Equal(t, e1.String(), h.event(t, alice, room, orig).Get(relPath("m.replace")+".event_id").Str)

		// Redacting the original drops the edits from its aggregation.
		red, err := alice.RedactEvent(h.ctx, room, orig)
		require.NoError(t, err)
		got = h.event(t, bob, room, orig)
		assert.False(t, got.Get(relPath("m.replace")).Exists())
		assert.Equal(t, "{}", got.Get("content").Raw)
		assert.Equal(t, red.EventID.String(), got.Get("unsigned.redacted_because.event_id").Str)
	})
}

// TestEditTieBreak: edits with the same origin_server_ts are ordered by
// event ID, the largest being the most recent.
func TestEditTieBreak(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice := h.user("alice")
		room := h.publicRoom(t, alice)
		orig := h.text(t, alice, room, "v0")
		var edits []id.EventID
		for i := 0; i < 4; i++ {
			// h.send advances the clock; sending directly keeps it still.
			resp, err := alice.SendMessageEvent(h.ctx, room, eventTypeMessage, relContent("m.replace", orig, "same time"))
			require.NoError(t, err)
			edits = append(edits, resp.EventID)
		}
		want := edits[0]
		for _, e := range edits {
			if e > want {
				want = e
			}
		}
		assert.Equal(t, want.String(), h.event(t, alice, room, orig).Get(relPath("m.replace")+".event_id").Str)
	})
}

// TestEncryptedEdit: the server cannot see m.new_content in an encrypted
// edit, so it bundles the edit on the other rules alone.
func TestEncryptedEdit(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice := h.user("alice")
		room := h.publicRoom(t, alice)
		enc := func(extra map[string]any) map[string]any {
			c := map[string]any{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEn...", "session_id": "s",
				"sender_key": "k", "device_id": "D"}
			for k, v := range extra {
				c[k] = v
			}
			return c
		}
		orig := h.send(t, alice, room, "m.room.encrypted", enc(nil))
		edit := h.send(t, alice, room, "m.room.encrypted", enc(map[string]any{
			"m.relates_to": map[string]any{"rel_type": "m.replace", "event_id": orig}}))
		assert.Equal(t, edit.String(), h.event(t, alice, room, orig).Get(relPath("m.replace")+".event_id").Str)
	})
}

// TestThreads: thread aggregations (count, latest event with its own edit,
// participation per user), ignored users left out, /threads ordering,
// include=participated and pagination, and no threads off relations.
func TestThreads(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice, bob, carol := h.user("alice"), h.user("bob"), h.user("carol")
		room := h.publicRoom(t, alice, bob, carol)
		r1 := h.text(t, alice, room, "root one")
		r2 := h.text(t, alice, room, "root two")
		b1 := h.relate(t, bob, room, "m.thread", r1, "bob in one")
		b2 := h.relate(t, bob, room, "m.thread", r1, "bob again in one")
		a1 := h.relate(t, alice, room, "m.thread", r2, "alice in two")
		edit := h.relate(t, alice, room, "m.replace", a1, "alice in two, edited")

		th := h.event(t, alice, room, r1).Get(relPath("m.thread"))
		assert.Equal(t, int64(2), th.Get("count").Int())
		assert.Equal(t, b2.String(), th.Get("latest_event.event_id").Str)
		assert.Equal(t, "bob again in one", th.Get("latest_event.content.body").Str)
		assert.True(t, th.Get("current_user_participated").Bool(), "alice sent the root")
		assert.True(t, h.event(t, bob, room, r1).Get(relPath("m.thread")+".current_user_participated").Bool())
		assert.False(t, h.event(t, carol, room, r1).Get(relPath("m.thread")+".current_user_participated").Bool())
		assert.False(t, h.event(t, bob, room, r2).Get(relPath("m.thread")+".current_user_participated").Bool())
		latest := h.event(t, carol, room, r2).Get(relPath("m.thread") + ".latest_event")
		assert.Equal(t, a1.String(), latest.Get("event_id").Str)
		assert.Equal(t, edit.String(), latest.Get(relPath("m.replace")+".event_id").Str, "the latest event has its own aggregations")

		// Carol ignores bob: his replies no longer count for her.
		h.ignore(t, carol.UserID, bob.UserID)
		assert.False(t, h.event(t, carol, room, r1).Get(relPath("m.thread")).Exists())
		assert.Equal(t, int64(2), h.event(t, alice, room, r1).Get(relPath("m.thread")+".count").Int())

		threads := func(cli *mautrix.Client, q map[string]string) []string {
			return histIDs(h.get(t, cli, q, "v1", "rooms", room, "threads").Get("chunk"))
		}
		assert.Equal(t, histStrs(r2, r1), threads(alice, nil), "latest activity first")
		b3 := h.relate(t, bob, room, "m.thread", r1, "bob brings one back up")
		assert.Equal(t, histStrs(r1, r2), threads(alice, nil))
		assert.Equal(t, histStrs(r1, r2), threads(alice, map[string]string{"include": "participated"}))
		assert.Equal(t, histStrs(r1), threads(bob, map[string]string{"include": "participated"}))
		assert.Equal(t, []string{}, threads(carol, map[string]string{"include": "participated"}))

		// Roots come with their aggregations; one by an ignored user is redacted.
		page := h.get(t, alice, map[string]string{"limit": "1"}, "v1", "rooms", room, "threads")
		require.Equal(t, histStrs(r1), histIDs(page.Get("chunk")))
		assert.Equal(t, int64(3), page.Get("chunk.0."+relPath("m.thread")+".count").Int())
		assert.Equal(t, b3.String(), page.Get("chunk.0."+relPath("m.thread")+".latest_event.event_id").Str)
		next := page.Get("next_batch").Str
		require.NotEmpty(t, next)
		page = h.get(t, alice, map[string]string{"limit": "1", "from": next}, "v1", "rooms", room, "threads")
		assert.Equal(t, histStrs(r2), histIDs(page.Get("chunk")))
		assert.False(t, page.Get("next_batch").Exists())

		bobRoot := h.text(t, bob, room, "bob's own thread")
		h.relate(t, alice, room, "m.thread", bobRoot, "alice answers bob")
		page = h.get(t, carol, nil, "v1", "rooms", room, "threads")
		require.Equal(t, bobRoot.String(), page.Get("chunk.0.event_id").Str)
		assert.Equal(t, "{}", page.Get("chunk.0.content").Raw, "ignored root served redacted")

		// No thread off an event that is itself a relation.
		_, err := bob.SendMessageEvent(h.ctx, room, eventTypeMessage, relContent("m.thread", b1, "nested"))
		requireMatrixError(t, err, http.StatusBadRequest, "M_UNKNOWN")

		// Bad input.
		_, err = h.rawGet(alice, map[string]string{"include": "some"}, "v1", "rooms", room, "threads")
		requireMatrixError(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		_, err = h.rawGet(alice, map[string]string{"limit": "0"}, "v1", "rooms", room, "threads")
		requireMatrixError(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		_, err = h.rawGet(alice, map[string]string{"from": "nonsense"}, "v1", "rooms", room, "threads")
		requireMatrixError(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		stranger := h.user("dave")
		_, err = h.rawGet(stranger, nil, "v1", "rooms", room, "threads")
		requireMatrixError(t, err, http.StatusForbidden, "M_FORBIDDEN")
	})
}

// TestReferences: m.reference children are bundled as a chunk of event IDs;
// a redacted reference drops out.
func TestReferences(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice, bob := h.user("alice"), h.user("bob")
		room := h.publicRoom(t, alice, bob)
		root := h.text(t, alice, room, "the start")
		ref1 := h.send(t, bob, room, "m.key.verification.done", map[string]any{
			"m.relates_to": map[string]any{"rel_type": "m.reference", "event_id": root}})
		ref2 := h.relate(t, alice, room, "m.reference", root, "see above")
		chunk := h.event(t, bob, room, root).Get(relPath("m.reference") + ".chunk")
		assert.Equal(t, histStrs(ref1, ref2), histIDs(chunk))
		assert.Len(t, chunk.Get("0").Map(), 1, "only event_id is given")
		_, err := bob.RedactEvent(h.ctx, room, ref1)
		require.NoError(t, err)
		assert.Equal(t, histStrs(ref2), histIDs(h.event(t, alice, room, root).Get(relPath("m.reference")+".chunk")))
	})
}

// TestReactions: a user cannot react twice with the same key (until the first
// is redacted); reactions are listed by /relations, not bundled.
func TestReactions(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice, bob := h.user("alice"), h.user("bob")
		room := h.publicRoom(t, alice, bob)
		msg := h.text(t, alice, room, "react to me")
		up, err := alice.SendReaction(h.ctx, room, msg, "👍")
		require.NoError(t, err)
		_, err = alice.SendReaction(h.ctx, room, msg, "👍")
		requireMatrixError(t, err, http.StatusBadRequest, "M_DUPLICATE_ANNOTATION")
		bobUp, err := bob.SendReaction(h.ctx, room, msg, "👍")
		require.NoError(t, err)
		down, err := alice.SendReaction(h.ctx, room, msg, "👎")
		require.NoError(t, err)

		rels := func(path ...any) []string {
			p := append([]any{"v1", "rooms", room, "relations", msg}, path...)
			return histIDs(h.get(t, bob, nil, p...).Get("chunk"))
		}
		want := histStrs(down.EventID, bobUp.EventID, up.EventID)
		assert.Equal(t, want, rels(), "newest first")
		assert.Equal(t, want, rels("m.annotation"))
		assert.Equal(t, want, rels("m.annotation", "m.reaction"))
		assert.Equal(t, []string{}, rels("m.annotation", "m.room.message"))
		assert.Equal(t, []string{}, rels("m.thread"))
		keys := h.get(t, bob, nil, "v1", "rooms", room, "relations", msg, "m.annotation").Get(`chunk.#.content.m\.relates_to.key`)
		assert.Equal(t, `["👎","👍","👍"]`, keys.Raw)
		assert.False(t, h.event(t, bob, room, msg).Get(`unsigned.m\.relations`).Exists(), "annotations are not bundled")

		// Redacted, the reaction is gone and may be sent again.
		_, err = alice.RedactEvent(h.ctx, room, up.EventID)
		require.NoError(t, err)
		assert.Equal(t, histStrs(down.EventID, bobUp.EventID), rels("m.annotation"))
		again, err := alice.SendReaction(h.ctx, room, msg, "👍")
		require.NoError(t, err)
		assert.Equal(t, histStrs(again.EventID, down.EventID, bobUp.EventID), rels("m.annotation"))

		// Malformed annotations and relations to unknown events.
		_, err = alice.SendMessageEvent(h.ctx, room, eventTypeReaction, map[string]any{
			"m.relates_to": map[string]any{"rel_type": "m.annotation", "event_id": msg}})
		requireMatrixError(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		_, err = alice.SendReaction(h.ctx, room, "$nosuchevent", "👍")
		requireMatrixError(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		other := h.publicRoom(t, bob)
		_, err = bob.SendReaction(h.ctx, other, msg, "👍")
		requireMatrixError(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
	})
}
