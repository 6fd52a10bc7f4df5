package clientapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/rooms"
)

// aliasParam validates a local room alias from the path.
func (a *API) aliasParam(c *gin.Context) (string, bool) {
	alias := c.Param("roomAlias")
	if !mxid.ValidAlias(alias) {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid room alias"))
		return "", false
	}
	return alias, true
}

type putAliasReq struct {
	RoomID string `json:"room_id"`
}

// putAlias implements PUT /directory/room/{roomAlias}: members of the room
// may add aliases on this server.
func (a *API) putAlias(c *gin.Context) {
	alias, ok := a.aliasParam(c)
	if !ok {
		return
	}
	if mxid.Domain(alias) != a.deps.Config.ServerName {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Alias must be on this server"))
		return
	}
	var req putAliasReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	s := mustSession(c)
	if err := a.requirePower(c, req.RoomID, s.UserID, func(*auth.PowerLevels) int64 { return 0 }); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if err := a.deps.Rooms.CreateAlias(c.Request.Context(), alias, req.RoomID, s.UserID); err != nil {
		if errors.Is(err, rooms.ErrAliasExists) {
			err = &matrixhttp.Error{Status: http.StatusConflict, ErrCode: "M_UNKNOWN", Message: "Room alias already exists"}
		}
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// getAlias implements GET /directory/room/{roomAlias}.
func (a *API) getAlias(c *gin.Context) {
	alias, ok := a.aliasParam(c)
	if !ok {
		return
	}
	found, err := a.deps.Rooms.ResolveAlias(c.Request.Context(), alias)
	if err != nil {
		if errors.Is(err, rooms.ErrNotFound) {
			err = matrixhttp.NotFound("Room alias %s not found", alias)
		}
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"room_id": found.RoomID, "servers": []string{a.deps.Config.ServerName}})
}

// deleteAlias implements DELETE /directory/room/{roomAlias}: the alias's
// creator, a server admin, or a room member allowed to change the canonical
// alias may delete it.
func (a *API) deleteAlias(c *gin.Context) {
	alias, ok := a.aliasParam(c)
	if !ok {
		return
	}
	s := mustSession(c)
	found, err := a.deps.Rooms.ResolveAlias(c.Request.Context(), alias)
	if err != nil {
		if errors.Is(err, rooms.ErrNotFound) {
			err = matrixhttp.NotFound("Room alias %s not found", alias)
		}
		matrixhttp.Fail(c, err)
		return
	}
	if found.Creator != s.UserID && !s.IsAdmin {
		level := func(pl *auth.PowerLevels) int64 {
			if l, ok := pl.Events["m.room.canonical_alias"]; ok {
				return l
			}
			return pl.StateDefault
		}
		if err := a.requirePower(c, found.RoomID, s.UserID, level); err != nil {
			matrixhttp.Fail(c, err)
			return
		}
	}
	if err := a.deps.Rooms.DeleteAlias(c.Request.Context(), alias); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}
