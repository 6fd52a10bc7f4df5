package auth_test

import (
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
)

// divergences lists where gomatrixserverlib (the pinned version) departs
// from the spec. Concord follows the spec; the differential test accepts a
// disagreement only when one of these predicates holds.
var divergences = []divergence{
	{
		name: "AliasesRuleAfterV5",
		spec: "v6: Rule 4, which related specifically to events of type m.room.aliases, is removed. " +
			"m.room.aliases events must still pass authorisation checks relating to state events.",
		applies: func(c *diffCase) bool { return !c.v.AuthAliasesRule && c.e.Type() == event.TypeAliases },
	},
	{
		name: "CreatorFirstJoinAnySender",
		spec: "5.3.1 If the only previous event is an m.room.create and the state_key is the creator, allow. " +
			"(5.3.2 If the sender does not match state_key, reject. comes after it)",
		applies: func(c *diffCase) bool {
			return c.firstJoin() && !c.self() && c.target() == auth.Creators(c.create)[0] && c.mine == nil
		},
	},
	{
		name: "CreatorIsContentCreator",
		spec: "v1–v10: creator: The user_id of the room creator. 5.2.1 If the only previous event is an m.room.create and " +
			"the state_key is the creator, allow. If the room contains no m.room.power_levels event, the room's creator " +
			"has a power level of 100.",
		applies: func(c *diffCase) bool {
			if c.v.CreatorIsSender || auth.Creators(c.create)[0] == c.create.Sender() {
				return false
			}
			_, hasPL := c.state[event.StateKey{Type: event.TypePowerLevels}]
			return !hasPL || c.firstJoin()
		},
	},
	{
		name: "LeaveFromLeave",
		spec: "5.5.1 If the sender matches state_key, allow if and only if that user's current membership state is " +
			"invite, join, or knock.",
		applies: func(c *diffCase) bool {
			return c.isMember(event.Leave) && c.self() && c.membership(c.target()) == event.Leave &&
				c.rejectedBy(auth.RuleLeaveSelf)
		},
	},
	{
		name: "JoinUnderOtherJoinRules",
		spec: "5.3.4 If the join_rule is invite or knock then allow if membership state is invite or join. " +
			"[5.3.5 restricted, 5.3.6 public] 5.3.7 Otherwise, reject. (knock from v7, restricted from v8, " +
			"knock_restricted from v10)",
		applies: func(c *diffCase) bool {
			if !c.isMember(event.Join) || !c.self() || !c.rejectedBy(auth.RuleJoinOther) {
				return false
			}
			m := c.membership(c.target())
			if m != event.Invite && m != event.Join {
				return false
			}
			switch rule := auth.JoinRule(c.provider()); rule {
			case auth.JoinInvite, auth.JoinPublic:
				return false
			case auth.JoinKnock:
				return !c.v.Knocking
			case auth.JoinRestricted:
				return !c.v.RestrictedJoins
			case auth.JoinKnockRestricted:
				return !c.v.KnockRestricted
			}
			return true
		},
	},
	{
		name: "PublicJoinFromKnock",
		spec: "5.3.6 If the join_rule is public, allow.",
		applies: func(c *diffCase) bool {
			return c.isMember(event.Join) && c.self() && auth.JoinRule(c.provider()) == auth.JoinPublic &&
				c.membership(c.target()) == event.Knock && c.mine == nil
		},
	},
	{
		name: "KnockRestrictedBeforeV10",
		spec: "v7: 5.7.1 If the join_rule is anything other than knock, reject. v8: 5.3.5 If the join_rule is " +
			"restricted: ... 5.3.7 Otherwise, reject. (knock_restricted was added in room version 10)",
		applies: func(c *diffCase) bool {
			return c.v.Knocking && !c.v.KnockRestricted && c.e.Type() == event.TypeMember &&
				auth.JoinRule(c.provider()) == auth.JoinKnockRestricted &&
				(c.rejectedBy(auth.RuleJoinOther) || c.rejectedBy(auth.RuleKnockJoinRule))
		},
	},
	{
		name: "UnbanNeedsKickLevel",
		spec: "5.5.3 If the target user's current membership state is ban, and the sender's power level is less than " +
			"the ban level, reject. 5.5.4 If the sender's power level is greater than or equal to the kick level, and " +
			"the target user's power level is less than the sender's power level, allow. (\"To unban somebody, you " +
			"must have power level greater than or equal to both the kick and ban levels, and greater than the " +
			"target user's power level.\")",
		applies: func(c *diffCase) bool {
			return c.isMember(event.Leave) && !c.self() && c.membership(c.target()) == event.Ban &&
				c.rejectedBy(auth.RuleLeaveKick)
		},
	},
	{
		name: "ThirdPartyInviteTargetBanned",
		spec: "5.4.1.1 If target user is banned, reject.",
		applies: func(c *diffCase) bool {
			return c.isMember(event.Invite) && c.content().Get("third_party_invite").Exists() &&
				c.rejectedBy(auth.RuleTPITargetBanned)
		},
	},
	{
		name: "ThirdPartyInviteSender",
		spec: "5.4.1.6 If sender does not match sender of the m.room.third_party_invite, reject.",
		applies: func(c *diffCase) bool {
			return c.isMember(event.Invite) && c.rejectedBy(auth.RuleTPISender)
		},
	},
	{
		name: "ThirdPartyInvitePublicKey",
		spec: "5.4.1.7 If any signature in signed matches any public key in the m.room.third_party_invite event, allow. " +
			"The public keys are in content of m.room.third_party_invite as: 1. A single public key in the public_key " +
			"property. 2. A list of public keys in the public_keys property.",
		applies: func(c *diffCase) bool {
			if !c.isMember(event.Invite) || c.mine != nil {
				return false
			}
			tpi := c.thirdPartyInviteEvent()
			if tpi == nil {
				return false
			}
			single := gjson.GetBytes(tpi.Content(), "public_key").Str
			signedBy := false
			c.content().Get("third_party_invite.signed.signatures").ForEach(func(server, _ gjson.Result) bool {
				signedBy = signedBy || pubKey(server.Str) == single
				return true
			})
			return signedBy
		},
	},
	{
		name: "ThirdPartyInviteSignedKeys",
		spec: "5.4.1.7 If any signature in signed matches any public key in the m.room.third_party_invite event, allow. " +
			"(Signing JSON: the signature covers the whole object but its signatures and unsigned keys.)",
		applies: func(c *diffCase) bool {
			extra := false
			c.content().Get("third_party_invite.signed").ForEach(func(k, _ gjson.Result) bool {
				extra = extra || !slices.Contains([]string{"mxid", "token", "signatures"}, k.Str)
				return true
			})
			return c.isMember(event.Invite) && extra && c.mine == nil
		},
	},
	{
		name: "ThirdPartyInviteNull",
		spec: "5.4.1 If content has a third_party_invite property: 2. If content.third_party_invite does not have a " +
			"signed property, reject.",
		applies: func(c *diffCase) bool {
			return c.isMember(event.Invite) && c.content().Get("third_party_invite").Type == gjson.Null &&
				c.content().Get("third_party_invite").Exists() && c.rejectedBy(auth.RuleTPINoSigned)
		},
	},
	{
		name: "ViaSignature",
		spec: "5.2 If content has a join_authorised_via_users_server key: 1. If the event is not validly signed by the " +
			"homeserver of the user ID denoted by the key, reject. (gomatrixserverlib checks signatures outside Allowed)",
		applies: func(c *diffCase) bool {
			return c.v.RestrictedJoins && c.e.Type() == event.TypeMember && c.rejectedBy(auth.RuleMemberViaSigned)
		},
	},
	{
		name: "ViaBeforeV8",
		spec: "v8: 4.2 {{% added-in v=8 %}} If content has a join_authorised_via_users_server property: ... " +
			"(before room version 8 the rules give the key no meaning)",
		applies: func(c *diffCase) bool {
			via := c.content().Get("join_authorised_via_users_server")
			return !c.v.RestrictedJoins && c.e.Type() == event.TypeMember && via.Exists() && via.Type != gjson.String
		},
	},
	{
		name: "ThirdPartyInviteEventUserStateKey",
		spec: "7. If type is m.room.third_party_invite: 1. Allow if and only if sender's current power level is " +
			"greater than or equal to the invite level. (rule 9, on state keys starting with @, comes after)",
		applies: func(c *diffCase) bool {
			sk := c.e.StateKey()
			return c.e.Type() == event.TypeThirdPartyInvite && sk != nil && strings.HasPrefix(*sk, "@") &&
				*sk != c.e.Sender() && c.mine == nil
		},
	},
	{
		name: "RedactionWithoutEventIDDomain",
		spec: "v1 11.1 If the sender's power level is greater than or equal to the redact level, allow.",
		applies: func(c *diffCase) bool {
			return c.v.AuthRedactionRule && c.e.Type() == event.TypeRedaction && mxid.Domain(c.e.Redacts()) == "" &&
				c.mine == nil
		},
	},
	{
		name: "RedactionEventIDDomain",
		spec: "v1 11.2 If the domain of the event_id of the event being redacted is the same as the domain of the " +
			"event_id of the m.room.redaction, allow. (gomatrixserverlib compares the sender's domain instead)",
		applies: func(c *diffCase) bool {
			return c.v.AuthRedactionRule && c.e.Type() == event.TypeRedaction &&
				mxid.Domain(c.e.ID()) != mxid.Domain(c.e.Sender()) &&
				c.level(c.e.Sender()) < auth.RoomPowerLevels(c.provider()).Redact
		},
	},
	{
		name: "CreateStateKey",
		spec: "1. If type is m.room.create: ... 5. Otherwise, allow. (the rule does not look at the state key)",
		applies: func(c *diffCase) bool {
			return c.e.Type() == event.TypeCreate && !c.e.StateKeyIs("") && c.mine == nil
		},
	},
	{
		name: "CreateRoomVersionV11",
		spec: "v11 1.3 If content.room_version is present and is not a recognised version, reject.",
		applies: func(c *diffCase) bool {
			return c.e.Type() == event.TypeCreate && c.rejectedBy(auth.RuleCreateRoomVersion)
		},
	},
	{
		name: "CreateCreatorNotString",
		spec: "v1 1.4 If content has no creator property, reject.",
		applies: func(c *diffCase) bool {
			cr := c.content().Get("creator")
			return c.e.Type() == event.TypeCreate && !c.v.CreatorIsSender && cr.Exists() && cr.Type != gjson.String &&
				c.mine == nil
		},
	},
	{
		name: "PowerLevelsNull",
		spec: "v10 9.1 If any of the properties users_default, events_default, state_default, ban, redact, kick, or " +
			"invite in content are present and not an integer, reject. 9.2 If either of the properties events or " +
			"notifications in content are present and not an object with values that are integers, reject. " +
			"9.3 If the users property in content is not an object with keys that are valid user IDs with values " +
			"that are integers, reject.",
		applies: func(c *diffCase) bool {
			if c.e.Type() != event.TypePowerLevels {
				return false
			}
			null := false
			c.content().ForEach(func(k, v gjson.Result) bool {
				isMap := slices.Contains([]string{"users", "events", "notifications"}, k.Str)
				null = null || (v.Type == gjson.Null && (isMap || slices.Contains(plScalars, k.Str)))
				if isMap {
					v.ForEach(func(_, l gjson.Result) bool {
						null = null || l.Type == gjson.Null
						return true
					})
				}
				return true
			})
			return null
		},
	},
	{
		name: "PowerLevelsChangeSemantics",
		spec: "10.6 For the properties users_default, events_default, state_default, ban, redact, kick, invite check " +
			"if they were added, changed or removed. For each found alteration: ... 10.7 For each entry being changed " +
			"in, or removed from, the events or notifications properties: 1. If the current value is greater than the " +
			"sender's current power level, reject. ... 10.9 For each entry being changed in, or removed from, the " +
			"users property, other than the sender's own entry: 1. If the current value is greater than or equal to " +
			"the sender's current power level, reject.",
		applies: powerLevelsChangeDiverges,
	},
}

// thirdPartyInviteEvent returns the m.room.third_party_invite the event's
// signed token names.
func (c *diffCase) thirdPartyInviteEvent() *event.Event {
	token := c.content().Get("third_party_invite.signed.token")
	if token.Type != gjson.String {
		return nil
	}
	return c.state[event.StateKey{Type: event.TypeThirdPartyInvite, StateKey: token.Str}]
}
