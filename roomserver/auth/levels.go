package auth

import (
	"slices"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// roomLevels is the power level view of one room state.
type roomLevels struct {
	v        *roomversion.Version
	pl       *PowerLevels // never nil: defaults without an event
	hasEvent bool
	ci       *createInfo // nil when the state has no create event
}

func newRoomLevels(v *roomversion.Version, plEvent, create *event.Event) roomLevels {
	r := roomLevels{v: v, pl: &defaultLevels}
	if plEvent != nil {
		// Power levels in state were accepted, so they parse; if a caller
		// hands in one that does not, its valid values still count.
		r.pl, _ = PowerLevelsOf(plEvent)
		r.hasEvent = true
	}
	if create != nil {
		r.ci = createInfoOf(create)
	}
	return r
}

// defaultLevels is the read-only table of default levels.
var defaultLevels = *DefaultPowerLevels()

// user returns user's power level: Infinite for v12 creators; without a power
// levels event 100 for the creator (v1–v11) and users_default (0) for others.
func (r *roomLevels) user(user string) int64 {
	if r.ci != nil {
		if r.v.PrivilegedCreators {
			if slices.Contains(r.ci.creators, user) {
				return Infinite
			}
		} else if !r.hasEvent && user == r.ci.creator {
			return CreatorLevelWithoutPowerLevels
		}
	}
	return r.pl.UserLevel(user)
}

// UserPowerLevel returns user's power level in a room of version v with the
// given state: Infinite for room version 12 creators; otherwise users[user] or
// users_default from the m.room.power_levels event; without that event 100 for
// the creator in v1–v11 and 0 for everybody else.
func UserPowerLevel(v *roomversion.Version, state StateProvider, user string) int64 {
	r := newRoomLevels(v, state(plKey), state(createKey))
	return r.user(user)
}

// SenderPowerLevel is UserPowerLevel for e's sender under e's room version
// (state resolution orders events by it, with the event's auth events as
// state: use FromAuthEventsWithCreate in v12).
func SenderPowerLevel(e *event.Event, state StateProvider) int64 {
	return UserPowerLevel(e.Version(), state, e.Sender())
}

// RoomPowerLevels returns the room's power levels: the parsed
// m.room.power_levels event of the state, or the defaults without one. The
// result must not be modified.
func RoomPowerLevels(state StateProvider) *PowerLevels {
	if e := state(plKey); e != nil {
		pl, _ := PowerLevelsOf(e)
		return pl
	}
	return &defaultLevels
}

var (
	plKey        = event.StateKey{Type: event.TypePowerLevels}
	joinRulesKey = event.StateKey{Type: event.TypeJoinRules}
)

// Join rule values.
const (
	JoinPublic          = "public"
	JoinInvite          = "invite"
	JoinKnock           = "knock"
	JoinRestricted      = "restricted"
	JoinKnockRestricted = "knock_restricted"
	JoinPrivate         = "private"
)

// JoinRule returns the state's join rule: content.join_rule of
// m.room.join_rules; "invite" when there is no such event or it has no
// join_rule (as Synapse does: the spec names no default); "" when join_rule is
// not a string.
func JoinRule(state StateProvider) string {
	return joinRuleOf(state(joinRulesKey))
}

// Membership returns user's membership in the state: content.membership of
// their m.room.member event, "leave" without one, "" when it is malformed.
func Membership(state StateProvider, user string) string {
	return membershipOf(state(event.StateKey{Type: event.TypeMember, StateKey: user}))
}

func membershipOf(e *event.Event) string {
	if e == nil {
		return event.Leave
	}
	return e.Membership()
}
