package syncapi

import (
	"context"
	"slices"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/rooms"
)

// joined builds a rooms.join entry for events in (after, upTo]. withState
// sends the full state at the start of the timeline (initial sync, a new
// join, full_state); otherwise state is sent only when the timeline is limited.
func (b *builder) joined(ctx context.Context, m rooms.Membership, after, upTo int64, withState bool) (*JoinedRoom, error) {
	tl, err := b.timeline(ctx, m, after, upTo)
	if err != nil {
		return nil, err
	}
	jr := &JoinedRoom{Timeline: tl.section, AccountData: EventList{Events: []any{}},
		Ephemeral: EventList{Events: []any{}}, UnreadNotifications: map[string]int{}}
	jr.State.Events = []ClientEvent{}
	if withState || tl.section.Limited {
		if jr.State.Events, err = b.stateAt(ctx, m.RoomNID, tl.first, tl.events); err != nil {
			return nil, err
		}
		if jr.Summary, err = b.summary(ctx, m.RoomNID); err != nil {
			return nil, err
		}
	}
	if err := b.annotate(ctx, jr.Timeline.Events, jr.State.Events); err != nil {
		return nil, err
	}
	if err := b.unread(ctx, m.RoomID, jr); err != nil {
		return nil, err
	}
	return jr, nil
}

// unread fills in the room's notification counts, when there is a counter.
func (b *builder) unread(ctx context.Context, roomID string, jr *JoinedRoom) error {
	u := b.a.deps.Unread
	if u == nil {
		return nil
	}
	counts, err := u.UnreadCounts(ctx, b.req.UserID, []string{roomID})
	if err != nil {
		return err
	}
	c := counts[roomID]
	if !b.req.Filter.Room.Timeline.UnreadThreadNotifications {
		jr.UnreadNotifications = map[string]int{"notification_count": c.NotificationCount, "highlight_count": c.HighlightCount}
		return nil
	}
	// Per thread: the room's counts are then the main timeline's only.
	mainN, mainH := c.NotificationCount, c.HighlightCount
	for root, tc := range c.Threads {
		mainN, mainH = mainN-tc.NotificationCount, mainH-tc.HighlightCount
		if tc.NotificationCount == 0 && tc.HighlightCount == 0 {
			continue
		}
		if jr.UnreadThreadNotifications == nil {
			jr.UnreadThreadNotifications = map[string]map[string]int{}
		}
		jr.UnreadThreadNotifications[root] = map[string]int{"notification_count": tc.NotificationCount, "highlight_count": tc.HighlightCount}
	}
	jr.UnreadNotifications = map[string]int{"notification_count": max(mainN, 0), "highlight_count": max(mainH, 0)}
	return nil
}

// joinedEntry returns the rooms.join entry of a room, adding one with an
// empty timeline when the room has no new events (only ephemeral events or
// account data).
func (b *builder) joinedEntry(ctx context.Context, resp *Response, roomID string) (*JoinedRoom, error) {
	if jr := resp.Rooms.Join[roomID]; jr != nil {
		return jr, nil
	}
	jr := &JoinedRoom{Timeline: Timeline{Events: []ClientEvent{}, PrevBatch: Token{Room: b.pos}.String()},
		State: StateSection{Events: []ClientEvent{}}, AccountData: EventList{Events: []any{}},
		Ephemeral: EventList{Events: []any{}}, UnreadNotifications: map[string]int{}}
	if err := b.unread(ctx, roomID, jr); err != nil {
		return nil, err
	}
	resp.Rooms.Join[roomID] = jr
	return jr, nil
}

// annotate runs the event annotator, if any, over lists of served events.
func (b *builder) annotate(ctx context.Context, lists ...[]ClientEvent) error {
	if b.a.deps.Annotator == nil {
		return nil
	}
	for _, evs := range lists {
		if err := b.a.deps.Annotator.Annotate(ctx, b.req.UserID, evs); err != nil {
			return err
		}
	}
	return nil
}

// left builds a rooms.leave entry: the timeline up to the user's leave.
func (b *builder) left(ctx context.Context, m rooms.Membership, after int64) (*LeftRoom, error) {
	evs, err := b.a.deps.Store.EventsByNID(ctx, []int64{m.EventNID})
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, errNoEvent
	}
	upTo := min(evs[0].StreamPos, b.pos)
	tl, err := b.timeline(ctx, m, after, upTo)
	if err != nil {
		return nil, err
	}
	lr := &LeftRoom{Timeline: tl.section, AccountData: EventList{Events: []any{}}}
	if lr.State.Events, err = b.stateAt(ctx, m.RoomNID, tl.first, tl.events); err != nil {
		return nil, err
	}
	return lr, nil
}

// inviteStateKeys are the state events shown with an invite (stripped state).
var inviteStateKeys = []event.StateKey{
	{Type: event.TypeCreate}, {Type: event.TypeJoinRules}, {Type: "m.room.name"}, {Type: "m.room.avatar"},
	{Type: "m.room.canonical_alias"}, {Type: "m.room.encryption"}, {Type: "m.room.topic"},
}

