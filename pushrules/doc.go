// Package pushrules is the push rule engine of the client-server API's push
// module: the rule and ruleset types with their JSON forms, the server-default
// rules for a user (in the spec's order), validation of user-supplied rules,
// and the evaluation of a ruleset against an event.
//
// It is pure: no I/O, no globals beyond read-only tables and a bounded cache
// of compiled glob patterns. Callers (pushserver) supply what rules need to
// know about the room: its joined member count, the evaluating user's display
// name, the sender's power level and the room's notification levels.
//
// Matching follows the spec's appendices: glob-style patterns ('*' and '?',
// case-insensitive; content.body matched on word boundaries) and
// dot-separated property paths with '\.' and '\\' escapes. The legacy
// body-based mention rules (.m.rule.contains_display_name, .m.rule.roomnotif,
// .m.rule.contains_user_name) are kept for clients that do not send
// m.mentions, and are skipped for events whose content has m.mentions, as the
// spec's mentions module describes.
package pushrules
