package spectest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateAgainstTheSpec(t *testing.T) {
	v := Find(t)
	if v == nil {
		t.Skip("spec folder not present")
	}
	// Valid bodies pass.
	require.NoError(t, v.Validate("GET", "/_matrix/client/versions", 200, []byte(`{"versions":["v1.1"]}`)))
	ok := `{"chunk":[{"content":{"body":"hi","msgtype":"m.text"},"event_id":"$a","origin_server_ts":1,"room_id":"!r:x","sender":"@a:x","type":"m.room.message"}],"start":"s1","end":"s0"}`
	require.NoError(t, v.Validate("GET", "/_matrix/client/v3/rooms/%21r%3Ax/messages?dir=b", 200, []byte(ok)))
	require.NoError(t, v.Validate("GET", "/_matrix/client/v3/account/whoami", 200, []byte(`{"user_id":"@a:x","device_id":"D"}`)))
	// Wrong bodies fail.
	require.Error(t, v.Validate("GET", "/_matrix/client/v3/rooms/%21r%3Ax/messages", 200, []byte(`{"start":"s1"}`)), "chunk is required")
	require.Error(t, v.Validate("GET", "/_matrix/client/v3/rooms/%21r%3Ax/messages", 200,
		[]byte(`{"chunk":[{"event_id":5}],"start":"s1"}`)), "event fields have types")
	require.Error(t, v.Validate("GET", "/_matrix/client/v3/account/whoami", 200, []byte(`{"device_id":"D"}`)), "user_id is required")
	// Unknown routes and statuses without a schema are reported as such.
	require.True(t, errors.Is(v.Validate("GET", "/_matrix/client/v3/nope", 200, []byte(`{}`)), ErrNoSchema))
	require.True(t, errors.Is(v.Validate("GET", "/elsewhere", 200, []byte(`{}`)), ErrNoSchema))
}
