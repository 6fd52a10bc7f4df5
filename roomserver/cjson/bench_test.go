package cjson_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	gmsl "github.com/matrix-org/gomatrixserverlib"

	"github.com/concordchat/concord/roomserver/cjson"
)

// benchEvent returns an indented, unsorted (struct field order) m.room.message
// event of about size bytes, with some non-ASCII text and escapes.
func benchEvent(size int) []byte {
	type rel struct {
		RelType string `json:"rel_type"`
		EventID string `json:"event_id"`
	}
	type content struct {
		MsgType       string            `json:"msgtype"`
		Body          string            `json:"body"`
		Format        string            `json:"format"`
		FormattedBody string            `json:"formatted_body"`
		Mentions      map[string]any    `json:"m.mentions"`
		RelatesTo     rel               `json:"m.relates_to"`
		Extra         map[string]string `json:"org.example.extra"`
	}
	ev := struct {
		Type           string            `json:"type"`
		Sender         string            `json:"sender"`
		RoomID         string            `json:"room_id"`
		Content        content           `json:"content"`
		OriginServerTS int64             `json:"origin_server_ts"`
		Depth          int64             `json:"depth"`
		PrevEvents     []string          `json:"prev_events"`
		AuthEvents     []string          `json:"auth_events"`
		Hashes         map[string]string `json:"hashes"`
		Signatures     map[string]any    `json:"signatures"`
		Unsigned       map[string]any    `json:"unsigned"`
	}{
		Type: "m.room.message", Sender: "@alice:example.org", RoomID: "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ",
		OriginServerTS: 1_700_000_000_000, Depth: 4242,
		PrevEvents: []string{"$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"},
		AuthEvents: []string{"$a-RZzTz6gw1y7ePdeCvwHqz4bRPR2Fp5wTFBEOd_rYI", "$Y3GUhGTlDO0MdDgCC-GtKnsCHD6RvNcVjQMi-RZlC4E"},
		Hashes:     map[string]string{"sha256": "thishashcoversallfieldsincasethisisredacted"},
		Signatures: map[string]any{"example.org": map[string]string{"ed25519:a_bcde": strings.Repeat("s", 86)}},
		Unsigned:   map[string]any{"age": 1234},
		Content: content{MsgType: "m.text", Format: "org.matrix.custom.html",
			Mentions:  map[string]any{"user_ids": []string{"@bob:example.org"}},
			RelatesTo: rel{RelType: "m.thread", EventID: "$thread"},
			Extra:     map[string]string{"zz": "last", "aa": "first", "日本": "語"}},
	}
	line := "Voilà — naïve café \"quoted\" \\ back/slash 日本語 😀 <b>bold</b>\n"
	for len(ev.Content.Body)*2+600 < size {
		ev.Content.Body += line
		ev.Content.FormattedBody += line
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkCanonical canonicalises a ~2 KB and a ~60 KB indented event with
// Concord and with gomatrixserverlib.
func BenchmarkCanonical(b *testing.B) {
	for _, size := range []int{2 << 10, 60 << 10} {
		in := benchEvent(size)
		ours, err := cjson.CanonicalStrict(in)
		if err != nil {
			b.Fatal(err)
		}
		theirs, err := gmsl.CanonicalJSON(in)
		if err != nil || string(theirs) != string(ours) {
			b.Fatalf("implementations disagree on the benchmark input (%v)", err)
		}
		name := fmt.Sprintf("%dKB", size>>10)
		b.Run(name+"/concord", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := cjson.CanonicalStrict(in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/gomatrixserverlib", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := gmsl.CanonicalJSON(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
