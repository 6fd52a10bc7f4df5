package auth

// powerLevelsChange applies rule 10 to an m.room.power_levels event that has
// passed rules 6 to 9. Levels are compared by their parsed values, and only
// where a property or entry is present: an added entry has no current value to
// check, a removed one no new value.
func (c *checker) powerLevelsChange(senderLevel int64) error {
	e := c.e
	next, err := PowerLevelsOf(e)
	if err != nil {
		return err // rules 10.1–10.3
	}
	if c.v.PrivilegedCreators {
		for _, u := range c.ci.creators {
			if _, ok := next.Users[u]; ok {
				return reject(RulePLCreators, "users must not contain the room creator %s", u)
			}
		}
	}
	lv, err := c.powerLevelsView()
	if err != nil {
		return err
	}
	if !lv.hasEvent {
		return nil // 10.5
	}
	cur := lv.pl
	// 10.6: users_default, events_default, state_default, ban, redact, kick, invite.
	for i := range numProps {
		bit := uint8(1) << i
		had, has := cur.present&bit != 0, next.present&bit != 0
		was, now := *cur.prop(i), *next.prop(i)
		if had == has && (!had || was == now) {
			continue
		}
		if had && was > senderLevel {
			return reject(RulePLScalarChange, "%s: current value %d is above the sender's level %d", propNames[i], was, senderLevel)
		}
		if has && now > senderLevel {
			return reject(RulePLScalarChange, "%s: new value %d is above the sender's level %d", propNames[i], now, senderLevel)
		}
	}
	// 10.7 and 10.8: events, and notifications from room version 6.
	maps := [2][2]map[string]int64{{cur.Events, next.Events}, {cur.Notifications, next.Notifications}}
	names := [2]string{"events", "notifications"}
	n := 1
	if c.v.AuthNotificationsPL {
		n = 2
	}
	for i := range n {
		for k, was := range maps[i][0] {
			if now, ok := maps[i][1][k]; (!ok || now != was) && was > senderLevel {
				return reject(RulePLMapRemoved, "%s[%q]: current value %d is above the sender's level %d", names[i], k, was, senderLevel)
			}
		}
	}
	for i := range n {
		for k, now := range maps[i][1] {
			if was, ok := maps[i][0][k]; (!ok || now != was) && now > senderLevel {
				return reject(RulePLMapAdded, "%s[%q]: new value %d is above the sender's level %d", names[i], k, now, senderLevel)
			}
		}
	}
	// 10.9 and 10.10: users.
	for u, was := range cur.Users {
		if u == e.Sender() {
			continue
		}
		if now, ok := next.Users[u]; (!ok || now != was) && was >= senderLevel {
			return reject(RulePLUserRemoved, "users[%q]: current value %d is not below the sender's level %d", u, was, senderLevel)
		}
	}
	for u, now := range next.Users {
		if was, ok := cur.Users[u]; (!ok || now != was) && now > senderLevel {
			return reject(RulePLUserAdded, "users[%q]: new value %d is above the sender's level %d", u, now, senderLevel)
		}
	}
	return nil
}
