package event_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// baseEvent is a valid signed message event of room version v.
func baseEvent(t testing.TB, v *roomversion.Version) (*roomtest.Room, *event.Event) {
	room := roomtest.Init(t, v.ID, "@alice:a.test", "public")
	return room, room.Send("@alice:a.test", "m.room.message", nil, map[string]any{"body": "hello"})
}

func set(t testing.TB, raw []byte, path string, value any) []byte {
	out, err := sjson.SetBytes(raw, path, value)
	require.NoError(t, err)
	return out
}

func setRaw(t testing.TB, raw []byte, path, value string) []byte {
	out, err := sjson.SetRawBytes(raw, path, []byte(value))
	require.NoError(t, err)
	return out
}

func del(t testing.TB, raw []byte, path string) []byte {
	out, err := sjson.DeleteBytes(raw, path)
	require.NoError(t, err)
	return out
}

// TestParseLimits checks the PDU format rules per version: required keys
// (pdu_base.yaml and the per-version schemas), the size limits of the
// client-server API "Size limits" section, and the prev/auth event limits.
func TestParseLimits(t *testing.T) {
	for _, v := range roomversion.All() {
		_, base := baseEvent(t, v)
		raw := base.JSON()
		ref := func() string {
			if v.HasEventIDInJSON() {
				return `["$x:a.test",{"sha256":"abc"}]`
			}
			return `"$x"`
		}
		refs := func(n int) string {
			parts := make([]string, n)
			for i := range parts {
				parts[i] = ref()
			}
			return "[" + strings.Join(parts, ",") + "]"
		}
		validRoom := `"!room:a.test"`
		if v.RoomIDFromCreate {
			validRoom = `"` + base.RoomID() + `"`
		}
		type tc struct {
			name string
			raw  []byte
			want error // nil: accepted
		}
		cases := []tc{
			{"as built", raw, nil},
			{"not JSON", []byte(`{"type":`), event.ErrBadJSON},
			{"not an object", []byte(`[1,2]`), event.ErrInvalid},
			{"trailing data", append(append([]byte{}, raw...), '{', '}'), event.ErrBadJSON},
			{"type 255 bytes", set(t, raw, "type", strings.Repeat("t", 255)), nil},
			{"type 256 bytes", set(t, raw, "type", strings.Repeat("t", 256)), event.ErrInvalid},
			{"type 255 bytes of 2-byte runes", set(t, raw, "type", strings.Repeat("é", 128)), event.ErrInvalid},
			{"state_key 255 bytes", set(t, raw, "state_key", strings.Repeat("k", 255)), nil},
			{"state_key 256 bytes", set(t, raw, "state_key", strings.Repeat("k", 256)), event.ErrInvalid},
			{"state_key not a string", setRaw(t, raw, "state_key", `1`), event.ErrInvalid},
			{"type not a string", setRaw(t, raw, "type", `null`), event.ErrInvalid},
			{"sender invalid", set(t, raw, "sender", "alice"), event.ErrInvalid},
			{"sender with bad server", set(t, raw, "sender", "@alice:bad_server"), event.ErrInvalid},
			{"sender 256 bytes", set(t, raw, "sender", "@"+strings.Repeat("a", 248)+":a.test"), event.ErrInvalid},
			{"prev_events 20", setRaw(t, raw, "prev_events", refs(20)), nil},
			{"prev_events 21", setRaw(t, raw, "prev_events", refs(21)), event.ErrInvalid},
			{"auth_events 10", setRaw(t, raw, "auth_events", refs(10)), nil},
			{"auth_events 11", setRaw(t, raw, "auth_events", refs(11)), event.ErrInvalid},
			{"prev_events not an array", setRaw(t, raw, "prev_events", `{}`), event.ErrInvalid},
			{"depth negative", setRaw(t, raw, "depth", `-1`), event.ErrInvalid},
			{"depth zero", setRaw(t, raw, "depth", `0`), nil},
			{"depth 2^53-1", setRaw(t, raw, "depth", `9007199254740991`), nil},
			{"depth a string", setRaw(t, raw, "depth", `"5"`), event.ErrInvalid},
			{"origin_server_ts a string", setRaw(t, raw, "origin_server_ts", `"5"`), event.ErrInvalid},
			{"content not an object", setRaw(t, raw, "content", `[]`), event.ErrInvalid},
			{"unsigned not an object", setRaw(t, raw, "unsigned", `1`), event.ErrInvalid},
			{"hashes without sha256", setRaw(t, raw, "hashes", `{}`), event.ErrInvalid},
			{"signatures not an object", setRaw(t, raw, "signatures", `[]`), event.ErrInvalid},
			{"signature not a string", setRaw(t, raw, `signatures.a\.test`, `{"ed25519:test":1}`), event.ErrInvalid},
			{"redacts not a string", setRaw(t, raw, "redacts", `1`), event.ErrInvalid},
			{"origin not a string", setRaw(t, raw, "origin", `1`), event.ErrInvalid},
			{"room_id valid", setRaw(t, raw, "room_id", validRoom), nil},
			{"room_id without sigil", set(t, raw, "room_id", "room:a.test"), event.ErrInvalid},
			{"legacy keys dropped", setRaw(t, raw, "outlier", `true`), nil},
		}
		for _, key := range []string{"type", "sender", "origin_server_ts", "depth", "prev_events", "auth_events", "hashes", "signatures", "content", "room_id"} {
			cases = append(cases, tc{"missing " + key, del(t, raw, key), event.ErrInvalid})
		}
		if v.HasEventIDInJSON() {
			cases = append(cases,
				tc{"missing event_id", del(t, raw, "event_id"), event.ErrInvalid},
				tc{"event_id without domain", set(t, raw, "event_id", "$abc"), event.ErrInvalid},
				tc{"prev_events of plain IDs", setRaw(t, raw, "prev_events", `["$x:a.test"]`), event.ErrInvalid},
				tc{"room_id without domain", set(t, raw, "room_id", "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ"), event.ErrInvalid})
		} else {
			cases = append(cases,
				tc{"event_id ignored", set(t, raw, "event_id", "$whatever:a.test"), nil},
				tc{"prev_events of pairs", setRaw(t, raw, "prev_events", `[["$x:a.test",{"sha256":"abc"}]]`), event.ErrInvalid},
				tc{"prev_event with a domain", setRaw(t, raw, "prev_events", `["$x:a.test"]`), event.ErrInvalid})
		}
		if v.RoomIDFromCreate {
			cases = append(cases, tc{"room_id with domain", set(t, raw, "room_id", "!room:a.test"), event.ErrInvalid})
		} else {
			cases = append(cases, tc{"room_id without domain", set(t, raw, "room_id", "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ"), event.ErrInvalid})
		}
		if v.StrictCanonicalJSON {
			cases = append(cases,
				tc{"depth 2^53", setRaw(t, raw, "depth", `9007199254740992`), event.ErrBadJSON},
				tc{"float in content", setRaw(t, raw, "content.x", `1.5`), event.ErrBadJSON},
				tc{"duplicate key", []byte(strings.Replace(string(raw), `{`, `{"depth":1,`, 1)), event.ErrBadJSON})
		} else {
			cases = append(cases,
				tc{"depth 2^53", setRaw(t, raw, "depth", `9007199254740992`), nil},
				tc{"float in content", setRaw(t, raw, "content.x", `1.5`), nil},
				tc{"depth beyond int64", setRaw(t, raw, "depth", `9223372036854775808`), event.ErrInvalid})
		}
		for _, c := range cases {
			_, err := event.Parse(c.raw, v)
			if c.want == nil {
				require.NoError(t, err, "v%s %s", v.ID, c.name)
			} else {
				require.ErrorIs(t, err, c.want, "v%s %s", v.ID, c.name)
			}
		}
	}
}

