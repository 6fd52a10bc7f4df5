package syncapi

import (
	"context"
	"unicode/utf8"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/presence"
)

// MaxStatusMsgBytes bounds a presence status message.
const MaxStatusMsgBytes = 1024

// PresenceEnabled reports whether presence is on.
func (a *API) PresenceEnabled() bool { return !a.deps.PresenceOptions.Disabled }

// SetPresence sets a local user's presence (PUT /presence/{userId}/status):
// state is online, unavailable or offline; statusMsg, when not nil,
// replaces the status message ("" clears it).
func (a *API) SetPresence(ctx context.Context, userID, state string, statusMsg *string) error {
	if !a.PresenceEnabled() {
		return ErrPresenceDisabled
	}
	switch state {
	case presence.Online, presence.Unavailable, presence.Offline:
	default:
		return ErrBadPresence
	}
	if statusMsg != nil && (len(*statusMsg) > MaxStatusMsgBytes || !utf8.ValidString(*statusMsg)) {
		return ErrBadPresence
	}
	if a.deps.Presence == nil {
		return ErrNotConfigured
	}
	if err := a.init(ctx); err != nil {
		return err
	}
	return a.presence.set(ctx, userID, state, statusMsg)
}

// GetPresence returns subject's presence as viewer may see it: their own,
// or that of a user they share a room with (else ErrPresenceNotVisible).
// A user never seen is offline.
func (a *API) GetPresence(ctx context.Context, viewer, subject string) (PresenceContent, error) {
	if !a.PresenceEnabled() {
		return PresenceContent{}, ErrPresenceDisabled
	}
	if viewer != subject {
		mine, err := a.joinedRooms(ctx, viewer)
		if err != nil {
			return PresenceContent{}, err
		}
		ok, err := a.sharesRoom(ctx, subject, toSet(mine), nil)
		if err != nil {
			return PresenceContent{}, err
		}
		if !ok {
			return PresenceContent{}, ErrPresenceNotVisible
		}
	}
	if a.deps.Presence == nil {
		return PresenceContent{Presence: presence.Offline}, nil
	}
	rows, err := a.deps.Presence.Get(ctx, []string{subject})
	if err != nil {
		return PresenceContent{}, err
	}
	row, ok := rows[subject]
	if !ok {
		row = presence.Row{UserID: subject, State: presence.Offline}
	}
	return a.presenceContent(row, true), nil
}

// presenceContent renders a stored row for clients. The tracker's memory
// has the latest activity time, which is not stored on every event; with
// live, its state too (GET answers now, /sync answers the stream's row).
func (a *API) presenceContent(row presence.Row, live bool) PresenceContent {
	lastActive := row.LastActiveTS
	t := a.presence
	t.mu.Lock()
	if u := t.users[row.UserID]; u != nil {
		lastActive = max(lastActive, u.lastActive)
		if live {
			row.State, row.StatusMsg, row.CurrentlyActive = u.state, u.statusMsg, u.currentlyActive
		}
	}
	t.mu.Unlock()
	c := PresenceContent{Presence: row.State}
	if lastActive > 0 {
		ago := max(a.deps.Now().UnixMilli()-lastActive, 0)
		c.LastActiveAgo = &ago
	}
	if row.State == presence.Online {
		active := row.CurrentlyActive
		c.CurrentlyActive = &active
	}
	if row.StatusMsg != "" {
		msg := row.StatusMsg
		c.StatusMsg = &msg
	}
	return c
}

// joinedRooms returns the rooms user is joined to.
func (a *API) joinedRooms(ctx context.Context, user string) ([]string, error) {
	ms, err := a.deps.Store.MembershipsOf(ctx, user)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		if m.Membership == event.Join {
			out = append(out, m.RoomID)
		}
	}
	return out, nil
}

// sharesRoom reports whether user is joined to one of rooms; cache, when
// not nil, keeps answers within one /sync.
func (a *API) sharesRoom(ctx context.Context, user string, rooms map[string]bool, cache map[string]bool) (bool, error) {
	if ok, hit := cache[user]; hit {
		return ok, nil
	}
	theirs, err := a.joinedRooms(ctx, user)
	if err != nil {
		return false, err
	}
	ok := false
	for _, r := range theirs {
		if rooms[r] {
			ok = true
			break
		}
	}
	if cache != nil {
		cache[user] = ok
	}
	return ok, nil
}

func toSet(xs []string) map[string]bool {
	out := make(map[string]bool, len(xs))
	for _, x := range xs {
		out[x] = true
	}
	return out
}
