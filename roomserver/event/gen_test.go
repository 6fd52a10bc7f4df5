package event_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// diffCases is the number of random cases per differential property:
// 10,000 by default, or CONCORD_DIFF_CASES for longer runs.
func diffCases(t testing.TB) int {
	if s := os.Getenv("CONCORD_DIFF_CASES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("CONCORD_DIFF_CASES=%q is not a positive integer", s)
		}
		return n
	}
	return 10_000
}

// testKeyID is the key ID of roomtest.Key.
const testKeyID = signing.KeyID("ed25519:test")

var servers = []string{"a.test", "b.test", "c.test:8448", "[::1]:8448", "1.2.3.4", "example.org"}

// evGen makes random events of one room version, seeded. Parents (prev and
// auth events) come from a small roomtest room of that version.
type evGen struct {
	r       *rand.Rand
	v       *roomversion.Version
	parents []*event.Event
	roomID  string
}

func newEvGen(t testing.TB, seed uint64, v *roomversion.Version) *evGen {
	room := roomtest.Init(t, v.ID, "@alice:a.test", "public")
	room.Send("@bob:b.test", event.TypeMember, roomtest.StrPtr("@bob:b.test"), map[string]any{"membership": "join"})
	room.Send("@bob:b.test", "m.room.message", nil, map[string]any{"body": "hi"})
	return &evGen{r: rand.New(rand.NewPCG(seed, uint64(len(v.ID))<<32|seed>>3)), v: v, parents: room.Order, roomID: room.ID}
}

func (g *evGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *evGen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *evGen) server() string { return g.pick(servers) }

// localpart is mostly of the current grammar, sometimes historical (including
// non-ASCII and empty, which the spec requires servers to accept).
func (g *evGen) localpart() string {
	switch {
	case g.chance(0.05):
		return g.pick([]string{"Alice", "a!b#c", "a b", "ä日😀", "", "x\u0001y", "~tilde"})
	default:
		const chars = "abcdefghijklmnopqrstuvwxyz0123456789._=-/+"
		b := make([]byte, 1+g.r.IntN(12))
		for i := range b {
			b[i] = chars[g.r.IntN(len(chars))]
		}
		return string(b)
	}
}

func (g *evGen) userID() string { return "@" + g.localpart() + ":" + g.server() }

// text returns a random string with characters that matter for canonical JSON.
func (g *evGen) text() string {
	pool := []rune("abc XYZ 019 _-.:/@!$#\"\\é日本😀\u2028<>&\n\t\x01\x1f\u007f\ufeff")
	var sb strings.Builder
	for n := g.r.IntN(14); n > 0; n-- {
		sb.WriteRune(pool[g.r.IntN(len(pool))])
	}
	return sb.String()
}

// key returns a content key: usually plain, sometimes with characters that
// need escaping, sometimes a special key name out of place.
func (g *evGen) key() string {
	switch {
	case g.chance(0.5):
		return g.pick([]string{"body", "msgtype", "org.example.custom", "m.relates_to", "é", "日本", "😀", "a b", "", "membership",
			"creator", "join_rule", "allow", "users", "redacts", "aliases", "signed", "history_visibility"})
	case g.chance(0.03):
		return g.text()
	default:
		return strings.Map(func(r rune) rune {
			if r == '"' || r == '\\' || r < 0x20 {
				return '_'
			}
			return r
		}, g.text())
	}
}

// number returns a JSON number: a canonical integer, or for lax versions
// sometimes a float or an integer beyond 2^53.
func (g *evGen) number(lax bool) json.Number {
	if lax && g.chance(0.2) {
		switch g.r.IntN(4) {
		case 0:
			return json.Number(strconv.FormatFloat(g.r.NormFloat64()*1000, 'f', -1, 64))
		case 1:
			return json.Number(g.pick([]string{"1.0", "-0", "1e10", "1E5", "0.5", "-2.25", "1e400", "5.114698E4", "50.57"}))
		case 2:
			return json.Number(strconv.FormatUint(g.r.Uint64(), 10) + strconv.Itoa(g.r.IntN(1000)))
		default:
			return json.Number(strconv.FormatInt(1<<53+g.r.Int64N(1<<60), 10))
		}
	}
	switch g.r.IntN(4) {
	case 0:
		return json.Number(g.pick([]string{"0", "-1", "9007199254740991", "-9007199254740991", "100", "50"}))
	case 1:
		return json.Number(strconv.FormatInt(g.r.Int64N(1<<54-1)-(1<<53-1), 10))
	default:
		return json.Number(strconv.Itoa(g.r.IntN(2001) - 1000))
	}
}

