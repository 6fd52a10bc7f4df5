package pushrules

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// The server-default rules (client-server API, push module, "Predefined
// Rules"), in priority order within each kind. The legacy body-based mention
// rules that the spec dropped in v1.17 (.m.rule.contains_display_name,
// .m.rule.roomnotif, .m.rule.contains_user_name) are kept at their historical
// places for clients that do not send m.mentions, as Synapse does; they never
// match events with m.mentions (see legacyMentionRules).
//
// "{{user_id}}" and "{{localpart}}" (with their quotes) are replaced by the
// JSON strings of the user's Matrix ID and localpart.
const defaultOverride = `[
{"rule_id": ".m.rule.master", "default": true, "enabled": false, "conditions": [], "actions": []},
{"rule_id": ".m.rule.suppress_notices", "default": true, "enabled": true,
 "conditions": [{"kind": "event_match", "key": "content.msgtype", "pattern": "m.notice"}], "actions": []},
{"rule_id": ".m.rule.invite_for_me", "default": true, "enabled": true,
 "conditions": [
   {"key": "type", "kind": "event_match", "pattern": "m.room.member"},
   {"key": "content.membership", "kind": "event_match", "pattern": "invite"},
   {"key": "state_key", "kind": "event_match", "pattern": "{{user_id}}"}],
 "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
{"rule_id": ".m.rule.member_event", "default": true, "enabled": true,
 "conditions": [{"key": "type", "kind": "event_match", "pattern": "m.room.member"}], "actions": []},
{"rule_id": ".m.rule.is_user_mention", "default": true, "enabled": true,
 "conditions": [{"kind": "event_property_contains", "key": "content.m\\.mentions.user_ids", "value": "{{user_id}}"}],
 "actions": ["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}]},
{"rule_id": ".m.rule.contains_display_name", "default": true, "enabled": true,
 "conditions": [{"kind": "contains_display_name"}],
 "actions": ["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}]},
{"rule_id": ".m.rule.is_room_mention", "default": true, "enabled": true,
 "conditions": [
   {"kind": "event_property_is", "key": "content.m\\.mentions.room", "value": true},
   {"kind": "sender_notification_permission", "key": "room"}],
 "actions": ["notify", {"set_tweak": "highlight"}]},
{"rule_id": ".m.rule.roomnotif", "default": true, "enabled": true,
 "conditions": [
   {"kind": "event_match", "key": "content.body", "pattern": "@room"},
   {"kind": "sender_notification_permission", "key": "room"}],
 "actions": ["notify", {"set_tweak": "highlight"}]},
{"rule_id": ".m.rule.tombstone", "default": true, "enabled": true,
 "conditions": [
   {"kind": "event_match", "key": "type", "pattern": "m.room.tombstone"},
   {"kind": "event_match", "key": "state_key", "pattern": ""}],
 "actions": ["notify", {"set_tweak": "highlight"}]},
{"rule_id": ".m.rule.reaction", "default": true, "enabled": true,
 "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.reaction"}], "actions": []},
{"rule_id": ".m.rule.room.server_acl", "default": true, "enabled": true,
 "conditions": [
   {"kind": "event_match", "key": "type", "pattern": "m.room.server_acl"},
   {"kind": "event_match", "key": "state_key", "pattern": ""}],
 "actions": []},
{"rule_id": ".m.rule.suppress_edits", "default": true, "enabled": true,
 "conditions": [{"kind": "event_property_is", "key": "content.m\\.relates_to.rel_type", "value": "m.replace"}],
 "actions": []}
]`

const defaultContent = `[
{"rule_id": ".m.rule.contains_user_name", "default": true, "enabled": true, "pattern": "{{localpart}}",
 "actions": ["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}]}
]`

const defaultUnderride = `[
{"rule_id": ".m.rule.call", "default": true, "enabled": true,
 "conditions": [{"key": "type", "kind": "event_match", "pattern": "m.call.invite"}],
 "actions": ["notify", {"set_tweak": "sound", "value": "ring"}]},
{"rule_id": ".m.rule.encrypted_room_one_to_one", "default": true, "enabled": true,
 "conditions": [{"kind": "room_member_count", "is": "2"}, {"kind": "event_match", "key": "type", "pattern": "m.room.encrypted"}],
 "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
{"rule_id": ".m.rule.room_one_to_one", "default": true, "enabled": true,
 "conditions": [{"kind": "room_member_count", "is": "2"}, {"kind": "event_match", "key": "type", "pattern": "m.room.message"}],
 "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
{"rule_id": ".m.rule.message", "default": true, "enabled": true,
 "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.message"}], "actions": ["notify"]},
{"rule_id": ".m.rule.encrypted", "default": true, "enabled": true,
 "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.encrypted"}], "actions": ["notify"]}
]`

// MasterRuleID is the rule that, when enabled, silences everything; it ranks
// above user-defined override rules.
const MasterRuleID = ".m.rule.master"

// legacyMentionRules are skipped for events whose content has m.mentions.
var legacyMentionRules = map[string]bool{
	".m.rule.contains_display_name": true,
	".m.rule.roomnotif":             true,
	".m.rule.contains_user_name":    true,
}

// IsServerDefault reports whether a rule ID is in the server-default
// namespace (it starts with a dot).
func IsServerDefault(ruleID string) bool { return strings.HasPrefix(ruleID, ".") }

// Defaults returns the server-default rules for userID, by kind, in priority
// order. Room and sender have none.
func Defaults(userID string) (Ruleset, error) {
	localpart := strings.TrimPrefix(userID, "@")
	if i := strings.IndexByte(localpart, ':'); i >= 0 {
		localpart = localpart[:i]
	}
	uid, err := json.Marshal(userID)
	if err != nil {
		return Ruleset{}, err
	}
	lp, err := json.Marshal(localpart)
	if err != nil {
		return Ruleset{}, err
	}
	fill := strings.NewReplacer(`"{{user_id}}"`, string(uid), `"{{localpart}}"`, string(lp))
	var rs Ruleset
	for _, d := range []struct {
		kind Kind
		text string
	}{{Override, defaultOverride}, {Content, defaultContent}, {Underride, defaultUnderride}} {
		var raws []json.RawMessage
		if err := json.Unmarshal([]byte(fill.Replace(d.text)), &raws); err != nil {
			return Ruleset{}, fmt.Errorf("pushrules: default %s rules: %w", d.kind, err)
		}
		rules := make([]Rule, 0, len(raws))
		for _, raw := range raws {
			r, err := decodeRule(d.kind, raw)
			if err != nil {
				return Ruleset{}, err
			}
			rules = append(rules, r)
		}
		rs.set(d.kind, rules)
	}
	return rs, nil
}

// DefaultKind returns the kind of the server-default rule ruleID, if there
// is one.
func DefaultKind(ruleID string) (Kind, bool) {
	k, ok := defaultKinds()[ruleID]
	return k, ok
}

// defaultKinds maps each server-default rule ID to its kind (a read-only
// table, built once).
var defaultKinds = sync.OnceValue(func() map[string]Kind {
	out := map[string]Kind{}
	rs, err := Defaults("@user:server")
	if err != nil {
		return out // the default rule texts are constants: covered by tests
	}
	for _, k := range Kinds {
		for _, r := range rs.List(k) {
			out[r.RuleID] = k
		}
	}
	return out
})
