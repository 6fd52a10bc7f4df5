package clientapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// upgradeCopiedTypes are the state events (state key "") a room upgrade
// copies after the power levels: the spec's recommendation, as Synapse
// does, plus the pinned events.
var upgradeCopiedTypes = []string{event.TypeJoinRules, event.TypeHistoryVisibility, "m.room.guest_access",
	"m.room.name", "m.room.topic", "m.room.avatar", "m.room.encryption", "m.room.server_acl", "m.room.pinned_events"}

type upgradeInput struct {
	upgrader    string
	join        map[string]any // the upgrader's join content
	oldVersion  *roomversion.Version
	newVersion  *roomversion.Version
	oldCreators []string
	newCreators []string
	state       map[event.StateKey]*event.Event // the old room's current state
	server      string
}

// upgradeState lists the new room's events after its create event: the
// upgrader's join; power levels copied from the old room (integers only,
// the new room's creators taken out of users in version 12, the old room's
// version 12 creators kept at 100), raised for the upgrader when they need
// more power to copy the rest; the copied state; the space's children and
// parents (m.space.child only for spaces, as Synapse; m.space.parent as
// MSC4168 suggests); the local part of the canonical alias; the bans; and
// the final power levels when they were raised.
func upgradeState(in upgradeInput) []roomserver.Proposal {
	empty := ""
	prop := func(typ, key string, content json.RawMessage) roomserver.Proposal {
		return roomserver.Proposal{Type: typ, StateKey: &key, Sender: in.upgrader, Content: content}
	}
	joinRaw, _ := json.Marshal(in.join)
	ps := []roomserver.Proposal{prop(event.TypeMember, in.upgrader, joinRaw)}

	final := upgradedPowerLevels(in)
	initial := final
	if !in.newVersion.PrivilegedCreators {
		if needed := neededLevel(final); upgradeLevelOf(final, in.upgrader) < needed {
			initial = cloneLevels(final)
			initial["users"].(map[string]any)[in.upgrader] = needed
		}
	}
	initialRaw, _ := json.Marshal(initial)
	ps = append(ps, prop(event.TypePowerLevels, empty, initialRaw))

	for _, typ := range upgradeCopiedTypes {
		if e := in.state[event.StateKey{Type: typ}]; e != nil {
			ps = append(ps, prop(typ, empty, e.Content()))
		}
	}
	isSpace := false
	if c := in.state[event.StateKey{Type: event.TypeCreate}]; c != nil {
		isSpace = gjson.GetBytes(c.Content(), "type").Str == "m.space"
	}
	var keys []event.StateKey
	for k := range in.state {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Type != keys[j].Type {
			return keys[i].Type < keys[j].Type
		}
		return keys[i].StateKey < keys[j].StateKey
	})
	for _, k := range keys {
		content := in.state[k].Content()
		if (k.Type == "m.space.child" && isSpace) || k.Type == "m.space.parent" {
			if !bytes.Equal(bytes.TrimSpace(content), []byte("{}")) {
				ps = append(ps, prop(k.Type, k.StateKey, content))
			}
		}
	}
	if ca := in.state[event.StateKey{Type: "m.room.canonical_alias"}]; ca != nil {
		if _, moved := splitCanonicalAlias(ca.Content(), in.server); moved != nil {
			ps = append(ps, prop("m.room.canonical_alias", empty, moved))
		}
	}
	ps = append(ps, upgradeBans(in, initialRaw, keys)...)
	if !sameLevels(initial, final) {
		finalRaw, _ := json.Marshal(final)
		ps = append(ps, prop(event.TypePowerLevels, empty, finalRaw))
	}
	return ps
}

// upgradeBans copies the old room's bans the upgrader has the power to make
// in the new room (with the initial power levels).
func upgradeBans(in upgradeInput, levels json.RawMessage, keys []event.StateKey) []roomserver.Proposal {
	pl, _ := auth.ParsePowerLevels(in.newVersion, levels)
	mine := pl.UserLevel(in.upgrader)
	if in.newVersion.PrivilegedCreators {
		mine = auth.Infinite
	}
	var out []roomserver.Proposal
	for _, k := range keys {
		e := in.state[k]
		if k.Type != event.TypeMember || e.Membership() != event.Ban || slices.Contains(in.newCreators, k.StateKey) {
			continue
		}
		if mine < pl.Ban || pl.UserLevel(k.StateKey) >= mine {
			continue
		}
		content := map[string]any{"membership": event.Ban}
		if r := gjson.GetBytes(e.Content(), "reason"); r.Type == gjson.String {
			content["reason"] = r.Str
		}
		raw, _ := json.Marshal(content)
		target := k.StateKey
		out = append(out, roomserver.Proposal{Type: event.TypeMember, StateKey: &target, Sender: in.upgrader, Content: raw})
	}
	return out
}

