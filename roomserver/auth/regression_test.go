package auth_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
)

// oracleRegressions pins every known disagreement of gomatrixserverlib with
// the spec (see divergences): Concord must decide as the spec says, the
// oracle (at the pinned version) decides otherwise, and the differential
// test's predicate of the same name recognises the case.
var oracleRegressions = map[string][]string{
	"AliasesRuleAfterV5": {`{"name": "aliases for another server", "versions": "6-12", "allowed": true,
		"event": {"sender": "@alice:a.test", "type": "m.room.aliases", "state_key": "b.test", "content": {"aliases": []}}}`},
	"CreatorFirstJoinAnySender": {`{"name": "creator's join sent by another user", "versions": "1-12", "no_init": true, "allowed": true,
		"event": {"sender": "@bob:b.test", "type": "m.room.member", "state_key": "@alice:a.test", "prev": "create", "content": {"membership": "join"}}}`},
	"CreatorIsContentCreator": {
		`{"name": "content.creator joins first", "versions": "1-10", "no_init": true, "create": {"creator": "@dave:a.test"}, "allowed": true,
		"event": {"sender": "@dave:a.test", "type": "m.room.member", "state_key": "@dave:a.test", "prev": "create", "content": {"membership": "join"}}}`,
		`{"name": "content.creator has 100 without power levels", "versions": "1-10", "no_power_levels": true, "create": {"creator": "@dave:a.test"},
		"members": {"@dave:a.test": "join"}, "allowed": true,
		"event": {"sender": "@dave:a.test", "type": "m.room.topic", "state_key": "", "content": {"topic": "x"}}}`},
	"LeaveFromLeave": {`{"name": "leave again", "versions": "1-12", "members": {"@bob:b.test": "leave"}, "rule": "5.5.1",
		"event": {"sender": "@bob:b.test", "type": "m.room.member", "state_key": "@bob:b.test", "content": {"membership": "leave"}}}`},
	"JoinUnderOtherJoinRules": {
		`{"name": "invited user joins a private room", "versions": "1-12", "join_rule": "private", "members": {"@bob:b.test": "invite"}, "rule": "5.3.7",
		"event": {"sender": "@bob:b.test", "type": "m.room.member", "state_key": "@bob:b.test", "content": {"membership": "join"}}}`,
		`{"name": "invited user joins a knock room before v7", "versions": "1-6", "join_rule": "knock", "members": {"@bob:b.test": "invite"}, "rule": "5.3.7",
		"event": {"sender": "@bob:b.test", "type": "m.room.member", "state_key": "@bob:b.test", "content": {"membership": "join"}}}`},
	"PublicJoinFromKnock": {`{"name": "knocking user joins a public room", "versions": "7-12", "members": {"@bob:b.test": "knock"}, "allowed": true,
		"event": {"sender": "@bob:b.test", "type": "m.room.member", "state_key": "@bob:b.test", "content": {"membership": "join"}}}`},
	"KnockRestrictedBeforeV10": {
		`{"name": "knock on knock_restricted before v10", "versions": "7-9", "join_rule": "knock_restricted", "rule": "5.7.1",
		"event": {"sender": "@bob:b.test", "type": "m.room.member", "state_key": "@bob:b.test", "content": {"membership": "knock"}}}`,
		`{"name": "authorised join to knock_restricted before v10", "versions": "8-9", "join_rule": "knock_restricted", "rule": "5.3.7",
		"event": {"sender": "@bob:b.test", "type": "m.room.member", "state_key": "@bob:b.test", "signers": ["a.test"],
		"content": {"membership": "join", "join_authorised_via_users_server": "@alice:a.test"}}}`},
	"UnbanNeedsKickLevel": {`{"name": "unban below the kick level", "versions": "1-12", "members": {"@bob:b.test": "ban", "@dave:a.test": "join"},
		"power_levels": {"users": {"@alice:a.test": 100, "@dave:a.test": 20}, "ban": 10, "kick": 60}, "rule": "5.5.5",
		"event": {"sender": "@dave:a.test", "type": "m.room.member", "state_key": "@bob:b.test", "content": {"membership": "leave"}}}`},
	"ThirdPartyInviteTargetBanned": {`{"name": "third-party invite of a banned user", "versions": "1-12", "members": {"@bob:b.test": "ban"}, "rule": "5.4.1.1",
		"state": [{"sender": "@alice:a.test", "type": "m.room.third_party_invite", "state_key": "tok", "content": {"public_keys": [{"public_key": "${pubkey:id.test}"}]}}],
		"event": {"sender": "@alice:a.test", "type": "m.room.member", "state_key": "@bob:b.test", "sign_tpi": ["id.test"],
		"content": {"membership": "invite", "third_party_invite": {"signed": {"mxid": "@bob:b.test", "token": "tok"}}}}}`},
	"ThirdPartyInviteSender": {`{"name": "third-party invite completed by another member", "versions": "1-12", "members": {"@dave:a.test": "join"}, "rule": "5.4.1.6",
		"state": [{"sender": "@alice:a.test", "type": "m.room.third_party_invite", "state_key": "tok", "content": {"public_keys": [{"public_key": "${pubkey:id.test}"}]}}],
		"event": {"sender": "@dave:a.test", "type": "m.room.member", "state_key": "@bob:b.test", "sign_tpi": ["id.test"],
		"content": {"membership": "invite", "third_party_invite": {"signed": {"mxid": "@bob:b.test", "token": "tok"}}}}}`},
	"ThirdPartyInvitePublicKey": {`{"name": "signed with the single public_key", "versions": "1-12", "allowed": true,
		"state": [{"sender": "@alice:a.test", "type": "m.room.third_party_invite", "state_key": "tok", "content": {"public_key": "${pubkey:id.test}"}}],
		"event": {"sender": "@alice:a.test", "type": "m.room.member", "state_key": "@bob:b.test", "sign_tpi": ["id.test"],
		"content": {"membership": "invite", "third_party_invite": {"signed": {"mxid": "@bob:b.test", "token": "tok"}}}}}`},
	"ThirdPartyInviteSignedKeys": {`{"name": "signed with another key", "versions": "1-12", "allowed": true,
		"state": [{"sender": "@alice:a.test", "type": "m.room.third_party_invite", "state_key": "tok", "content": {"public_keys": [{"public_key": "${pubkey:id.test}"}]}}],
		"event": {"sender": "@alice:a.test", "type": "m.room.member", "state_key": "@bob:b.test", "sign_tpi": ["id.test"],
		"content": {"membership": "invite", "third_party_invite": {"signed": {"mxid": "@bob:b.test", "token": "tok", "expires": 5}}}}}`},
	"ThirdPartyInviteNull": {`{"name": "third_party_invite null", "versions": "1-12", "rule": "5.4.1.2",
		"event": {"sender": "@alice:a.test", "type": "m.room.member", "state_key": "@bob:b.test", "content": {"membership": "invite", "third_party_invite": null}}}`},
	"ViaSignature": {`{"name": "join not signed by the authorising server", "versions": "8-12", "rule": "5.2.1",
		"event": {"sender": "@bob:b.test", "type": "m.room.member", "state_key": "@bob:b.test", "content": {"membership": "join", "join_authorised_via_users_server": "@alice:a.test"}}}`},
	"ViaBeforeV8": {`{"name": "numeric join_authorised_via_users_server before v8", "versions": "1-7", "allowed": true,
		"event": {"sender": "@bob:b.test", "type": "m.room.member", "state_key": "@bob:b.test", "content": {"membership": "join", "join_authorised_via_users_server": 5}}}`},
	"ThirdPartyInviteEventUserStateKey": {`{"name": "third-party invite event keyed by a user ID", "versions": "1-12", "allowed": true,
		"event": {"sender": "@alice:a.test", "type": "m.room.third_party_invite", "state_key": "@bob:b.test", "content": {"display_name": "x"}}}`},
	"RedactionWithoutEventIDDomain": {`{"name": "redaction without redacts by a moderator", "versions": "1-2", "allowed": true,
		"event": {"sender": "@alice:a.test", "type": "m.room.redaction", "content": {}}}`},
	"RedactionEventIDDomain": {`{"name": "redaction from the redacted event's server", "versions": "1-2", "members": {"@bob:b.test": "join"}, "allowed": true,
		"event": {"sender": "@bob:b.test", "type": "m.room.redaction", "redacts": "$x:c.test", "id_server": "c.test", "content": {}}}`},
	"CreateStateKey": {`{"name": "create with a state key", "versions": "1-11", "no_init": true, "allowed": true,
		"event": {"sender": "@alice:a.test", "type": "m.room.create", "state_key": "x", "content": {"creator": "@alice:a.test"}}}`},
	"CreateRoomVersionV11": {`{"name": "v11 create of an unknown version", "versions": "11", "no_init": true, "rule": "1.3",
		"event": {"sender": "@alice:a.test", "type": "m.room.create", "state_key": "", "content": {"room_version": "99"}}}`},
	"CreateCreatorNotString": {`{"name": "create with a null creator", "versions": "1-10", "no_init": true, "allowed": true,
		"event": {"sender": "@alice:a.test", "type": "m.room.create", "state_key": "", "content": {"creator": null}}}`},
	"PowerLevelsNull": {
		`{"name": "null kick level", "versions": "10-12", "rule": "10.1",
		"event": {"sender": "@alice:a.test", "type": "m.room.power_levels", "state_key": "", "content": {"users": {"@alice:a.test": 100}, "kick": null}}}`,
		`{"name": "null user level", "versions": "10-12", "rule": "10.3",
		"event": {"sender": "@alice:a.test", "type": "m.room.power_levels", "state_key": "", "content": {"users": {"@alice:a.test": 100, "@bob:b.test": null}}}}`,
		`{"name": "null events", "versions": "1-12", "rule": "10.2",
		"event": {"sender": "@alice:a.test", "type": "m.room.power_levels", "state_key": "", "content": {"users": {"@alice:a.test": 100}, "events": null}}}`},
	"PowerLevelsChangeSemantics": {
		`{"name": "adding ban at its default above the sender", "versions": "1-12", "members": {"@dave:a.test": "join"},
		"power_levels": {"users": {"@alice:a.test": 100, "@dave:a.test": 40}, "events": {"m.room.power_levels": 40}}, "rule": "10.6",
		"event": {"sender": "@dave:a.test", "type": "m.room.power_levels", "state_key": "",
		"content": {"users": {"@alice:a.test": 100, "@dave:a.test": 40}, "events": {"m.room.power_levels": 40}, "ban": 50}}}`,
		`{"name": "raising users_default above the sender", "versions": "1-12", "members": {"@dave:a.test": "join"},
		"power_levels": {"users": {"@alice:a.test": 100, "@dave:a.test": 50}, "events": {"m.room.power_levels": 50}}, "rule": "10.6",
		"event": {"sender": "@dave:a.test", "type": "m.room.power_levels", "state_key": "",
		"content": {"users": {"@alice:a.test": 100, "@dave:a.test": 50}, "events": {"m.room.power_levels": 50}, "users_default": 60}}}`,
		`{"name": "removing a user whose level equals users_default", "versions": "1-12", "members": {"@dave:a.test": "join"},
		"power_levels": {"users": {"@alice:a.test": 100, "@dave:a.test": 50, "@erin:b.test": 50}, "users_default": 50, "events": {"m.room.power_levels": 50}}, "rule": "10.9",
		"event": {"sender": "@dave:a.test", "type": "m.room.power_levels", "state_key": "",
		"content": {"users": {"@alice:a.test": 100, "@dave:a.test": 50}, "users_default": 50, "events": {"m.room.power_levels": 50}}}}`,
		`{"name": "lowering a notifications level equal to the sender", "versions": "6-12", "members": {"@dave:a.test": "join"},
		"power_levels": {"users": {"@alice:a.test": 100, "@dave:a.test": 50}, "events": {"m.room.power_levels": 50}, "notifications": {"room": 50}}, "allowed": true,
		"event": {"sender": "@dave:a.test", "type": "m.room.power_levels", "state_key": "",
		"content": {"users": {"@alice:a.test": 100, "@dave:a.test": 50}, "events": {"m.room.power_levels": 50}, "notifications": {"room": 20}}}}`,
		`{"name": "changing the third-party invite events level", "versions": "1-12", "members": {"@dave:a.test": "join"},
		"power_levels": {"users": {"@alice:a.test": 100, "@dave:a.test": 50}, "events": {"m.room.power_levels": 50, "m.room.third_party_invite": 100}}, "rule": "10.7",
		"event": {"sender": "@dave:a.test", "type": "m.room.power_levels", "state_key": "",
		"content": {"users": {"@alice:a.test": 100, "@dave:a.test": 50}, "events": {"m.room.power_levels": 50, "m.room.third_party_invite": 0}}}}`,
		`{"name": "v12 additional creator changes notifications", "versions": "12", "create_extra": {"additional_creators": ["@bob:b.test"]},
		"members": {"@bob:b.test": "join"}, "power_levels": {"users": {}, "notifications": {"room": 50}}, "allowed": true,
		"event": {"sender": "@bob:b.test", "type": "m.room.power_levels", "state_key": "", "content": {"users": {}, "notifications": {"room": 100}}}}`},
}

