package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// FuzzParseEvent parses the input in every room version. Parse must never
// panic; its errors must wrap ErrBadJSON, ErrTooLarge or ErrInvalid; an
// accepted event's JSON must be at most 65,536 bytes, re-parse to the same
// event ID, room ID and JSON, and survive Redact, ContentHash,
// RequiredSigners and VerifySignatures.
//
// Seeds: the spec's example PDUs, the redaction golden events and the
// event signing vectors in testdata, signed events of a roomtest room in
// every version, and the regression inputs in testdata/fuzz/FuzzParseEvent.
func FuzzParseEvent(f *testing.F) {
	for _, pattern := range []string{"testdata/pdu_examples/pdu_*.json", "testdata/pdu_examples/minimal_pdu.json"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			raw, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(raw)
		}
	}
	for _, c := range loadRedactionCases(f) {
		f.Add([]byte(c.Event))
	}
	var vectors struct {
		Cases []struct{ Input, Signed json.RawMessage }
	}
	raw, err := os.ReadFile("testdata/spec_event_signing.json")
	if err != nil {
		f.Fatal(err)
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		f.Fatal(err)
	}
	for _, c := range vectors.Cases {
		f.Add([]byte(c.Input))
		f.Add([]byte(c.Signed))
	}
	for _, v := range roomversion.All() {
		room := roomtest.Init(f, v.ID, "@alice:a.test", "public")
		room.Send("@bob:b.test", event.TypeMember, roomtest.StrPtr("@bob:b.test"), map[string]any{"membership": "join", "join_authorised_via_users_server": "@alice:a.test"})
		room.Send("@alice:a.test", event.TypeRedaction, nil, map[string]any{"redacts": room.Order[0].ID(), "reason": "x"})
		for _, e := range room.Order {
			f.Add(e.JSON())
		}
	}
	versions := roomversion.All()
	keys := lookup(0)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range versions {
			e, err := event.Parse(data, v)
			if err != nil {
				if !errors.Is(err, event.ErrBadJSON) && !errors.Is(err, event.ErrTooLarge) && !errors.Is(err, event.ErrInvalid) {
					t.Fatalf("v%s: error %q wraps none of ErrBadJSON, ErrTooLarge, ErrInvalid", v.ID, err)
				}
				continue
			}
			if len(e.JSON()) > event.MaxEventBytes {
				t.Fatalf("v%s: accepted %d bytes", v.ID, len(e.JSON()))
			}
			again, err := event.Parse(e.JSON(), v)
			if err != nil {
				t.Fatalf("v%s: accepted event does not re-parse: %v\n%s", v.ID, err, e.JSON())
			}
			if again.ID() != e.ID() || again.RoomID() != e.RoomID() || !bytes.Equal(again.JSON(), e.JSON()) {
				t.Fatalf("v%s: re-parse differs: id %s -> %s, room %s -> %s\n%s\n%s", v.ID, e.ID(), again.ID(),
					e.RoomID(), again.RoomID(), e.JSON(), again.JSON())
			}
			if _, err := event.Redact(e.JSON(), v); err != nil {
				t.Fatalf("v%s: Redact: %v", v.ID, err)
			}
			if _, err := event.ContentHash(e.JSON(), v); err != nil {
				t.Fatalf("v%s: ContentHash: %v", v.ID, err)
			}
			if len(e.RequiredSigners()) == 0 {
				t.Fatalf("v%s: no required signers", v.ID)
			}
			if err := e.VerifySignatures(keys); err != nil && !errors.Is(err, event.ErrSignature) {
				t.Fatalf("v%s: VerifySignatures error %v is not ErrSignature", v.ID, err)
			}
		}
	})
}