// value returns random JSON (as Go values with json.Number numbers).
func (g *evGen) value(depth int, lax bool) any {
	switch k := g.r.IntN(10); {
	case k == 0 && depth < 3:
		return g.object(depth+1, lax, 4)
	case k == 1 && depth < 3:
		arr := make([]any, g.r.IntN(4))
		for i := range arr {
			arr[i] = g.value(depth+1, lax)
		}
		return arr
	case k <= 4:
		return g.text()
	case k <= 7:
		return g.number(lax)
	default:
		return []any{true, false, nil}[g.r.IntN(3)]
	}
}

func (g *evGen) object(depth int, lax bool, maxKeys int) map[string]any {
	m := map[string]any{}
	for n := g.r.IntN(maxKeys + 1); n > 0; n-- {
		m[g.key()] = g.value(depth, lax)
	}
	return m
}

// evSpec is a random event before building.
type evSpec struct {
	typ      string
	stateKey *string
	sender   string
	content  map[string]any
	redacts  string
}

func strPtr(s string) *string { return &s }

// spec makes a random event of one of the special types or a random one,
// with extra content keys. lax allows non-canonical numbers in content.
func (g *evGen) spec(lax bool) evSpec {
	s := evSpec{sender: g.userID(), content: g.object(0, lax, 3)}
	c := s.content
	switch g.r.IntN(14) {
	case 0:
		s.typ, s.stateKey = event.TypeCreate, strPtr("")
		c["room_version"] = g.v.ID
		if !g.v.CreatorIsSender || g.chance(0.3) {
			c["creator"] = s.sender
		}
		if g.chance(0.5) {
			c["m.federate"] = g.chance(0.5)
		}
		if g.chance(0.3) {
			c["predecessor"] = map[string]any{"room_id": "!old:" + g.server(), "event_id": "$old"}
		}
		if g.chance(0.4) {
			c["additional_creators"] = []any{g.userID(), g.userID()}
		}
		if g.chance(0.2) {
			c["type"] = "m.space"
		}
	case 1, 2, 3:
		s.typ, s.stateKey = event.TypeMember, strPtr(g.userID())
		if g.chance(0.3) {
			s.stateKey = strPtr(s.sender)
		}
		c["membership"] = g.pick([]string{"join", "join", "invite", "leave", "ban", "knock", "custom"})
		if g.chance(0.3) {
			c["join_authorised_via_users_server"] = g.userID()
		}
		if g.chance(0.25) {
			signed := map[string]any{"mxid": *s.stateKey, "token": g.text(),
				"signatures": map[string]any{"magic.forest": map[string]any{"ed25519:3": signing.EncodeBase64([]byte(g.text()))}}}
			switch g.r.IntN(5) {
			case 0:
				c["third_party_invite"] = map[string]any{"display_name": g.text()}
			case 1:
				c["third_party_invite"] = g.value(2, lax)
			default:
				c["third_party_invite"] = map[string]any{"display_name": g.text(), "signed": signed}
			}
		}
		if g.chance(0.5) {
			c["displayname"] = g.text()
		}
	case 4:
		s.typ, s.stateKey = event.TypePowerLevels, strPtr("")
		for _, k := range []string{"ban", "events_default", "invite", "kick", "redact", "state_default", "users_default"} {
			if g.chance(0.7) {
				c[k] = g.number(lax)
			}
		}
		c["events"] = map[string]any{"m.room.name": g.number(lax), "m.room.power_levels": json.Number("100")}
		c["users"] = map[string]any{g.userID(): g.number(lax), s.sender: json.Number("100")}
		if g.chance(0.5) {
			c["notifications"] = map[string]any{"room": g.number(lax)}
		}
	case 5:
		s.typ, s.stateKey = event.TypeJoinRules, strPtr("")
		c["join_rule"] = g.pick([]string{"public", "invite", "knock", "restricted", "knock_restricted", "private"})
		if g.chance(0.6) {
			c["allow"] = []any{map[string]any{"type": "m.room_membership", "room_id": "!other:" + g.server()}}
		}
	case 6:
		s.typ, s.stateKey = event.TypeHistoryVisibility, strPtr("")
		c["history_visibility"] = g.pick([]string{"shared", "invited", "joined", "world_readable"})
	case 7:
		s.typ, s.stateKey = event.TypeAliases, strPtr(g.server())
		c["aliases"] = []any{"#a:" + g.server(), "#b:" + g.server()}
	case 8:
		s.typ = event.TypeRedaction
		s.redacts = g.parents[g.r.IntN(len(g.parents))].ID()
		c["reason"] = g.text()
	case 9:
		s.typ = event.TypeThirdPartyInvite
		s.stateKey = strPtr(g.text())
		c["public_key"] = signing.EncodeBase64([]byte(g.text()))
	case 10:
		s.typ = g.pick([]string{"m.room.name", "m.room.topic", "m.room.tombstone", "m.room.encryption", "m.room.server_acl"})
		s.stateKey = strPtr("")
	default:
		s.typ = g.pick([]string{"m.room.message", "m.reaction", "org.example.event", "m.room.message", g.text(), strings.Repeat("t", 255)})
		if g.chance(0.3) {
			s.stateKey = strPtr(g.pick([]string{"", g.text(), strings.Repeat("k", 255), g.userID()}))
		}
		c["body"] = g.text()
	}
	return s
}

