package event

import (
	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/roomversion"
)

// AuthEventKeys lists the state keys whose current events form the
// auth_events of a new event (server-server API, "Auth events selection").
// content is the new event's raw content.
func AuthEventKeys(v *roomversion.Version, typ string, stateKey *string, sender string, content []byte) []StateKey {
	if typ == TypeCreate && stateKey != nil && *stateKey == "" {
		return nil
	}
	keys := make([]StateKey, 0, 6)
	if v.CreateInAuthEvents {
		keys = append(keys, StateKey{Type: TypeCreate})
	}
	keys = append(keys, StateKey{Type: TypePowerLevels}, StateKey{Type: TypeMember, StateKey: sender})
	if typ != TypeMember || stateKey == nil {
		return keys
	}
	if *stateKey != sender {
		keys = append(keys, StateKey{Type: TypeMember, StateKey: *stateKey})
	}
	membership := gjson.GetBytes(content, "membership")
	switch membership.Str {
	case Join, Invite, Knock:
		keys = append(keys, StateKey{Type: TypeJoinRules})
	}
	if membership.Str == Invite {
		if token := gjson.GetBytes(content, "third_party_invite.signed.token"); token.Type == gjson.String {
			keys = append(keys, StateKey{Type: TypeThirdPartyInvite, StateKey: token.Str})
		}
	}
	if membership.Str == Join && v.RestrictedJoins {
		if via := gjson.GetBytes(content, "join_authorised_via_users_server"); via.Type == gjson.String {
			keys = appendUnique(keys, StateKey{Type: TypeMember, StateKey: via.Str})
		}
	}
	return keys
}

func appendUnique(keys []StateKey, k StateKey) []StateKey {
	for _, have := range keys {
		if have == k {
			return keys
		}
	}
	return append(keys, k)
}

// SelectAuthEvents picks the auth events of a new event from the current
// state, looked up with get (which returns nil when the key is absent).
func SelectAuthEvents(v *roomversion.Version, typ string, stateKey *string, sender string, content []byte, get func(StateKey) *Event) []*Event {
	var out []*Event
	for _, k := range AuthEventKeys(v, typ, stateKey, sender, content) {
		if e := get(k); e != nil {
			out = append(out, e)
		}
	}
	return out
}
