// Package auth implements the Matrix authorisation rules of room versions 1
// to 12 (room version specifications, "Authorisation rules"; server-server
// API, "Checks performed on receipt of a PDU").
//
// Check decides whether an event is allowed against a state (the state formed
// by its auth events, the state before it, or the current state for soft
// failure); CheckAuthEvents checks the auth_events list itself. A rejection is
// an *Error naming the rule, with rules numbered as in the room version 12
// list ("5.3.2") whatever the version, and short ids for rules only older
// versions have; errors.Is(err, ErrRejected) holds for all of them.
//
// Version differences are read from roomversion feature fields:
//
//   - v1–v2: m.room.redaction needs the redact level or the same server as the
//     redacted event's ID (AuthRedactionRule).
//   - v1–v5: m.room.aliases is allowed when its state key is the sender's
//     server, even from non-members (AuthAliasesRule).
//   - v6+: notifications levels are checked on power level changes
//     (AuthNotificationsPL).
//   - v7+: knock membership and join rule (Knocking); leaving from knock.
//   - v8+: restricted join rule, join_authorised_via_users_server (RestrictedJoins).
//   - v10+: knock_restricted (KnockRestricted); power levels must be integers
//     (IntegerPowerLevels); v1–v9 accept integer strings and floats.
//   - v11+: the creator is the create event's sender (CreatorIsSender).
//   - v12: room creators (sender plus additional_creators) have Infinite power
//     and may not appear in users; the create event is not an auth event and
//     the room ID names it (PrivilegedCreators, RoomIDFromCreate).
//
// Parsed power levels, create and join rules content are cached on each event
// (event.Memo), so repeated checks against shared state, as in state
// resolution, parse each event once.
//
// # Tests
//
// Besides golden cases in testdata/, a differential test compares Check with
// github.com/matrix-org/gomatrixserverlib (a test-only dependency) on seeded
// random rooms and events of every room version: 10,000 cases per version by
// default; set CONCORD_DIFF_CASES=N to run N per version (and
// CONCORD_DIFF_SEED=S to change the seed). Where that library disagrees with
// the spec, the spec wins: each known disagreement has a named regression test
// quoting the spec, and the differential test accepts a disagreement only when
// one of those named predicates explains it.
package auth
