package auth

import (
	"errors"
	"fmt"
)

// ErrRejected is matched (errors.Is) by every rejection this package returns.
var ErrRejected = errors.New("auth: rejected")

// ErrMissingAuthEvent is returned by CheckAuthEvents when an event named in
// auth_events was not supplied: the caller must fetch it before deciding. It is
// not a rejection.
var ErrMissingAuthEvent = errors.New("auth: auth event not supplied")

// Error is a rejection under the authorisation rules.
//
// Rule names the rule that rejected the event. Rules that exist in room
// version 12 use the numbering of the v12 rule list ("5.3.2", "10.4"), whatever
// the event's room version; rules that only older versions have use a short
// id: RuleAliases (v1–v5), RuleRedaction (v1–v2), RuleCreateCreator (v1–v10).
type Error struct {
	Rule   string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("auth: rejected by rule %s: %s", e.Rule, e.Reason)
}

// Is makes errors.Is(err, ErrRejected) true.
func (e *Error) Is(target error) bool { return target == ErrRejected }

func reject(rule, format string, args ...any) error {
	if len(args) == 0 {
		return &Error{Rule: rule, Reason: format}
	}
	return &Error{Rule: rule, Reason: fmt.Sprintf(format, args...)}
}

// Rule identifiers. Numbers follow the room version 12 rule list.
const (
	RuleCreatePrevEvents   = "1.1"            // create: has prev_events
	RuleCreateRoomID       = "1.2"            // create: room_id domain ≠ sender domain (v1–v11)
	RuleCreateRoomVersion  = "1.3"            // create: unknown content.room_version
	RuleCreateAdditional   = "1.4"            // create: bad additional_creators (v12)
	RuleCreateCreator      = "create.creator" // create: no content.creator (v1–v10)
	RuleRoomIDIsCreate     = "2"              // v12: room_id is not an accepted create event's ID
	RuleAuthDuplicate      = "3.1"
	RuleAuthSelection      = "3.2"
	RuleAuthRejected       = "3.3"
	RuleAuthNoCreate       = "3.4" // v1–v11: no create event among auth events / in state
	RuleAuthRoomID         = "3.5"
	RuleFederate           = "4"
	RuleAliases            = "aliases" // v1–v5 m.room.aliases rule
	RuleMemberShape        = "5.1"
	RuleMemberViaSigned    = "5.2.1"
	RuleJoinSenderTarget   = "5.3.2"
	RuleJoinBanned         = "5.3.3"
	RuleJoinInvite         = "5.3.4"
	RuleJoinRestricted     = "5.3.5.2"
	RuleJoinOther          = "5.3.7"
	RuleTPITargetBanned    = "5.4.1.1"
	RuleTPINoSigned        = "5.4.1.2"
	RuleTPISignedFields    = "5.4.1.3"
	RuleTPIMXID            = "5.4.1.4"
	RuleTPINoEvent         = "5.4.1.5"
	RuleTPISender          = "5.4.1.6"
	RuleTPISignature       = "5.4.1.8"
	RuleInviteSenderJoined = "5.4.2"
	RuleInviteTarget       = "5.4.3"
	RuleInviteLevel        = "5.4.5"
	RuleLeaveSelf          = "5.5.1"
	RuleLeaveSenderJoined  = "5.5.2"
	RuleLeaveUnban         = "5.5.3"
	RuleLeaveKick          = "5.5.5"
	RuleBanSenderJoined    = "5.6.1"
	RuleBanLevel           = "5.6.3"
	RuleKnockJoinRule      = "5.7.1"
	RuleKnockSenderTarget  = "5.7.2"
	RuleKnockMembership    = "5.7.4"
	RuleMemberUnknown      = "5.8"
	RuleSenderJoined       = "6"
	RuleTPIEventLevel      = "7.1"
	RuleEventLevel         = "8"
	RuleUserStateKey       = "9"
	RulePLScalars          = "10.1"
	RulePLMaps             = "10.2"
	RulePLUsers            = "10.3"
	RulePLCreators         = "10.4"
	RulePLScalarChange     = "10.6"
	RulePLMapRemoved       = "10.7"
	RulePLMapAdded         = "10.8"
	RulePLUserRemoved      = "10.9"
	RulePLUserAdded        = "10.10"
	RuleRedaction          = "redaction" // v1–v2 m.room.redaction rule
)