// refs picks up to max parents.
func (g *evGen) refs(max int) []*event.Event {
	n := g.r.IntN(max + 1)
	out := make([]*event.Event, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, g.parents[g.r.IntN(len(g.parents))])
	}
	return out
}

// build makes the event with event.Builder, signed by the sender's server.
func (g *evGen) build(s evSpec) (*event.Event, error) {
	content, err := json.Marshal(s.content)
	if err != nil {
		return nil, err
	}
	b := event.Builder{Version: g.v, RoomID: g.roomID, Type: s.typ, StateKey: s.stateKey, Sender: s.sender,
		Content: json.RawMessage(content), Redacts: s.redacts, PrevEvents: g.refs(3), AuthEvents: g.refs(4),
		OriginServerTS: 1_600_000_000_000 + g.r.Int64N(150_000_000_000)}
	if g.chance(0.3) {
		b.Unsigned = json.RawMessage(`{"age":` + strconv.Itoa(g.r.IntN(100000)) + `}`)
	}
	return b.Build(roomtest.Key(mxid.Domain(s.sender)))
}

// raw makes the event as JSON by hand (not with the builder): it may carry
// extra top-level keys (origin in any version, prev_state, membership,
// redacts, unknown keys; see also junk),
// content with non-canonical numbers in lax versions, and v1/v2 event IDs
// from another server. It returns the signed JSON and the servers that must
// sign it (which have all signed).
func (g *evGen) raw(s evSpec) ([]byte, []string) {
	v := g.v
	obj := map[string]any{
		"type": s.typ, "sender": s.sender, "content": s.content,
		"origin_server_ts": json.Number(strconv.FormatInt(1_600_000_000_000+g.r.Int64N(150_000_000_000), 10)),
		"depth":            g.depth(),
		"hashes":           map[string]any{}, "signatures": map[string]any{},
	}
	if s.stateKey != nil {
		obj["state_key"] = *s.stateKey
	}
	if !(v.RoomIDFromCreate && s.typ == event.TypeCreate && s.stateKey != nil && *s.stateKey == "") {
		obj["room_id"] = g.roomID
	}
	prev, auth := g.refs(3), g.refs(4)
	refList := func(evs []*event.Event) []any {
		out := []any{}
		for _, e := range evs {
			if v.HasEventIDInJSON() {
				out = append(out, []any{e.ID(), map[string]any{"sha256": e.ContentHash()}})
			} else {
				out = append(out, e.ID())
			}
		}
		return out
	}
	obj["prev_events"], obj["auth_events"] = refList(prev), refList(auth)
	signers := []string{mxid.Domain(s.sender)}
	if v.HasEventIDInJSON() {
		idServer := mxid.Domain(s.sender)
		if g.chance(0.3) {
			idServer = g.server()
		}
		obj["event_id"] = fmt.Sprintf("$%d%s:%s", g.r.Uint32(), strings.Repeat("x", g.r.IntN(5)), idServer)
		signers = append(signers, idServer)
	}
	if s.redacts != "" {
		if v.RedactsInContent {
			s.content["redacts"] = s.redacts
		} else {
			obj["redacts"] = s.redacts
		}
	}
	if g.chance(0.5) {
		obj["origin"] = g.server()
	}
	if s.stateKey != nil && g.chance(0.5) {
		obj["prev_state"] = []any{}
	}
	if g.chance(0.1) {
		obj["membership"] = "join"
	}
	if g.chance(0.1) {
		obj["redacts"] = "$top"
	}
	if g.chance(0.2) {
		obj["org.example.top"] = g.value(1, !v.StrictCanonicalJSON)
	}
	if g.chance(0.3) {
		obj["unsigned"] = map[string]any{"age": json.Number(strconv.Itoa(g.r.IntN(1000))), "x": g.text()}
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	hash, err := event.ContentHash(raw, v)
	if err != nil {
		panic(fmt.Sprintf("content hash of generated event: %v: %s", err, raw))
	}
	obj["hashes"] = map[string]any{"sha256": hash}
	raw, _ = json.Marshal(obj)
	if v.RestrictedJoins && s.typ == event.TypeMember {
		if via, ok := s.content["join_authorised_via_users_server"].(string); ok {
			signers = append(signers, mxid.Domain(via))
		}
	}
	for _, server := range uniq(signers) {
		if raw, err = event.Sign(raw, v, roomtest.Key(server)); err != nil {
			panic(err)
		}
	}
	return raw, uniq(signers)
}

// junk adds, sometimes, keys that take no part in hashes and signatures
// because receivers drop them: the legacy keys, and event_id in v3+.
func (g *evGen) junk(raw []byte) []byte {
	var top map[string]json.RawMessage
	_ = json.Unmarshal(raw, &top)
	if g.chance(0.1) {
		top[g.pick([]string{"age_ts", "outlier", "destinations"})] = json.RawMessage(`{"x":1}`)
	}
	if !g.v.HasEventIDInJSON() && g.chance(0.2) {
		top["event_id"] = json.RawMessage(`"$ignored:example.org"`)
	}
	raw, _ = json.Marshal(top)
	return raw
}

func (g *evGen) depth() json.Number {
	if g.chance(0.05) {
		return json.Number(g.pick([]string{"0", "9007199254740991"}))
	}
	return json.Number(strconv.Itoa(1 + g.r.IntN(100000)))
}

func uniq(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return slices.Compact(out)
}

// respell re-renders JSON with random key order, white space and string
// escapes: the same event to any spec-conforming parser.
func respell(r *rand.Rand, in []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(err)
	}
	var out []byte
	ws := func() {
		if r.IntN(4) == 0 {
			out = append(out, " \n\t\r"[r.IntN(4)])
		}
	}
	var str func(s string)
	str = func(s string) {
		out = append(out, '"')
		for _, c := range s {
			switch {
			case c == '"' || c == '\\':
				out = append(out, '\\', byte(c))
			case c < 0x20:
				out = fmt.Appendf(out, `\u%04x`, c)
			case c == '/' && r.IntN(2) == 0:
				out = append(out, '\\', '/')
			case c > 0xffff && r.IntN(3) == 0:
				hi, lo := utf16.EncodeRune(c)
				out = fmt.Appendf(out, `\u%04X\u%04x`, hi, lo)
			case c <= 0xffff && r.IntN(8) == 0:
				out = fmt.Appendf(out, `\u%04x`, c)
			default:
				out = utf8.AppendRune(out, c)
			}
		}
		out = append(out, '"')
	}
	var val func(v any)
	val = func(v any) {
		ws()
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			out = append(out, '{')
			for i, k := range keys {
				if i > 0 {
					out = append(out, ',')
				}
				ws()
				str(k)
				ws()
				out = append(out, ':')
				val(x[k])
			}
			out = append(out, '}')
		case []any:
			out = append(out, '[')
			for i, e := range x {
				if i > 0 {
					out = append(out, ',')
				}
				val(e)
			}
			out = append(out, ']')
		case string:
			str(x)
		case json.Number:
			out = append(out, x...)
		default:
			b, _ := json.Marshal(x)
			out = append(out, b...)
		}
		ws()
	}
	val(v)
	return out
}

// lookup knows every server's roomtest key, valid until validUntil (0: no limit).
func lookup(validUntil int64) event.KeyLookup {
	return func(server string, id signing.KeyID) (event.PublicKey, bool) {
		if id != testKeyID {
			return event.PublicKey{}, false
		}
		return event.PublicKey{Key: roomtest.Key(server).Public(), ValidUntilTS: validUntil}, true
	}
}

func TestRespell(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	in := []byte(`{"a":"x\"y\\z/😀\u0001é","b":[1,-2,{"c":null}],"d":true}`)
	for i := 0; i < 50; i++ {
		out := respell(r, in)
		require.True(t, json.Valid(out), "%s", out)
		require.JSONEq(t, string(in), string(out))
	}
}
