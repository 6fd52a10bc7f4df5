package event

import (
	"slices"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// Top-level keys kept by redaction.
var (
	keepTopV1 = []string{"auth_events", "content", "depth", "event_id", "hashes", "membership",
		"origin", "origin_server_ts", "prev_events", "prev_state", "room_id", "sender",
		"signatures", "state_key", "type"}
	keepTopV11 = []string{"auth_events", "content", "depth", "event_id", "hashes",
		"origin_server_ts", "prev_events", "room_id", "sender", "signatures", "state_key", "type"}
)

// keepContent returns the content keys kept for an event type, and whether all
// keys are kept.
func keepContent(alg roomversion.RedactionAlgorithm, typ string) (keys []string, all bool) {
	switch typ {
	case TypeMember:
		if alg >= roomversion.RedactionV9 {
			return []string{"join_authorised_via_users_server", "membership"}, false
		}
		return []string{"membership"}, false
	case TypeCreate:
		if alg >= roomversion.RedactionV11 {
			return nil, true
		}
		return []string{"creator"}, false
	case TypeJoinRules:
		if alg >= roomversion.RedactionV8 {
			return []string{"allow", "join_rule"}, false
		}
		return []string{"join_rule"}, false
	case TypePowerLevels:
		if alg >= roomversion.RedactionV11 {
			return []string{"ban", "events", "events_default", "invite", "kick", "redact",
				"state_default", "users", "users_default"}, false
		}
		return []string{"ban", "events", "events_default", "kick", "redact",
			"state_default", "users", "users_default"}, false
	case TypeAliases:
		if alg == roomversion.RedactionV1 {
			return []string{"aliases"}, false
		}
	case TypeHistoryVisibility:
		return []string{"history_visibility"}, false
	case TypeRedaction:
		if alg >= roomversion.RedactionV11 {
			return []string{"redacts"}, false
		}
	}
	return nil, false
}

// Redact applies room version v's redaction algorithm to event JSON and
// returns the canonical redacted JSON.
func Redact(raw []byte, v *roomversion.Version) ([]byte, error) {
	canonical, err := cjson.Encode(raw, cjson.Options{Strict: v.StrictCanonicalJSON})
	if err != nil {
		return nil, err
	}
	root := gjson.ParseBytes(canonical)
	if !root.IsObject() {
		return nil, invalid("event is not an object")
	}
	keepTop := keepTopV1
	if v.Redaction >= roomversion.RedactionV11 {
		keepTop = keepTopV11
	}
	typ := root.Get("type").String()
	contentKeys, keepAll := keepContent(v.Redaction, typ)
	out := make([]byte, 0, len(canonical))
	out = append(out, '{')
	first := true
	// canonical input is sorted, so appending kept members in order stays canonical.
	root.ForEach(func(k, val gjson.Result) bool {
		if !slices.Contains(keepTop, k.Str) {
			return true
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = cjson.AppendString(out, k.Str)
		out = append(out, ':')
		if k.Str != "content" || keepAll {
			out = append(out, val.Raw...)
			return true
		}
		out = appendRedactedContent(out, val, contentKeys, typ, v.Redaction)
		return true
	})
	out = append(out, '}')
	return out, nil
}

func appendRedactedContent(out []byte, content gjson.Result, keys []string, typ string, alg roomversion.RedactionAlgorithm) []byte {
	out = append(out, '{')
	first := true
	content.ForEach(func(k, val gjson.Result) bool {
		var raw string
		switch {
		case slices.Contains(keys, k.Str):
			raw = val.Raw
		case alg >= roomversion.RedactionV11 && typ == TypeMember && k.Str == "third_party_invite":
			signed := val.Get("signed")
			if !val.IsObject() || !signed.Exists() {
				return true
			}
			raw = `{"signed":` + signed.Raw + `}`
		default:
			return true
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = cjson.AppendString(out, k.Str)
		out = append(out, ':')
		out = append(out, raw...)
		return true
	})
	return append(out, '}')
}