// TestParseSizeLimit: "The complete event MUST NOT be larger than 65536
// bytes, when formatted with the federation event format, including any
// signatures, and encoded as Canonical JSON."
func TestParseSizeLimit(t *testing.T) {
	for _, id := range []string{"1", "6", "12"} {
		v := roomversion.MustGet(id)
		_, base := baseEvent(t, v)
		withBody := func(n int) []byte {
			return set(t, base.JSON(), "content.body", strings.Repeat("x", n))
		}
		n := event.MaxEventBytes - len(withBody(0))
		exact := withBody(n)
		require.Len(t, exact, event.MaxEventBytes)
		e, err := event.Parse(exact, v)
		require.NoError(t, err, "v%s: exactly 65536 bytes", id)
		require.True(t, e.Redacted(), "the body is not covered by the hash any more")
		_, err = event.Parse(withBody(n+1), v)
		require.ErrorIs(t, err, event.ErrTooLarge, "v%s: 65537 bytes", id)
		// White space does not count: the limit applies to canonical JSON.
		pretty, err := json.MarshalIndent(json.RawMessage(exact), "", "    ")
		require.NoError(t, err)
		require.Greater(t, len(pretty), event.MaxEventBytes)
		_, err = event.Parse(pretty, v)
		require.NoError(t, err, "v%s: indented", id)
	}
}

