package auth_test

import (
	"maps"
	"slices"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
)

// powerLevelsChangeDiverges explains a disagreement on a power levels change
// (rules 10.5–10.10): gomatrixserverlib compares effective levels (defaults
// filled in) where the spec compares the properties and entries present, it
// skips users_default, checks events[m.room.third_party_invite] as the invite
// level, rejects notifications changes from a current value equal to the
// sender's level, and takes the sender's level for notifications without v12
// creators. The case is explained only when a direct model of the spec's
// rules agrees with Concord, a model of that behaviour agrees with
// gomatrixserverlib, and the two models differ.
func powerLevelsChangeDiverges(c *diffCase) bool {
	if c.e.Type() != event.TypePowerLevels {
		return false
	}
	if c.mine != nil {
		ae, ok := c.mine.(*auth.Error)
		if !ok || !slices.Contains([]string{auth.RulePLScalarChange, auth.RulePLMapRemoved, auth.RulePLMapAdded,
			auth.RulePLUserRemoved, auth.RulePLUserAdded}, ae.Rule) {
			return false
		}
	}
	next, err := auth.PowerLevelsOf(c.e)
	if err != nil {
		return false
	}
	var cur *auth.PowerLevels
	if ev := c.state[event.StateKey{Type: event.TypePowerLevels}]; ev != nil {
		cur, _ = auth.PowerLevelsOf(ev)
	}
	specOK := specPowerLevelsModel(c, cur, next)
	oracleOK := oraclePowerLevelsModel(c, cur, next)
	return specOK != oracleOK && specOK == (c.mine == nil) && oracleOK == (c.theirs == nil)
}

// scalar returns a scalar property and whether the content had it.
func scalar(p *auth.PowerLevels, name string) (int64, bool) {
	var v int64
	switch name {
	case "users_default":
		v = p.UsersDefault
	case "events_default":
		v = p.EventsDefault
	case "state_default":
		v = p.StateDefault
	case "ban":
		v = p.Ban
	case "redact":
		v = p.Redact
	case "kick":
		v = p.Kick
	case "invite":
		v = p.Invite
	}
	return v, p.Has(name)
}

// specPowerLevelsModel transcribes rules 10.5–10.10.
func specPowerLevelsModel(c *diffCase, cur, next *auth.PowerLevels) bool {
	if cur == nil {
		return true // 10.5
	}
	sender := c.e.Sender()
	sl := c.level(sender)
	for _, name := range plScalars {
		was, had := scalar(cur, name)
		now, has := scalar(next, name)
		if had && has && was == now || !had && !has {
			continue
		}
		if had && was > sl || has && now > sl {
			return false
		}
	}
	pairs := [][2]map[string]int64{{cur.Events, next.Events}}
	if c.v.AuthNotificationsPL {
		pairs = append(pairs, [2]map[string]int64{cur.Notifications, next.Notifications})
	}
	for _, p := range pairs {
		for k, was := range p[0] {
			if now, ok := p[1][k]; (!ok || now != was) && was > sl {
				return false
			}
		}
		for k, now := range p[1] {
			if was, ok := p[0][k]; (!ok || now != was) && now > sl {
				return false
			}
		}
	}
	for u, was := range cur.Users {
		if now, ok := next.Users[u]; u != sender && (!ok || now != was) && was >= sl {
			return false
		}
	}
	for u, now := range next.Users {
		if was, ok := cur.Users[u]; (!ok || now != was) && now > sl {
			return false
		}
	}
	return true
}

// oraclePowerLevelsModel describes gomatrixserverlib's comparison of
// effective levels (eventauth.go: checkEventLevels, checkUserLevels,
// checkPowerLevelEventV2).
func oraclePowerLevelsModel(c *diffCase, cur, next *auth.PowerLevels) bool {
	const creatorLevel = int64(1) << 53 // gomatrixserverlib.CreatorPowerLevel
	sender, createSender := c.e.Sender(), c.create.Sender()
	old := cur
	if old == nil {
		old = auth.DefaultPowerLevels()
		old.Users = map[string]int64{createSender: creatorLevel - 1}
		old.Notifications = nil
	}
	var sl int64
	switch {
	case c.v.PrivilegedCreators && slices.Contains(auth.Creators(c.create), sender):
		sl = creatorLevel
	case cur == nil && sender == createSender:
		sl = creatorLevel - 1
	case cur == nil:
		sl = 0
	default:
		sl = old.UserLevel(sender)
	}
	changeOK := func(was, now, level int64) bool { return was == now || level >= now && level >= was }
	for _, name := range []string{"ban", "invite", "kick", "redact", "state_default", "events_default"} {
		was, _ := scalar(old, name)
		now, _ := scalar(next, name)
		if !changeOK(was, now, sl) {
			return false
		}
	}
	eventLevel := func(p *auth.PowerLevels, typ string) int64 {
		if typ == event.TypeThirdPartyInvite {
			return p.Invite
		}
		return p.EventLevel(typ, false)
	}
	for _, k := range unionKeys(old.Events, next.Events) {
		if !changeOK(eventLevel(old, k), eventLevel(next, k), sl) {
			return false
		}
	}
	if c.v.AuthNotificationsPL {
		nl := old.UserLevel(sender)
		for _, k := range unionKeys(old.Notifications, next.Notifications) {
			was, now := old.NotificationLevel(k), next.NotificationLevel(k)
			if was != now && (nl < now || nl <= was) {
				return false
			}
		}
	}
	for _, u := range unionKeys(old.Users, next.Users) {
		was, now := old.UserLevel(u), next.UserLevel(u)
		if was == now {
			continue
		}
		if sl < now || u != sender && sl <= was {
			return false
		}
	}
	return true
}

func unionKeys(a, b map[string]int64) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	return keys
}
