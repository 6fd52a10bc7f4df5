package auth

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// Check applies the authorisation rules of e.Version() to e against the given
// state (the state before e, or the state formed by e's auth events). nil means
// allowed; a rejection is an *Error (errors.Is(err, ErrRejected)).
//
// Check does not look at e's auth_events list (see CheckAuthEvents) nor verify
// signatures (event.VerifySignatures); it only requires, for rule 5.2.1, that a
// join_authorised_via_users_server's server is among the event's signers.
// Every state event it reads must be in e's room, or e is rejected (rule 3.5).
// In room version 12, state must return the room's create event although it
// is not an auth event (FromAuthEventsWithCreate).
func Check(e *event.Event, state StateProvider) error {
	if e.Type() == event.TypeCreate {
		return checkCreate(e)
	}
	c := checker{e: e, v: e.Version(), state: state}
	return c.run()
}

// checker holds what one Check reads from the state.
type checker struct {
	e      *event.Event
	v      *roomversion.Version
	state  StateProvider
	create *event.Event
	ci     *createInfo
	levels roomLevels
	loaded bool // levels is set
}

// get returns the state event for k, rejecting one from another room.
func (c *checker) get(k event.StateKey) (*event.Event, error) {
	ev := c.state(k)
	if ev != nil && ev.RoomID() != c.e.RoomID() {
		return nil, reject(RuleAuthRoomID, "the %s event %s is in room %s, not %s", k.Type, ev.ID(), ev.RoomID(), c.e.RoomID())
	}
	return ev, nil
}

// powerLevels loads the power level view of the state once.
func (c *checker) powerLevelsView() (*roomLevels, error) {
	if !c.loaded {
		pl, err := c.get(plKey)
		if err != nil {
			return nil, err
		}
		c.levels = newRoomLevels(c.v, pl, c.create)
		c.loaded = true
	}
	return &c.levels, nil
}

func (c *checker) run() error {
	e, v := c.e, c.v
	c.create = c.state(createKey)
	if c.create == nil {
		if v.RoomIDFromCreate {
			return reject(RuleRoomIDIsCreate, "no create event for room %s", e.RoomID())
		}
		return reject(RuleAuthNoCreate, "no create event")
	}
	if v.RoomIDFromCreate && !roomIDNamesCreate(e.RoomID(), c.create.ID()) {
		return reject(RuleRoomIDIsCreate, "room ID %s is not the create event %s", e.RoomID(), c.create.ID())
	}
	if _, err := c.get(createKey); err != nil {
		return err
	}
	c.ci = createInfoOf(c.create)

	// Rule 4: m.federate.
	if c.ci.noFederate && mxid.Domain(e.Sender()) != c.ci.senderDomain {
		return reject(RuleFederate, "the room does not federate and %s is not on %s", e.Sender(), c.ci.senderDomain)
	}
	if v.AuthAliasesRule && e.Type() == event.TypeAliases {
		return checkAliases(e)
	}
	if e.Type() == event.TypeMember {
		return c.member()
	}

	// Rule 6: the sender must be joined.
	senderMember, err := c.get(event.StateKey{Type: event.TypeMember, StateKey: e.Sender()})
	if err != nil {
		return err
	}
	if m := membershipOf(senderMember); m != event.Join {
		return reject(RuleSenderJoined, "sender %s is not joined (membership %q)", e.Sender(), m)
	}
	lv, err := c.powerLevelsView()
	if err != nil {
		return err
	}
	senderLevel := lv.user(e.Sender())

	// Rule 7: third-party invites need the invite level.
	if e.Type() == event.TypeThirdPartyInvite {
		if senderLevel >= lv.pl.Invite {
			return nil
		}
		return reject(RuleTPIEventLevel, "sender level %d is below the invite level %d", senderLevel, lv.pl.Invite)
	}
	// Rule 8: the event type's required level.
	if need := lv.pl.EventLevel(e.Type(), e.IsState()); need > senderLevel {
		return reject(RuleEventLevel, "%s needs level %d, sender has %d", e.Type(), need, senderLevel)
	}
	// Rule 9: state keys of users belong to them.
	if sk := e.StateKey(); sk != nil && strings.HasPrefix(*sk, "@") && *sk != e.Sender() {
		return reject(RuleUserStateKey, "state key %q belongs to another user", *sk)
	}
	if e.Type() == event.TypePowerLevels {
		return c.powerLevelsChange(senderLevel)
	}
	if v.AuthRedactionRule && e.Type() == event.TypeRedaction {
		return checkRedactionV1(e, lv, senderLevel)
	}
	return nil
}

// roomIDNamesCreate reports whether roomID is "!" + the create event ID's
// hash (room version 12), without building the string.
func roomIDNamesCreate(roomID, createID string) bool {
	return len(roomID) > 1 && len(createID) > 1 && roomID[0] == '!' && createID[0] == '$' && roomID[1:] == createID[1:]
}

// checkAliases is the v1–v5 m.room.aliases rule.
func checkAliases(e *event.Event) error {
	sk := e.StateKey()
	if sk == nil {
		return reject(RuleAliases, "m.room.aliases without a state key")
	}
	if d := mxid.Domain(e.Sender()); *sk != d {
		return reject(RuleAliases, "state key %q is not the sender's server %s", *sk, d)
	}
	return nil
}

// checkRedactionV1 is the v1–v2 m.room.redaction rule.
func checkRedactionV1(e *event.Event, lv *roomLevels, senderLevel int64) error {
	if senderLevel >= lv.pl.Redact {
		return nil
	}
	if d := mxid.Domain(e.Redacts()); d != "" && d == mxid.Domain(e.ID()) {
		return nil
	}
	return reject(RuleRedaction, "sender level %d is below the redact level %d and %q is not from this event's server", senderLevel, lv.pl.Redact, e.Redacts())
}

func joinRuleOf(e *event.Event) string {
	if e == nil {
		return JoinInvite
	}
	return e.Memo(event.MemoJoinRules, func(e *event.Event) any {
		r := gjson.GetBytes(e.Content(), "join_rule")
		switch {
		case !r.Exists():
			return JoinInvite
		case r.Type != gjson.String:
			return ""
		}
		return r.Str
	}).(string)
}
