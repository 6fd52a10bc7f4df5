package auth_test

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/signing"
)

// user picks a sender or target: mostly the state's users, sometimes an
// outsider.
func (w *diffWorld) user() string {
	if w.chance(0.1) {
		return pick(w.rng, diffOutsiders)
	}
	return pick(w.rng, diffUsers)
}

// candidate makes a random event to check against state s of room r.
func (w *diffWorld) candidate(r *diffRoom, s diffState) evSpec {
	var prev []*event.Event
	for _, k := range slices.SortedFunc(maps.Keys(s), cmpStateKey) {
		if k.Type != event.TypeCreate {
			prev = append(prev, s[k])
		}
	}
	spec := evSpec{Prev: []*event.Event{pick(w.rng, prev)}, FakeSignatures: true}
	if w.chance(0.1) {
		spec.Prev = []*event.Event{r.create}
	}
	if w.chance(0.02) {
		// An event of another room.
		spec.RoomID = "!other:a.test"
		if w.v.RoomIDFromCreate {
			spec.RoomID = "!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		}
	}
	x := w.rng.Float64()
	switch {
	case x < 0.55:
		w.memberCandidate(&spec, r, s)
	case x < 0.72:
		w.powerLevelsCandidate(&spec, r, s)
	case x < 0.82:
		w.stateCandidate(&spec)
	case x < 0.94:
		w.messageCandidate(&spec)
	default:
		w.createCandidate(&spec)
	}
	return spec
}

func cmpStateKey(a, b event.StateKey) int {
	if a.Type != b.Type {
		if a.Type < b.Type {
			return -1
		}
		return 1
	}
	switch {
	case a.StateKey < b.StateKey:
		return -1
	case a.StateKey > b.StateKey:
		return 1
	}
	return 0
}

func (w *diffWorld) memberCandidate(spec *evSpec, r *diffRoom, s diffState) {
	spec.Type = event.TypeMember
	spec.Sender = w.user()
	target := spec.Sender
	switch x := w.rng.Float64(); {
	case x < 0.45:
	case x < 0.97:
		target = w.user()
	default:
		target = pick(w.rng, badUserIDs)
	}
	spec.StateKey = sp(target)
	if w.chance(0.01) {
		spec.StateKey = nil
	}
	content := map[string]any{}
	membership := pick(w.rng, []any{"join", "join", "join", "invite", "invite", "invite", "leave", "leave", "leave",
		"ban", "ban", "knock", "knock", nil, "dance", 5})
	if membership != nil {
		content["membership"] = membership
	}
	if w.chance(0.2) {
		content["displayname"] = "D"
	}
	viaChance := 0.03
	if membership == "join" {
		viaChance = 0.4
	}
	if w.chance(viaChance) {
		var via any = pick(w.rng, diffUsers)
		if w.chance(0.05) {
			via = pick(w.rng, []any{"notauser", 5, ""})
		}
		content["join_authorised_via_users_server"] = via
		if u, ok := via.(string); ok && w.chance(0.85) {
			spec.Signers = append(spec.Signers, mxid.Domain(u))
		}
	}
	if membership == "invite" && w.chance(0.3) {
		content["third_party_invite"] = w.thirdPartyInvite(target)
	}
	spec.Content = content
}

// thirdPartyInvite makes content.third_party_invite, usually well signed.
func (w *diffWorld) thirdPartyInvite(target string) any {
	if w.chance(0.03) {
		return nil
	}
	signed := map[string]any{"mxid": target, "token": pick(w.rng, []string{"tok1", "tok2", "tok3", "tok3", "nope"})}
	if w.chance(0.08) {
		signed["mxid"] = w.user()
	}
	if w.chance(0.04) {
		delete(signed, pick(w.rng, []string{"mxid", "token"}))
	}
	if w.chance(0.08) {
		signed["extra"] = "x"
	}
	raw, _ := json.Marshal(signed)
	for _, server := range idServers {
		if w.chance(0.45) {
			var err error
			if raw, err = signing.SignJSON(raw, roomtest.Key(server), w.v.StrictCanonicalJSON); err != nil {
				w.t.Fatal(err)
			}
		}
	}
	tpi := map[string]any{"display_name": "i", "signed": json.RawMessage(raw)}
	if w.chance(0.04) {
		delete(tpi, "signed")
	}
	return tpi
}

func (w *diffWorld) powerLevelsCandidate(spec *evSpec, r *diffRoom, s diffState) {
	spec.Type, spec.StateKey = event.TypePowerLevels, sp("")
	spec.Sender = diffCreator
	if w.chance(0.65) {
		spec.Sender = pick(w.rng, diffUsers)
	}
	var c map[string]any
	if cur := s[event.StateKey{Type: event.TypePowerLevels}]; cur != nil && w.chance(0.85) {
		_ = json.Unmarshal(cur.Content(), &c)
	} else {
		c = w.randomPowerLevels(r)
	}
	sub := func(k string) map[string]any {
		m, ok := c[k].(map[string]any)
		if !ok {
			m = map[string]any{}
			c[k] = m
		}
		return m
	}
	for range 1 + w.rng.IntN(3) {
		switch w.rng.IntN(9) {
		case 0, 1:
			k := pick(w.rng, plScalars)
			if w.chance(0.25) {
				delete(c, k)
			} else {
				c[k] = w.level()
			}
		case 2, 3:
			u := w.user()
			if w.v.PrivilegedCreators && slices.Contains(r.creators, u) {
				continue // case 7 adds creators
			}
			if w.chance(0.3) {
				delete(sub("users"), u)
			} else {
				sub("users")[u] = w.level()
			}
		case 4, 5:
			t := pick(w.rng, eventTypes)
			if w.chance(0.3) {
				delete(sub("events"), t)
			} else {
				sub("events")[t] = w.level()
			}
		case 6:
			k := pick(w.rng, []string{"room", "custom"})
			if w.chance(0.3) {
				delete(sub("notifications"), k)
			} else {
				sub("notifications")[k] = w.level()
			}
		case 7:
			if w.v.PrivilegedCreators && w.chance(0.5) {
				sub("users")[pick(w.rng, r.creators)] = 100
			} else {
				delete(c, pick(w.rng, []string{"users", "events", "notifications"}))
			}
		case 8:
			w.malformPowerLevels(c, sub)
		}
	}
	spec.Content = c
}

// malformPowerLevels puts one value in c that some versions reject.
func (w *diffWorld) malformPowerLevels(c map[string]any, sub func(string) map[string]any) {
	switch w.rng.IntN(8) {
	case 0:
		c[pick(w.rng, plScalars)] = pick(w.rng, []any{"50", " 7 ", "abc", "5.5", true})
	case 1:
		sub("users")[pick(w.rng, badUserIDs)] = 10
	case 2:
		sub("users")[w.user()] = pick(w.rng, []any{"20", "x", nil})
	case 3:
		sub("events")[pick(w.rng, eventTypes)] = pick(w.rng, []any{"20", "x", map[string]any{}})
	case 4:
		c[pick(w.rng, []string{"users", "events", "notifications"})] = pick(w.rng, []any{"x", []any{1}, 7})
	case 5:
		c[pick(w.rng, plScalars)] = nil
	case 6:
		c[pick(w.rng, []string{"users", "events", "notifications"})] = nil
	case 7:
		sub("notifications")["room"] = pick(w.rng, []any{"30", "x"})
	}
}

func (w *diffWorld) stateCandidate(spec *evSpec) {
	spec.Sender = w.user()
	switch w.rng.IntN(6) {
	case 0:
		spec.Type, spec.StateKey = event.TypeJoinRules, sp("")
		spec.Content = map[string]any{"join_rule": pick(w.rng, joinRuleChoices)}
	case 1:
		spec.Type = pick(w.rng, []string{"m.room.name", "m.room.topic", "m.room.history_visibility"})
		spec.StateKey = sp("")
		spec.Content = map[string]any{"name": "n"}
	case 2:
		spec.Type = "com.example.state"
		spec.StateKey = sp(pick(w.rng, []string{"", "x", spec.Sender, w.user(), "@"}))
	case 3:
		spec.Type = event.TypeThirdPartyInvite
		spec.StateKey = sp(pick(w.rng, []string{"tok1", "tokN", w.user()}))
		spec.Content = map[string]any{"display_name": "d", "public_key": pubKey("id1.test")}
	default:
		spec.Type = event.TypeAliases
		switch w.rng.IntN(4) {
		case 0:
			spec.StateKey = nil
		case 1:
			spec.StateKey = sp(pick(w.rng, []string{"a.test", "b.test", "c.test"}))
		default:
			spec.StateKey = sp(mxid.Domain(spec.Sender))
		}
		spec.Content = map[string]any{"aliases": []string{"#a:" + mxid.Domain(spec.Sender)}}
	}
}

func (w *diffWorld) messageCandidate(spec *evSpec) {
	spec.Sender = w.user()
	spec.Content = map[string]any{"body": "b"}
	switch w.rng.IntN(3) {
	case 0:
		spec.Type = "m.room.message"
	case 1:
		spec.Type = "com.example.event"
	default:
		spec.Type = event.TypeRedaction
		spec.Content = map[string]any{}
		spec.Redacts = pick(w.rng, []string{"$x:a.test", "$x:b.test", "$x:c.test", "$nodomain", ""})
		if w.chance(0.2) {
			spec.IDServer = pick(w.rng, []string{"a.test", "b.test", "c.test"})
		}
	}
}

func (w *diffWorld) createCandidate(spec *evSpec) {
	v := w.v
	spec.Type, spec.StateKey = event.TypeCreate, sp("")
	spec.Sender = pick(w.rng, []string{diffCreator, diffCreator, w.user()})
	if w.chance(0.7) {
		spec.Prev = nil
	}
	content := createContent(v, spec.Sender)
	switch w.rng.IntN(8) {
	case 0:
		content["room_version"] = pick(w.rng, []any{"99", 5, "1", "12"})
	case 1:
		delete(content, "room_version")
	case 2:
		if !v.CreatorIsSender {
			content["creator"] = pick(w.rng, []any{nil, 5, "@bob:b.test"})
			if w.chance(0.5) {
				delete(content, "creator")
			}
		}
	case 3:
		content["additional_creators"] = pick(w.rng, []any{[]any{"@bob:b.test"}, []any{"notauser"}, "x", []any{5}, []any{}})
	case 4:
		spec.StateKey = sp(pick(w.rng, []string{"x", "@alice:a.test"}))
	case 5:
		content["m.federate"] = false
	}
	if !v.RoomIDFromCreate && w.chance(0.2) {
		spec.RoomID = "!other:" + pick(w.rng, []string{"a.test", "b.test"})
	}
	spec.Content = content
}