// invited builds a rooms.invite entry with stripped state and the invite;
// nil for an invite from a user the syncing user ignores.
func (b *builder) invited(ctx context.Context, m rooms.Membership) (*InvitedRoom, error) {
	current, err := b.a.deps.Store.CurrentState(ctx, m.RoomNID)
	if err != nil {
		return nil, err
	}
	want := map[event.StateKey]int64{}
	for _, k := range inviteStateKeys {
		if nid, ok := current[k]; ok {
			want[k] = nid
		}
	}
	want[event.StateKey{Type: event.TypeMember, StateKey: b.req.UserID}] = m.EventNID
	evs, err := b.a.deps.Store.StateEvents(ctx, want)
	if err != nil {
		return nil, err
	}
	own := evs[event.StateKey{Type: event.TypeMember, StateKey: b.req.UserID}]
	if own.Event != nil && own.Event.Membership() == event.Invite && b.ignored[own.Event.Sender()] {
		return nil, nil
	}
	ir := &InvitedRoom{}
	ir.InviteState.Events = []StrippedEvent{}
	for _, k := range append(inviteStateKeys, event.StateKey{Type: event.TypeMember, StateKey: b.req.UserID}) {
		if se, ok := evs[k]; ok {
			ir.InviteState.Events = append(ir.InviteState.Events, Strip(se.Event))
		}
	}
	return ir, nil
}

type timelineResult struct {
	section Timeline
	first   *rooms.StoredEvent // first event of the timeline, nil when empty
	events  []*event.Event
}

// timeline returns the last `limit` visible events in (after, upTo], reading
// backwards page by page until enough visible events are found.
func (b *builder) timeline(ctx context.Context, m rooms.Membership, after, upTo int64) (timelineResult, error) {
	limit := b.req.Filter.TimelineLimit()
	tf := b.req.Filter.Room.Timeline
	var picked []rooms.StoredEvent
	before := upTo + 1
	limited := false
	for len(picked) <= limit {
		page, err := b.a.deps.Store.RoomEvents(ctx, m.RoomNID, after, before, limit+1, true)
		if err != nil {
			return timelineResult{}, err
		}
		if len(page) == 0 {
			break
		}
		before = page[len(page)-1].StreamPos
		vis, err := b.vis.Filter(ctx, m.RoomID, page)
		if err != nil {
			return timelineResult{}, err
		}
		for _, se := range vis {
			if tf.Allows(se.Event) && tf.AllowsRoom(m.RoomID) {
				picked = append(picked, se)
			}
		}
		if len(page) < limit+1 {
			break
		}
	}
	if len(picked) > limit {
		picked, limited = picked[:limit], true
	}
	slices.Reverse(picked)
	res := timelineResult{section: Timeline{Events: make([]ClientEvent, 0, len(picked)), Limited: limited}}
	for i := range picked {
		res.events = append(res.events, picked[i].Event)
		res.section.Events = append(res.section.Events, FormatEvent(picked[i].Event, false, b.now))
	}
	if len(picked) > 0 {
		res.first = &picked[0]
		res.section.PrevBatch = Token{Room: picked[0].StreamPos - 1}.String()
	} else {
		res.section.PrevBatch = Token{Room: upTo}.String()
	}
	return res, nil
}

// stateAt returns the room state at the start of the timeline (the current
// state when the timeline is empty), filtered by the state filter and
// lazy-loading of members.
func (b *builder) stateAt(ctx context.Context, roomNID int64, first *rooms.StoredEvent, timeline []*event.Event) ([]ClientEvent, error) {
	var state map[event.StateKey]int64
	var err error
	if first != nil {
		state, err = b.a.deps.Store.State(ctx, first.StateBeforeNID)
	} else {
		state, err = b.a.deps.Store.CurrentState(ctx, roomNID)
	}
	if err != nil {
		return nil, err
	}
	sf := b.req.Filter.Room.State
	if sf.LazyLoadMembers {
		keep := map[string]bool{b.req.UserID: true}
		for _, e := range timeline {
			keep[e.Sender()] = true
		}
		for k := range state {
			if k.Type == event.TypeMember && !keep[k.StateKey] {
				delete(state, k)
			}
		}
	}
	evs, err := b.a.deps.Store.StateEvents(ctx, state)
	if err != nil {
		return nil, err
	}
	out := make([]ClientEvent, 0, len(evs))
	for _, se := range evs {
		if sf.Allows(se.Event) && sf.AllowsRoom(se.Event.RoomID()) {
			out = append(out, FormatEvent(se.Event, false, b.now))
		}
	}
	slices.SortFunc(out, func(x, y ClientEvent) int {
		if x.Type != y.Type {
			if x.Type < y.Type {
				return -1
			}
			return 1
		}
		switch {
		case *x.StateKey < *y.StateKey:
			return -1
		case *x.StateKey > *y.StateKey:
			return 1
		}
		return 0
	})
	return out, nil
}

// summary counts members and picks up to five heroes other than the user.
func (b *builder) summary(ctx context.Context, roomNID int64) (Summary, error) {
	members, err := b.a.deps.Store.Members(ctx, roomNID)
	if err != nil {
		return Summary{}, err
	}
	joined, invited := 0, 0
	var heroes []string
	for _, m := range members {
		switch m.Membership {
		case event.Join:
			joined++
		case event.Invite:
			invited++
		default:
			continue
		}
		if m.UserID != b.req.UserID && len(heroes) < 5 {
			heroes = append(heroes, m.UserID)
		}
	}
	return Summary{Heroes: heroes, JoinedCount: &joined, InvitedCount: &invited}, nil
}
