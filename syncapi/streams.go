package syncapi

import (
	"context"
	"slices"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/presence"
	"github.com/concordchat/concord/storage/receipts"
	"github.com/concordchat/concord/storage/rooms"
)

// maxPresenceUpdates bounds the presence changes one incremental sync reads.
const maxPresenceUpdates = 1000

// streams adds account data, ephemeral events and presence to resp. A
// stream sends what changed in (from, cur]; an initial or full_state sync
// sends the whole current state, and so does a room the user newly joined.
func (b *builder) streams(ctx context.Context, resp *Response, ms []rooms.Membership) error {
	joined := map[string]rooms.Membership{}
	for _, m := range ms {
		if m.Membership == event.Join && b.req.Filter.Room.RoomAllowed(m.RoomID) {
			joined[m.RoomID] = m
		}
	}
	if err := b.accountData(ctx, resp, joined); err != nil {
		return err
	}
	if err := b.typing(ctx, resp, joined); err != nil {
		return err
	}
	if err := b.receipts(ctx, resp, joined); err != nil {
		return err
	}
	return b.presence(ctx, resp, joined)
}

// sortedRooms returns the keys of joined in order, for stable responses.
func sortedRooms(joined map[string]rooms.Membership) []string {
	out := make([]string, 0, len(joined))
	for r := range joined {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

func (b *builder) accountData(ctx context.Context, resp *Response, joined map[string]rooms.Membership) error {
	st := b.a.deps.AccountData
	if st == nil {
		return nil
	}
	from := b.from.AccountData
	if b.full {
		from = 0
	}
	entries, err := st.Since(ctx, b.req.UserID, from, b.cur.AccountData)
	if err != nil {
		return err
	}
	if len(b.newlyJoined) > 0 && from > 0 {
		// Room account data set before the join (say, while invited) was
		// never sent: send it with the room.
		older, err := st.Since(ctx, b.req.UserID, 0, from)
		if err != nil {
			return err
		}
		for _, e := range older {
			if b.newlyJoined[e.RoomID] {
				entries = append(entries, e)
			}
		}
	}
	for _, e := range entries {
		ev := AccountDataEvent{Type: e.Type, Content: e.Content}
		if e.RoomID == "" {
			if b.req.Filter.AccountData.AllowsTypeSender(e.Type, "") {
				resp.AccountData.Events = append(resp.AccountData.Events, ev)
			}
			continue
		}
		if !b.req.Filter.Room.AccountData.AllowsTypeSender(e.Type, "") || !b.req.Filter.Room.AccountData.AllowsRoom(e.RoomID) {
			continue
		}
		if _, ok := joined[e.RoomID]; ok {
			jr, err := b.joinedEntry(ctx, resp, e.RoomID)
			if err != nil {
				return err
			}
			jr.AccountData.Events = append(jr.AccountData.Events, ev)
		} else if lr := resp.Rooms.Leave[e.RoomID]; lr != nil {
			lr.AccountData.Events = append(lr.AccountData.Events, ev)
		}
	}
	return nil
}

// typing adds m.typing to each joined room whose typing list changed, with
// the whole list less ignored users.
func (b *builder) typing(ctx context.Context, resp *Response, joined map[string]rooms.Membership) error {
	if !b.req.Filter.Room.Ephemeral.AllowsTypeSender(TypeTyping, "") {
		return nil
	}
	for _, roomID := range sortedRooms(joined) {
		if !b.req.Filter.Room.Ephemeral.AllowsRoom(roomID) {
			continue
		}
		users, send := b.a.typing.since(roomID, b.from.Typing, b.cur.Typing, b.full || b.newlyJoined[roomID])
		if !send {
			continue
		}
		ev := TypingEvent{Type: TypeTyping}
		ev.Content.UserIDs = make([]string, 0, len(users))
		for _, u := range users {
			if !b.ignored[u] {
				ev.Content.UserIDs = append(ev.Content.UserIDs, u)
			}
		}
		jr, err := b.joinedEntry(ctx, resp, roomID)
		if err != nil {
			return err
		}
		jr.Ephemeral.Events = append(jr.Ephemeral.Events, ev)
	}
	return nil
}

// receipts adds one m.receipt per joined room with the receipts changed in
// the window, less other users' private receipts and ignored users'.
func (b *builder) receipts(ctx context.Context, resp *Response, joined map[string]rooms.Membership) error {
	st := b.a.deps.Receipts
	if st == nil || !b.req.Filter.Room.Ephemeral.AllowsTypeSender(TypeReceipt, "") || len(joined) == 0 {
		return nil
	}
	from := b.from.Receipt
	if b.full {
		from = 0
	}
	list, err := st.Since(ctx, sortedRooms(joined), from, b.cur.Receipt)
	if err != nil {
		return err
	}
	if len(b.newlyJoined) > 0 && from > 0 {
		var newRooms []string
		for r := range b.newlyJoined {
			if _, ok := joined[r]; ok {
				newRooms = append(newRooms, r)
			}
		}
		older, err := st.Since(ctx, newRooms, 0, from)
		if err != nil {
			return err
		}
		list = append(list, older...)
	}
	byRoom := map[string]*ReceiptEvent{}
	for _, r := range list {
		if b.ignored[r.UserID] || (r.Type == receipts.TypeReadPrivate && r.UserID != b.req.UserID) {
			continue
		}
		ev := byRoom[r.RoomID]
		if ev == nil {
			ev = &ReceiptEvent{Type: TypeReceipt, Content: map[string]map[string]map[string]ReceiptInfo{}}
			byRoom[r.RoomID] = ev
		}
		types := ev.Content[r.EventID]
		if types == nil {
			types = map[string]map[string]ReceiptInfo{}
			ev.Content[r.EventID] = types
		}
		users := types[r.Type]
		if users == nil {
			users = map[string]ReceiptInfo{}
			types[r.Type] = users
		}
		users[r.UserID] = ReceiptInfo{TS: r.TS, ThreadID: r.ThreadID}
	}
	for _, roomID := range sortedRooms(joined) {
		ev := byRoom[roomID]
		if ev == nil || !b.req.Filter.Room.Ephemeral.AllowsRoom(roomID) {
			continue
		}
		jr, err := b.joinedEntry(ctx, resp, roomID)
		if err != nil {
			return err
		}
		jr.Ephemeral.Events = append(jr.Ephemeral.Events, *ev)
	}
	return nil
}

// presence adds the m.presence events of the user and of the users who
// share a joined room with them.
func (b *builder) presence(ctx context.Context, resp *Response, joined map[string]rooms.Membership) error {
	if !b.a.presence.enabled() || !b.req.Filter.Presence.AllowsTypeSender(TypePresence, "") {
		return nil
	}
	st := b.a.deps.Presence
	mine := make(map[string]bool, len(joined))
	for r := range joined {
		mine[r] = true
	}
	rows := map[string]presence.Row{}
	// Users who newly share a room with the user get sent whole.
	var whole []string
	if b.full {
		whole = append(whole, b.req.UserID)
		for _, m := range joined {
			ids, err := b.joinedMembers(ctx, m.RoomNID)
			if err != nil {
				return err
			}
			whole = append(whole, ids...)
		}
	} else {
		changed, err := st.Since(ctx, b.from.Presence, b.cur.Presence, maxPresenceUpdates)
		if err != nil {
			return err
		}
		cache := map[string]bool{}
		for _, r := range changed {
			ok := r.UserID == b.req.UserID
			if !ok {
				if ok, err = b.a.sharesRoom(ctx, r.UserID, mine, cache); err != nil {
					return err
				}
			}
			if ok {
				rows[r.UserID] = r
			}
		}
		for roomID := range b.newlyJoined {
			if m, ok := joined[roomID]; ok {
				ids, err := b.joinedMembers(ctx, m.RoomNID)
				if err != nil {
					return err
				}
				whole = append(whole, ids...)
			}
		}
		for roomID, users := range b.othersJoined {
			if _, ok := joined[roomID]; ok {
				whole = append(whole, users...)
			}
		}
	}
	if len(whole) > 0 {
		got, err := st.Get(ctx, whole)
		if err != nil {
			return err
		}
		for u, r := range got {
			if r.StreamPos <= b.cur.Presence {
				rows[u] = r
			}
		}
	}
	users := make([]string, 0, len(rows))
	for u := range rows {
		if !b.ignored[u] && b.req.Filter.Presence.AllowsTypeSender(TypePresence, u) {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	for _, u := range users {
		resp.Presence.Events = append(resp.Presence.Events,
			PresenceEvent{Type: TypePresence, Sender: u, Content: b.a.presenceContent(rows[u], false)})
	}
	return nil
}

// joinedMembers returns the joined members of a room.
func (b *builder) joinedMembers(ctx context.Context, roomNID int64) ([]string, error) {
	members, err := b.a.deps.Store.Members(ctx, roomNID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(members))
	for _, m := range members {
		if m.Membership == event.Join {
			out = append(out, m.UserID)
		}
	}
	return out, nil
}
