package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/directory"
	"github.com/concordchat/concord/storage/storagetest"
	"github.com/concordchat/concord/syncapi"
)

// Helpers of the directory, upgrade, knock, restricted join and report
// tests: the full stack with the directory store wired in.

// dirEnv is a roomsEnv with the directory store.
type dirEnv struct {
	*roomsEnv
	dir *directory.Store
}

func forEachDirEnv(t *testing.T, fn func(t *testing.T, e *dirEnv), cfgFns ...func(*config.Config)) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		fn(t, newDirEnv(t, db, cfgFns...))
	})
}

func newDirEnv(t *testing.T, db *storage.DB, cfgFns ...func(*config.Config)) *dirEnv {
	dir, err := directory.New(directory.Deps{DB: db})
	require.NoError(t, err)
	re := newRoomsEnv(t, db, func(_ *roomsEnv, _ *roomserver.Deps, _ *syncapi.Deps, d *Deps) {
		d.Directory = dir
	}, cfgFns...)
	return &dirEnv{roomsEnv: re, dir: dir}
}

// do sends a JSON request with cli's access token (none for a client
// without one), decoding the answer into out when not nil.
func (e *dirEnv) do(cli *mautrix.Client, method string, path mautrix.PrefixableURLPath, query map[string]string, body, out any) error {
	e.t.Helper()
	req := mautrix.FullRequest{Method: method, URL: cli.BuildURLWithQuery(path, query), ResponseJSON: out, MaxAttempts: 1}
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(e.t, err)
		req.RequestBytes = raw
		req.Headers = http.Header{"Content-Type": {"application/json"}}
	}
	_, err := cli.MakeFullRequest(e.ctx, req)
	return err
}

// requireMatrixErr checks that err is a Matrix error with the status and errcode.
func requireMatrixErr(t *testing.T, err error, status int, errcode string) {
	t.Helper()
	require.Error(t, err)
	var he mautrix.HTTPError
	require.True(t, errors.As(err, &he), "not an HTTP error: %v", err)
	require.NotNil(t, he.RespError, "no Matrix error in %q", he.ResponseBody)
	require.Equal(t, status, he.RespError.StatusCode, he.ResponseBody)
	require.Equal(t, errcode, he.RespError.ErrCode, he.ResponseBody)
}

// anonymous is a client without an access token.
func (e *dirEnv) anonymous() *mautrix.Client {
	cli, err := mautrix.NewClient(e.srv.URL, "", "")
	require.NoError(e.t, err)
	return cli
}

// createRoom creates a room and returns its ID.
func (e *dirEnv) createRoom(cli *mautrix.Client, req *mautrix.ReqCreateRoom) id.RoomID {
	e.t.Helper()
	resp, err := cli.CreateRoom(e.ctx, req)
	require.NoError(e.t, err)
	return resp.RoomID
}
