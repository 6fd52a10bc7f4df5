package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
)

// TestBadInput sends malformed requests to the real server: each gets the
// right Matrix errcode and status, and nothing answers 500.
func TestBadInput(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		s := newServer(t, backend)
		alice := s.register(t, "alice")
		resp, err := alice.CreateRoom(context.Background(), &mautrix.ReqCreateRoom{Preset: "public_chat"})
		require.NoError(t, err)
		room := url.PathEscape(resp.RoomID.String())
		tok := alice.AccessToken
		huge := `{"body":"` + strings.Repeat("x", 70000) + `"}`
		for _, tc := range []struct {
			name, method, path, token, body string
			status                          int
			errcode                         string
		}{
			{"no token", "GET", "/_matrix/client/v3/joined_rooms", "", "", 401, "M_MISSING_TOKEN"},
			{"wrong token", "GET", "/_matrix/client/v3/joined_rooms", "nope", "", 401, "M_UNKNOWN_TOKEN"},
			{"unknown endpoint", "GET", "/_matrix/client/v3/no/such/thing", tok, "", 404, "M_UNRECOGNIZED"},
			{"wrong method", "DELETE", "/_matrix/client/v3/createRoom", tok, "", 405, "M_UNRECOGNIZED"},
			{"createRoom not json", "POST", "/_matrix/client/v3/createRoom", tok, "{nope", 400, "M_NOT_JSON"},
			{"createRoom array", "POST", "/_matrix/client/v3/createRoom", tok, "[]", 400, "M_BAD_JSON"},
			{"createRoom wrong type", "POST", "/_matrix/client/v3/createRoom", tok, `{"name":5}`, 400, "M_BAD_JSON"},
			{"createRoom bad preset", "POST", "/_matrix/client/v3/createRoom", tok, `{"preset":"party"}`, 400, "M_BAD_JSON"},
			{"createRoom bad version", "POST", "/_matrix/client/v3/createRoom", tok, `{"room_version":"99"}`, 400, "M_UNSUPPORTED_ROOM_VERSION"},
			{"createRoom bad invite", "POST", "/_matrix/client/v3/createRoom", tok, `{"invite":["bob"]}`, 400, "M_INVALID_PARAM"},
			{"send not json", "PUT", "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/t1", tok, "nope", 400, "M_NOT_JSON"},
			{"send float", "PUT", "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/t2", tok, `{"n":1.5}`, 400, "M_BAD_JSON"},
			{"send huge", "PUT", "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/t3", tok, huge, 413, "M_TOO_LARGE"},
			{"send bad room id", "PUT", "/_matrix/client/v3/rooms/nope/send/m.room.message/t4", tok, `{}`, 400, "M_INVALID_PARAM"},
			{"send unknown room", "PUT", "/_matrix/client/v3/rooms/" + url.PathEscape("!nope:"+s.name) + "/send/m.room.message/t5", tok, `{}`, 404, "M_NOT_FOUND"},
			{"state huge key", "PUT", "/_matrix/client/v3/rooms/" + room + "/state/m.x/" + strings.Repeat("k", 300), tok, `{}`, 400, "M_INVALID_PARAM"},
			{"invite bad user", "POST", "/_matrix/client/v3/rooms/" + room + "/invite", tok, `{"user_id":"bob"}`, 400, "M_INVALID_PARAM"},
			{"invite no user", "POST", "/_matrix/client/v3/rooms/" + room + "/invite", tok, `{}`, 400, "M_INVALID_PARAM"},
			{"kick wrong type", "POST", "/_matrix/client/v3/rooms/" + room + "/kick", tok, `{"user_id":7}`, 400, "M_BAD_JSON"},
			{"join unknown alias", "POST", "/_matrix/client/v3/join/" + url.PathEscape("#nope:"+s.name), tok, `{}`, 404, "M_NOT_FOUND"},
			{"join bad target", "POST", "/_matrix/client/v3/join/nope", tok, `{}`, 400, "M_INVALID_PARAM"},
			{"messages bad dir", "GET", "/_matrix/client/v3/rooms/" + room + "/messages?dir=x", tok, "", 400, "M_INVALID_PARAM"},
			{"messages bad token", "GET", "/_matrix/client/v3/rooms/" + room + "/messages?from=zzz", tok, "", 400, "M_INVALID_PARAM"},
			{"messages bad limit", "GET", "/_matrix/client/v3/rooms/" + room + "/messages?limit=-1", tok, "", 400, "M_INVALID_PARAM"},
			{"sync bad since", "GET", "/_matrix/client/v3/sync?since=garbage", tok, "", 400, "M_INVALID_PARAM"},
			{"sync bad timeout", "GET", "/_matrix/client/v3/sync?timeout=soon", tok, "", 400, "M_INVALID_PARAM"},
			{"sync bad filter", "GET", "/_matrix/client/v3/sync?filter=" + url.QueryEscape(`{"room":5}`), tok, "", 400, "M_BAD_JSON"},
			{"event unknown", "GET", "/_matrix/client/v3/rooms/" + room + "/event/" + url.PathEscape("$nope"), tok, "", 404, "M_NOT_FOUND"},
			{"state of a room not joined", "GET", "/_matrix/client/v3/rooms/" + url.PathEscape("!nope:"+s.name) + "/state", tok, "", 403, "M_FORBIDDEN"},
			{"alias bad", "GET", "/_matrix/client/v3/directory/room/nope", "", "", 400, "M_INVALID_PARAM"},
			{"alias other server", "PUT", "/_matrix/client/v3/directory/room/" + url.PathEscape("#a:other.test"), tok, `{"room_id":"` + resp.RoomID.String() + `"}`, 400, "M_INVALID_PARAM"},
			{"profile bad user", "GET", "/_matrix/client/v3/profile/nope", "", "", 400, "M_INVALID_PARAM"},
			{"profile unknown user", "GET", "/_matrix/client/v3/profile/" + url.PathEscape("@ghost:"+s.name), "", "", 404, "M_NOT_FOUND"},
			{"profile of another", "PUT", "/_matrix/client/v3/profile/" + url.PathEscape("@bob:"+s.name) + "/displayname", tok, `{"displayname":"x"}`, 403, "M_FORBIDDEN"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest(tc.method, s.url+tc.path, strings.NewReader(tc.body))
				require.NoError(t, err)
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer res.Body.Close()
				data, _ := io.ReadAll(res.Body)
				var body struct {
					Errcode string `json:"errcode"`
					Error   string `json:"error"`
				}
				require.NoError(t, json.Unmarshal(data, &body), "body %s", data)
				require.Equal(t, tc.status, res.StatusCode, "body %s", data)
				require.Equal(t, tc.errcode, body.Errcode, "body %s", data)
				require.NotEmpty(t, body.Error)
			})
		}
	})
}
