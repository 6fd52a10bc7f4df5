package auth

import (
	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
)

const viaKey = "join_authorised_via_users_server"

// member applies rule 5 to an m.room.member event.
func (c *checker) member() error {
	e, v := c.e, c.v
	sk := e.StateKey()
	if sk == nil {
		return reject(RuleMemberShape, "m.room.member without a state key")
	}
	membership := e.Membership()
	if membership == "" && !gjson.GetBytes(e.Content(), "membership").Exists() {
		return reject(RuleMemberShape, "m.room.member without content.membership")
	}
	if v.RestrictedJoins {
		if err := checkViaSigned(e); err != nil {
			return err
		}
	}
	target, sender := *sk, e.Sender()
	targetEv, err := c.get(event.StateKey{Type: event.TypeMember, StateKey: target})
	if err != nil {
		return err
	}
	senderEv := targetEv
	if sender != target {
		if senderEv, err = c.get(event.StateKey{Type: event.TypeMember, StateKey: sender}); err != nil {
			return err
		}
	}
	m := memberCheck{target: target, sender: sender, targetM: membershipOf(targetEv), senderM: membershipOf(senderEv)}
	switch membership {
	case event.Join:
		return m.join(c)
	case event.Invite:
		return m.invite(c)
	case event.Leave:
		return m.leave(c)
	case event.Ban:
		return m.ban(c)
	case event.Knock:
		if v.Knocking {
			return m.knock(c)
		}
	}
	return reject(RuleMemberUnknown, "unknown membership %q", membership)
}

// checkViaSigned is rule 5.2.1: the server of join_authorised_via_users_server
// must have signed the event. The signature itself is verified with the
// others by event.VerifySignatures, whose RequiredSigners include that server.
func checkViaSigned(e *event.Event) error {
	via := gjson.GetBytes(e.Content(), viaKey)
	if !via.Exists() {
		return nil
	}
	u, err := mxid.ParseUserID(via.Str)
	if via.Type != gjson.String || err != nil {
		return reject(RuleMemberViaSigned, "%s is not a user ID: %s", viaKey, via.Raw)
	}
	signed := false
	gjson.GetBytes(e.JSON(), "signatures."+gjson.Escape(u.Domain)).ForEach(func(_, _ gjson.Result) bool {
		signed = true
		return false
	})
	if !signed {
		return reject(RuleMemberViaSigned, "not signed by %s, the server of %s", u.Domain, via.Str)
	}
	return nil
}

// memberCheck holds the parties of a membership change. It does not hold the
// checker: keeping pointers out of it lets the checker stay on the stack.
type memberCheck struct {
	target, sender   string
	targetM, senderM string // current memberships ("leave" without an event)
}

func (m memberCheck) joinRule(c *checker) (string, error) {
	ev, err := c.get(joinRulesKey)
	if err != nil {
		return "", err
	}
	return joinRuleOf(ev), nil
}

// join is rule 5.3.
func (m memberCheck) join(c *checker) error {
	e, v := c.e, c.v
	// 5.3.1: the creator's own first join.
	if prev := e.PrevEvents(); len(prev) == 1 && prev[0] == c.create.ID() && m.target == c.ci.creator {
		return nil
	}
	if m.sender != m.target {
		return reject(RuleJoinSenderTarget, "%s cannot join %s to the room", m.sender, m.target)
	}
	if m.senderM == event.Ban {
		return reject(RuleJoinBanned, "%s is banned", m.sender)
	}
	rule, err := m.joinRule(c)
	if err != nil {
		return err
	}
	invitedOrJoined := m.targetM == event.Invite || m.targetM == event.Join
	switch {
	case rule == JoinInvite || (v.Knocking && rule == JoinKnock):
		if invitedOrJoined {
			return nil
		}
		return reject(RuleJoinInvite, "join rule %q and membership %q", rule, m.targetM)
	case (v.RestrictedJoins && rule == JoinRestricted) || (v.KnockRestricted && rule == JoinKnockRestricted):
		if invitedOrJoined {
			return nil
		}
		return m.restrictedVia(c)
	case rule == JoinPublic:
		return nil
	}
	return reject(RuleJoinOther, "join rule %q does not allow joining", rule)
}

