package relations

import (
	"context"
	"sort"

	"github.com/tidwall/gjson"

	relstore "github.com/concordchat/concord/storage/relations"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/syncapi"
)

// Annotate implements syncapi.EventAnnotator: it adds
// unsigned.redacted_because to redacted events and the bundled aggregations
// (unsigned["m.relations"]: m.replace, m.thread, m.reference) to the others,
// counting only children the user may see and not sent by users they ignore.
func (s *Service) Annotate(ctx context.Context, userID string, evs []syncapi.ClientEvent) error {
	if len(evs) == 0 {
		return nil
	}
	a := &annotation{s: s, user: userID}
	return a.run(ctx, evs, true)
}

// annotation is one Annotate call; the viewer is built only when needed.
type annotation struct {
	s    *Service
	user string
	v    *viewer
}

func (a *annotation) viewer(ctx context.Context) (*viewer, error) {
	if a.v == nil {
		v, err := a.s.viewer(ctx, a.user)
		if err != nil {
			return nil, err
		}
		a.v = v
	}
	return a.v, nil
}

// bundles collects the aggregations of one list of events by parent ID.
type bundles map[string]map[string]any

func (b bundles) set(parent, relType string, v any) {
	if b[parent] == nil {
		b[parent] = map[string]any{}
	}
	b[parent][relType] = v
}

// run annotates evs; threads are aggregated only when withThreads (the
// latest event of a thread cannot itself be a thread root).
func (a *annotation) run(ctx context.Context, evs []syncapi.ClientEvent, withThreads bool) error {
	ids := make([]string, 0, len(evs))
	for _, ce := range evs {
		ids = append(ids, ce.EventID)
	}
	related, err := a.s.deps.Store.Related(ctx, ids)
	if err != nil || len(related) == 0 {
		return err // most events have nothing to annotate: one query
	}
	relatedIDs := make([]string, 0, len(related))
	for id := range related {
		relatedIDs = append(relatedIDs, id)
	}
	redacted, err := a.redactedBecause(ctx, evs, relatedIDs)
	if err != nil {
		return err
	}
	parents := map[string]syncapi.ClientEvent{}
	var parentIDs []string
	for _, ce := range evs {
		if !related[ce.EventID] || ce.StateKey != nil {
			continue // state events do not receive bundled aggregations
		}
		if rt := gjson.GetBytes(ce.Content, `m\.relates_to.rel_type`).Str; rt == relstore.RelReplace || rt == relstore.RelAnnotation {
			continue // edits and annotations have nothing to aggregate
		}
		if _, dup := parents[ce.EventID]; !dup {
			parents[ce.EventID] = ce
			parentIDs = append(parentIDs, ce.EventID)
		}
	}
	if len(parentIDs) == 0 {
		return nil
	}
	out := bundles{}
	children, err := a.s.deps.Store.Children(ctx, relstore.ChildQuery{ParentIDs: parentIDs,
		RelTypes: []string{relstore.RelReplace, relstore.RelReference}})
	if err != nil {
		return err
	}
	if len(children) > 0 {
		if err := a.edits(ctx, out, parents, redacted, children); err != nil {
			return err
		}
		if err := a.references(ctx, out, children); err != nil {
			return err
		}
	}
	if withThreads {
		if err := a.threads(ctx, out, parents, parentIDs); err != nil {
			return err
		}
	}
	for i := range evs {
		if b, ok := out[evs[i].EventID]; ok {
			setUnsigned(&evs[i], "m.relations", b)
		}
	}
	return nil
}

func setUnsigned(ce *syncapi.ClientEvent, key string, v any) {
	if ce.Unsigned == nil {
		ce.Unsigned = map[string]any{}
	}
	ce.Unsigned[key] = v
}

// format renders a child like the event it is bundled with (room_id only
// where the parent has one: /sync leaves it out).
func (a *annotation) format(se rooms.StoredEvent, like syncapi.ClientEvent) syncapi.ClientEvent {
	return syncapi.FormatEvent(se.Event, like.RoomID != "", a.s.deps.Now())
}

// redactedBecause adds unsigned.redacted_because to redacted events and
// returns their IDs.
func (a *annotation) redactedBecause(ctx context.Context, evs []syncapi.ClientEvent, ids []string) (map[string]bool, error) {
	by, err := a.s.deps.Store.AppliedRedactions(ctx, ids)
	if err != nil || len(by) == 0 {
		return nil, err
	}
	nids := make([]int64, 0, len(by))
	for _, nid := range by {
		nids = append(nids, nid)
	}
	stored, err := a.s.deps.RoomStore.EventsByNID(ctx, nids)
	if err != nil {
		return nil, err
	}
	byNID := make(map[int64]rooms.StoredEvent, len(stored))
	for _, se := range stored {
		byNID[se.NID] = se
	}
	out := map[string]bool{}
	for i := range evs {
		nid, ok := by[evs[i].EventID]
		if !ok {
			continue
		}
		out[evs[i].EventID] = true
		if se, ok := byNID[nid]; ok {
			setUnsigned(&evs[i], "redacted_because", a.format(se, evs[i]))
		}
	}
	return out, nil
}