// TestBuilderPerVersion checks the shape of built events in each version.
func TestBuilderPerVersion(t *testing.T) {
	for _, v := range roomversion.All() {
		room, msg := baseEvent(t, v)
		create := room.Order[0]
		var top map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(create.JSON(), &top))
		_, hasRoomID := top["room_id"]
		require.Equal(t, !v.RoomIDFromCreate, hasRoomID, "v%s: create event room_id", v.ID)
		if v.RoomIDFromCreate {
			require.Equal(t, "!"+create.ID()[1:], create.RoomID())
			require.Equal(t, create.RoomID(), msg.RoomID())
		}
		_, hasEventID := top["event_id"]
		require.Equal(t, v.HasEventIDInJSON(), hasEventID, "v%s: event_id", v.ID)
		_, hasOrigin := top["origin"]
		require.Equal(t, v.Redaction < roomversion.RedactionV11, hasOrigin, "v%s: origin", v.ID)
		require.True(t, msg.CheckContentHash())
		require.Equal(t, create.Depth()+int64(len(room.Order))-1, msg.Depth())

		r, err := event.Builder{Version: v, RoomID: room.ID, Type: event.TypeRedaction, Sender: "@alice:a.test",
			Content: map[string]any{"reason": "x"}, Redacts: msg.ID(), PrevEvents: []*event.Event{msg}}.Build(roomtest.Key("a.test"))
		require.NoError(t, err)
		require.Equal(t, msg.ID(), r.Redacts())
		var content map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(r.Content(), &content))
		_, inContent := content["redacts"]
		require.Equal(t, v.RedactsInContent, inContent, "v%s: redacts in content", v.ID)
		require.NoError(t, r.VerifySignatures(room.Lookup()))

		_, err = event.Builder{Version: v, RoomID: room.ID, Type: "m.room.message", Sender: "@alice:a.test",
			Content: map[string]any{"f": 1.5}}.Build(roomtest.Key("a.test"))
		require.Error(t, err, "built events are strict canonical JSON")
		_, err = event.Builder{Version: v, RoomID: room.ID, Type: "m.room.message", Sender: "@alice:a.test",
			Content: json.RawMessage(`{"body":"` + strings.Repeat("x", event.MaxEventBytes) + `"}`)}.Build(roomtest.Key("a.test"))
		require.ErrorIs(t, err, event.ErrTooLarge)
	}
	_, err := event.Builder{}.Build(roomtest.Key("a.test"))
	require.Error(t, err)
}

// TestSignAndVerify covers the signature checks beyond the differential
// test: key validity per version and unknown or non-ed25519 keys.
func TestSignAndVerify(t *testing.T) {
	for _, v := range roomversion.All() {
		room, msg := baseEvent(t, v)
		ts := msg.OriginServerTS()
		require.NoError(t, msg.VerifySignatures(lookup(ts)), "v%s: valid until the event's time", v.ID)
		err := msg.VerifySignatures(lookup(ts - 1))
		if v.EnforceKeyValidity {
			require.ErrorIs(t, err, event.ErrSignature, "v%s: expired key", v.ID)
		} else {
			require.NoError(t, err, "v%s: key validity is not enforced before v5", v.ID)
		}
		none := func(string, signing.KeyID) (event.PublicKey, bool) { return event.PublicKey{}, false }
		require.ErrorIs(t, msg.VerifySignatures(none), event.ErrSignature)
		require.Equal(t, map[string][]signing.KeyID{"a.test": {testKeyID}}, msg.SigningKeyIDs())

		extra := setRaw(t, msg.JSON(), `signatures.a\.test.curve25519:x`, `"AAAA"`)
		e, err := event.Parse(extra, v)
		require.NoError(t, err)
		require.Equal(t, []signing.KeyID{testKeyID}, e.SigningKeyIDs()["a.test"], "non-ed25519 keys are ignored")
		require.NoError(t, e.VerifySignatures(room.Lookup()))
	}
}

