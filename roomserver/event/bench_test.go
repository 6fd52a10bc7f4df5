package event_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// benchEvents returns signed room version 12 message events of about 2 KB
// and 60 KB (canonical JSON, as received over federation).
func benchEvents(b *testing.B) (*roomversion.Version, map[string][]byte) {
	v := roomversion.MustGet("12")
	room := roomtest.Init(b, v.ID, "@alice:a.test", "public")
	out := map[string][]byte{}
	for _, size := range []int{2 << 10, 60 << 10} {
		line := "Voilà — naïve café \"quoted\" 日本語 😀 <b>bold</b>\n"
		body := strings.Repeat(line, (size-900)/2/len(line))
		e := room.Send("@alice:a.test", "m.room.message", nil, map[string]any{
			"msgtype": "m.text", "body": body, "format": "org.matrix.custom.html", "formatted_body": body,
			"m.mentions": map[string]any{"user_ids": []string{"@bob:b.test"}},
		})
		out[fmt.Sprintf("%dKB", size>>10)] = e.JSON()
	}
	return v, out
}

// BenchmarkEventID computes the event ID of trusted event JSON (field
// extraction, redaction, canonical JSON, SHA-256): Concord's FromTrusted
// against the oracle's NewEventFromTrustedJSON + EventID.
func BenchmarkEventID(b *testing.B) {
	v, events := benchEvents(b)
	impl := oracleVersion(v)
	for _, name := range []string{"2KB", "60KB"} {
		raw := events[name]
		want, err := event.FromTrusted(raw, v, "", false)
		if err != nil {
			b.Fatal(err)
		}
		if pdu, err := impl.NewEventFromTrustedJSON(raw, false); err != nil || pdu.EventID() != want.ID() {
			b.Fatalf("implementations disagree on %s (%v)", name, err)
		}
		b.Run(name+"/concord", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := event.FromTrusted(raw, v, "", false); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/gomatrixserverlib", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				pdu, err := impl.NewEventFromTrustedJSON(raw, false)
				if err != nil {
					b.Fatal(err)
				}
				_ = pdu.EventID()
			}
		})
	}
}

// BenchmarkParse validates untrusted event JSON (canonical JSON check,
// fields, content hash, event ID): Concord's Parse against the oracle's
// NewEventFromUntrustedJSON + EventID.
func BenchmarkParse(b *testing.B) {
	v, events := benchEvents(b)
	impl := oracleVersion(v)
	for _, name := range []string{"2KB", "60KB"} {
		raw := events[name]
		b.Run(name+"/concord", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := event.Parse(raw, v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/gomatrixserverlib", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				pdu, err := impl.NewEventFromUntrustedJSON(raw)
				if err != nil {
					b.Fatal(err)
				}
				_ = pdu.EventID()
			}
		})
	}
}