// upgradedPowerLevels is the new room's power levels content.
func upgradedPowerLevels(in upgradeInput) map[string]any {
	ple := in.state[event.StateKey{Type: event.TypePowerLevels}]
	var content map[string]any
	if ple != nil {
		content = powerLevelsContent(ple)
	} else {
		content = powerLevelsContent(nil)
	}
	users := content["users"].(map[string]any)
	// The old room's creators had power beyond users: 100 without power
	// levels before version 12, infinite in version 12.
	if ple == nil || in.oldVersion.PrivilegedCreators {
		for _, c := range in.oldCreators {
			if _, ok := users[c]; !ok {
				users[c] = int64(100)
			}
		}
	}
	if in.newVersion.PrivilegedCreators {
		for _, c := range in.newCreators {
			delete(users, c)
		}
	}
	return content
}

// powerLevelsContent is a power levels content with every level an integer
// (room versions 10+ reject strings), unknown keys kept; nil gives the
// defaults.
func powerLevelsContent(pl *event.Event) map[string]any {
	parsed := auth.DefaultPowerLevels()
	content := map[string]any{}
	if pl != nil {
		parsed, _ = auth.PowerLevelsOf(pl)
		dec := json.NewDecoder(bytes.NewReader(pl.Content()))
		dec.UseNumber()
		_ = dec.Decode(&content)
	}
	for k, v := range map[string]int64{"users_default": parsed.UsersDefault, "events_default": parsed.EventsDefault,
		"state_default": parsed.StateDefault, "ban": parsed.Ban, "kick": parsed.Kick, "redact": parsed.Redact,
		"invite": parsed.Invite} {
		content[k] = v
	}
	for k, m := range map[string]map[string]int64{"events": parsed.Events, "users": parsed.Users, "notifications": parsed.Notifications} {
		out := make(map[string]any, len(m))
		for kk, v := range m {
			out[kk] = v
		}
		content[k] = out
	}
	return content
}

// neededLevel is the level that may send every state event and ban.
func neededLevel(pl map[string]any) int64 {
	n := max(pl["state_default"].(int64), pl["ban"].(int64))
	for _, v := range pl["events"].(map[string]any) {
		n = max(n, v.(int64))
	}
	return n
}

func upgradeLevelOf(pl map[string]any, user string) int64 {
	if v, ok := pl["users"].(map[string]any)[user]; ok {
		return v.(int64)
	}
	return pl["users_default"].(int64)
}

func cloneLevels(pl map[string]any) map[string]any {
	out := make(map[string]any, len(pl))
	for k, v := range pl {
		out[k] = v
	}
	users := map[string]any{}
	for k, v := range pl["users"].(map[string]any) {
		users[k] = v
	}
	out["users"] = users
	return out
}

func sameLevels(x, y map[string]any) bool {
	a, _ := json.Marshal(x)
	b, _ := json.Marshal(y)
	return bytes.Equal(a, b)
}

// splitCanonicalAlias splits a canonical alias content into what stays in
// the old room (aliases of other servers) and what moves with the local
// aliases (nil when nothing does).
func splitCanonicalAlias(content json.RawMessage, server string) (kept, moved json.RawMessage) {
	keep := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.UseNumber()
	_ = dec.Decode(&keep)
	move := map[string]any{}
	if alias, ok := keep["alias"].(string); ok && mxid.Domain(alias) == server {
		move["alias"] = alias
		delete(keep, "alias")
	}
	if alt, ok := keep["alt_aliases"].([]any); ok {
		var stay, go_ []any
		for _, x := range alt {
			if s, ok := x.(string); ok && mxid.Domain(s) == server {
				go_ = append(go_, s)
			} else {
				stay = append(stay, x)
			}
		}
		if len(go_) > 0 {
			move["alt_aliases"] = go_
			if len(stay) > 0 {
				keep["alt_aliases"] = stay
			} else {
				delete(keep, "alt_aliases")
			}
		}
	}
	if len(move) == 0 {
		return content, nil
	}
	kept, _ = json.Marshal(keep)
	moved, _ = json.Marshal(move)
	return kept, moved
}