// restrictedVia is rule 5.3.5.2: the authorising user must be joined and able
// to invite.
func (m memberCheck) restrictedVia(c *checker) error {
	via := gjson.GetBytes(c.e.Content(), viaKey)
	if via.Type != gjson.String {
		return reject(RuleJoinRestricted, "restricted join without %s", viaKey)
	}
	ev, err := c.get(event.StateKey{Type: event.TypeMember, StateKey: via.Str})
	if err != nil {
		return err
	}
	if ms := membershipOf(ev); ms != event.Join {
		return reject(RuleJoinRestricted, "authorising user %s is not joined (%q)", via.Str, ms)
	}
	lv, err := c.powerLevelsView()
	if err != nil {
		return err
	}
	if l := lv.user(via.Str); l < lv.pl.Invite {
		return reject(RuleJoinRestricted, "authorising user %s has level %d, below the invite level %d", via.Str, l, lv.pl.Invite)
	}
	return nil
}

// invite is rule 5.4.
func (m memberCheck) invite(c *checker) error {
	if tpi := gjson.GetBytes(c.e.Content(), "third_party_invite"); tpi.Exists() {
		return m.thirdPartyInvite(c, tpi)
	}
	if m.senderM != event.Join {
		return reject(RuleInviteSenderJoined, "sender %s is not joined", m.sender)
	}
	if m.targetM == event.Join || m.targetM == event.Ban {
		return reject(RuleInviteTarget, "%s cannot be invited from membership %q", m.target, m.targetM)
	}
	lv, err := c.powerLevelsView()
	if err != nil {
		return err
	}
	if l := lv.user(m.sender); l < lv.pl.Invite {
		return reject(RuleInviteLevel, "sender level %d is below the invite level %d", l, lv.pl.Invite)
	}
	return nil
}

// leave is rule 5.5.
func (m memberCheck) leave(c *checker) error {
	if m.sender == m.target {
		switch m.targetM {
		case event.Invite, event.Join:
			return nil
		case event.Knock:
			if c.v.Knocking {
				return nil
			}
		}
		return reject(RuleLeaveSelf, "cannot leave from membership %q", m.targetM)
	}
	if m.senderM != event.Join {
		return reject(RuleLeaveSenderJoined, "sender %s is not joined", m.sender)
	}
	lv, err := c.powerLevelsView()
	if err != nil {
		return err
	}
	senderLevel := lv.user(m.sender)
	if m.targetM == event.Ban && senderLevel < lv.pl.Ban {
		return reject(RuleLeaveUnban, "sender level %d is below the ban level %d", senderLevel, lv.pl.Ban)
	}
	if targetLevel := lv.user(m.target); senderLevel >= lv.pl.Kick && targetLevel < senderLevel {
		return nil
	}
	return reject(RuleLeaveKick, "sender level %d cannot kick %s (level %d, kick level %d)", senderLevel, m.target, lv.user(m.target), lv.pl.Kick)
}

// ban is rule 5.6.
func (m memberCheck) ban(c *checker) error {
	if m.senderM != event.Join {
		return reject(RuleBanSenderJoined, "sender %s is not joined", m.sender)
	}
	lv, err := c.powerLevelsView()
	if err != nil {
		return err
	}
	senderLevel, targetLevel := lv.user(m.sender), lv.user(m.target)
	if senderLevel >= lv.pl.Ban && targetLevel < senderLevel {
		return nil
	}
	return reject(RuleBanLevel, "sender level %d cannot ban %s (level %d, ban level %d)", senderLevel, m.target, targetLevel, lv.pl.Ban)
}

// knock is rule 5.7 (room version 7 and later).
func (m memberCheck) knock(c *checker) error {
	rule, err := m.joinRule(c)
	if err != nil {
		return err
	}
	if rule != JoinKnock && !(c.v.KnockRestricted && rule == JoinKnockRestricted) {
		return reject(RuleKnockJoinRule, "join rule %q does not allow knocking", rule)
	}
	if m.sender != m.target {
		return reject(RuleKnockSenderTarget, "%s cannot knock for %s", m.sender, m.target)
	}
	switch m.senderM {
	case event.Ban, event.Invite, event.Join:
		return reject(RuleKnockMembership, "cannot knock from membership %q", m.senderM)
	}
	return nil
}