// TestAuthEventKeys follows server-server-api.md "Auth events selection".
func TestAuthEventKeys(t *testing.T) {
	type sk = event.StateKey
	create, pl := sk{Type: event.TypeCreate}, sk{Type: event.TypePowerLevels}
	jr := sk{Type: event.TypeJoinRules}
	member := func(u string) sk { return sk{Type: event.TypeMember, StateKey: u} }
	for _, tc := range []struct {
		name     string
		typ      string
		stateKey *string
		content  string
		want     []sk // without the create event
	}{
		{"create", event.TypeCreate, roomtest.StrPtr(""), `{}`, nil},
		{"message", "m.room.message", nil, `{}`, []sk{pl, member("@a:x")}},
		{"state", "m.room.name", roomtest.StrPtr(""), `{}`, []sk{pl, member("@a:x")}},
		{"own join", event.TypeMember, roomtest.StrPtr("@a:x"), `{"membership":"join"}`, []sk{pl, member("@a:x"), jr}},
		{"invite", event.TypeMember, roomtest.StrPtr("@b:y"), `{"membership":"invite"}`, []sk{pl, member("@a:x"), member("@b:y"), jr}},
		{"knock", event.TypeMember, roomtest.StrPtr("@a:x"), `{"membership":"knock"}`, []sk{pl, member("@a:x"), jr}},
		{"leave", event.TypeMember, roomtest.StrPtr("@a:x"), `{"membership":"leave"}`, []sk{pl, member("@a:x")}},
		{"ban", event.TypeMember, roomtest.StrPtr("@b:y"), `{"membership":"ban"}`, []sk{pl, member("@a:x"), member("@b:y")}},
		{"third-party invite", event.TypeMember, roomtest.StrPtr("@b:y"), `{"membership":"invite","third_party_invite":{"signed":{"token":"tok"}}}`,
			[]sk{pl, member("@a:x"), member("@b:y"), jr, {Type: event.TypeThirdPartyInvite, StateKey: "tok"}}},
		{"third-party token on a join", event.TypeMember, roomtest.StrPtr("@a:x"), `{"membership":"join","third_party_invite":{"signed":{"token":"tok"}}}`,
			[]sk{pl, member("@a:x"), jr}},
	} {
		for _, v := range roomversion.All() {
			got := event.AuthEventKeys(v, tc.typ, tc.stateKey, "@a:x", []byte(tc.content))
			want := tc.want
			if v.CreateInAuthEvents && want != nil {
				want = append([]sk{create}, want...)
			}
			require.Equal(t, want, got, "v%s %s", v.ID, tc.name)
		}
	}
	// Restricted joins: the authorising user's membership, in v8+ only.
	for _, v := range roomversion.All() {
		got := event.AuthEventKeys(v, event.TypeMember, roomtest.StrPtr("@a:x"), "@a:x", []byte(`{"membership":"join","join_authorised_via_users_server":"@c:z"}`))
		require.Equal(t, v.RestrictedJoins, len(got) > 0 && got[len(got)-1] == member("@c:z"), "v%s", v.ID)
		got = event.AuthEventKeys(v, event.TypeMember, roomtest.StrPtr("@a:x"), "@a:x", []byte(`{"membership":"join","join_authorised_via_users_server":"@a:x"}`))
		require.Len(t, got, map[bool]int{true: 4, false: 3}[v.CreateInAuthEvents], "v%s: no duplicate of the sender's membership", v.ID)
	}
}

func TestContentAndReferenceHash(t *testing.T) {
	for _, v := range roomversion.All() {
		_, msg := baseEvent(t, v)
		h, err := event.ContentHash(msg.JSON(), v)
		require.NoError(t, err)
		require.Equal(t, msg.ContentHash(), h)
		// Key order, white space, unsigned and signatures do not matter.
		pretty, _ := json.MarshalIndent(json.RawMessage(msg.JSON()), "", " ")
		pretty = setRaw(t, pretty, "unsigned", `{"age":1}`)
		pretty = setRaw(t, pretty, "signatures", `{}`)
		h2, err := event.ContentHash(pretty, v)
		require.NoError(t, err)
		require.Equal(t, h, h2)
		ref, err := event.ReferenceHash(pretty, v)
		require.NoError(t, err)
		ref2, err := event.ReferenceHash(msg.JSON(), v)
		require.NoError(t, err)
		require.Equal(t, ref, ref2)
		if !v.HasEventIDInJSON() {
			enc := signing.EncodeBase64URL(ref[:])
			if v.EventIDFormat == roomversion.EventIDHashStd {
				enc = signing.EncodeBase64(ref[:])
			}
			require.Equal(t, "$"+enc, msg.ID())
		}
		// Changing the body changes the content hash, not the reference hash.
		changed := set(t, msg.JSON(), "content.body", "changed")
		h3, _ := event.ContentHash(changed, v)
		require.NotEqual(t, h, h3)
		ref3, _ := event.ReferenceHash(changed, v)
		require.Equal(t, ref, ref3)
		_, err = event.ContentHash([]byte(`{"a":1.5}`), v)
		require.Equal(t, v.StrictCanonicalJSON, err != nil)
	}
	_, err := cjson.Canonical(nil)
	require.Error(t, err)
}