func TestOracleRegressions(t *testing.T) {
	for _, d := range divergences {
		if len(oracleRegressions[d.name]) == 0 {
			t.Errorf("divergence %s has no regression case", d.name)
		}
	}
	for name, cases := range oracleRegressions {
		d := findDivergence(name)
		if d == nil {
			t.Errorf("regression %s names no divergence", name)
			continue
		}
		for _, raw := range cases {
			var c goldenCase
			if err := json.Unmarshal([]byte(raw), &c); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, v := range parseVersions(t, c.Versions) {
				t.Run(name+"/"+c.Name+"/v"+v.ID, func(t *testing.T) {
					t.Log("spec: " + d.spec)
					state, e := goldenRoom(t, v, c)
					mine := auth.Check(e, auth.FromMap(state))
					var ae *auth.Error
					switch {
					case c.Allowed && mine != nil:
						t.Fatalf("want allowed, got %v", mine)
					case !c.Allowed && (!errors.As(mine, &ae) || ae.Rule != c.Rule):
						t.Fatalf("want rejection by %s, got %v", c.Rule, mine)
					}
					theirs := newOracle(v).allowed(e, diffState(state))
					if (theirs == nil) == (mine == nil) {
						t.Fatalf("gomatrixserverlib now agrees (%v): retire divergence %s", theirs, name)
					}
					dc := &diffCase{v: v, e: e, state: diffState(state), create: state[event.StateKey{Type: event.TypeCreate}], mine: mine, theirs: theirs}
					if got := dc.explain(); got != name {
						t.Fatalf("the differential test explains this case as %q", got)
					}
				})
			}
		}
	}
}

func findDivergence(name string) *divergence {
	for i := range divergences {
		if divergences[i].name == name {
			return &divergences[i]
		}
	}
	return nil
}