// edits bundles the most recent valid replacement of each parent (event
// replacements, "Validity of replacement events"): same sender and type, not
// state, with m.new_content; the parent neither redacted nor an edit itself.
// Most recent is the largest origin_server_ts, then the largest event ID.
func (a *annotation) edits(ctx context.Context, out bundles, parents map[string]syncapi.ClientEvent,
	redacted map[string]bool, children []relstore.Child) error {
	var cands []relstore.Child
	for _, c := range children {
		p := parents[c.ParentID]
		if c.RelType == relstore.RelReplace && !redacted[c.ParentID] && c.Sender == p.Sender && c.Type == p.Type {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].OriginServerTS != cands[j].OriginServerTS {
			return cands[i].OriginServerTS > cands[j].OriginServerTS
		}
		return cands[i].EventID > cands[j].EventID
	})
	v, err := a.viewer(ctx)
	if err != nil {
		return err
	}
	nids := make([]int64, len(cands))
	for i, c := range cands {
		nids[i] = c.EventNID
	}
	vis, err := a.s.visible(ctx, v, nids)
	if err != nil {
		return err
	}
	for _, se := range vis { // in candidate order: the first valid one per parent wins
		parentID := gjson.GetBytes(se.Event.Content(), `m\.relates_to.event_id`).Str
		// m.new_content of an encrypted edit is in its ciphertext.
		hasNew := se.Event.Type() == "m.room.encrypted" || gjson.GetBytes(se.Event.Content(), `m\.new_content`).IsObject()
		if _, done := out[parentID][relstore.RelReplace]; done || se.Event.IsState() || !hasNew {
			continue
		}
		out.set(parentID, relstore.RelReplace, a.format(se, parents[parentID]))
	}
	return nil
}

// references bundles the visible m.reference children of each parent.
func (a *annotation) references(ctx context.Context, out bundles, children []relstore.Child) error {
	var nids []int64
	for _, c := range children {
		if c.RelType == relstore.RelReference {
			nids = append(nids, c.EventNID)
		}
	}
	if len(nids) == 0 {
		return nil
	}
	v, err := a.viewer(ctx)
	if err != nil {
		return err
	}
	vis, err := a.s.visible(ctx, v, nids)
	if err != nil {
		return err
	}
	chunks := map[string][]map[string]string{}
	for _, se := range vis {
		parentID := gjson.GetBytes(se.Event.Content(), `m\.relates_to.event_id`).Str
		chunks[parentID] = append(chunks[parentID], map[string]string{"event_id": se.Event.ID()})
	}
	for parentID, chunk := range chunks {
		out.set(parentID, relstore.RelReference, map[string]any{"chunk": chunk})
	}
	return nil
}

// threadPage is how many replies are read at a time looking for the latest
// one the user may see.
const threadPage = 10

// threads bundles each thread root's summary: the number of replies (not
// from ignored users), the latest reply the user may see, with its own
// aggregations, and whether the user took part.
func (a *annotation) threads(ctx context.Context, out bundles, parents map[string]syncapi.ClientEvent, parentIDs []string) error {
	sums, err := a.s.deps.Store.ThreadSummaries(ctx, parentIDs, nil)
	if err != nil || len(sums) == 0 {
		return err
	}
	v, err := a.viewer(ctx)
	if err != nil {
		return err
	}
	if len(v.ignored) > 0 {
		if sums, err = a.s.deps.Store.ThreadSummaries(ctx, parentIDs, v.ignoredList()); err != nil {
			return err
		}
	}
	roots := make([]string, 0, len(sums))
	for id := range sums {
		roots = append(roots, id)
	}
	took, err := a.s.deps.Store.Participated(ctx, a.user, roots)
	if err != nil {
		return err
	}
	type summary struct {
		root   string
		latest syncapi.ClientEvent
	}
	var found []summary
	var latest []syncapi.ClientEvent
	for _, root := range parentIDs {
		sum, ok := sums[root]
		if !ok {
			continue
		}
		se, ok, err := a.latestReply(ctx, v, root, sum.LatestPos+1)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		ce := a.format(se, parents[root])
		found = append(found, summary{root: root, latest: ce})
		latest = append(latest, ce)
	}
	if err := a.run(ctx, latest, false); err != nil {
		return err
	}
	for i, f := range found {
		out.set(f.root, relstore.RelThread, map[string]any{
			"latest_event":              latest[i],
			"count":                     sums[f.root].Count,
			"current_user_participated": took[f.root] || parents[f.root].Sender == a.user,
		})
	}
	return nil
}

// latestReply finds the newest reply in a thread, before stream position
// before, that the user may see.
func (a *annotation) latestReply(ctx context.Context, v *viewer, root string, before int64) (rooms.StoredEvent, bool, error) {
	for {
		page, err := a.s.deps.Store.Children(ctx, relstore.ChildQuery{ParentIDs: []string{root},
			RelTypes: []string{relstore.RelThread}, Before: before, Backwards: true, Limit: threadPage})
		if err != nil || len(page) == 0 {
			return rooms.StoredEvent{}, false, err
		}
		nids := make([]int64, len(page))
		for i, c := range page {
			nids[i] = c.EventNID
		}
		vis, err := a.s.visible(ctx, v, nids)
		if err != nil {
			return rooms.StoredEvent{}, false, err
		}
		if len(vis) > 0 {
			return vis[0], true, nil
		}
		before = page[len(page)-1].StreamPos
	}
}
