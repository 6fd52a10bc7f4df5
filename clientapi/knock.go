package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/rooms"
)

type knockReq struct {
	Reason *string `json:"reason"`
}

// knock implements POST /knock/{roomIdOrAlias}: the caller asks to join a
// room whose join rule is knock or knock_restricted. The authorisation
// rules decide (M_FORBIDDEN otherwise: other join rules, room versions
// before 7, members, invitees and banned users). The knock carries the
// caller's profile, as a join does, so that moderators see who knocks.
func (a *API) knock(c *gin.Context) {
	s := mustSession(c)
	var req knockReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	roomID := c.Param("roomIdOrAlias")
	switch {
	case strings.HasPrefix(roomID, "#"):
		alias, err := a.deps.Rooms.ResolveAlias(ctx, roomID)
		if err != nil {
			if errors.Is(err, rooms.ErrNotFound) {
				err = matrixhttp.NotFound("Room alias %s not found", roomID)
			}
			matrixhttp.Fail(c, err)
			return
		}
		roomID = alias.RoomID
	case !strings.HasPrefix(roomID, "!"):
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Expected a room ID or alias"))
		return
	}
	content := map[string]any{"membership": event.Knock}
	if req.Reason != nil {
		content["reason"] = *req.Reason
	}
	p, err := a.deps.Accounts.GetProfile(ctx, s.Localpart)
	if err != nil && !errors.Is(err, accounts.ErrNotFound) {
		matrixhttp.Fail(c, err)
		return
	}
	if p.DisplayName != "" {
		content["displayname"] = p.DisplayName
	}
	if p.AvatarURL != "" {
		content["avatar_url"] = p.AvatarURL
	}
	raw, _ := json.Marshal(content)
	_, err = a.deps.Rooms.Send(ctx, roomID, roomserver.Proposal{Type: event.TypeMember, StateKey: &s.UserID,
		Sender: s.UserID, Content: raw})
	if err != nil {
		if errors.Is(err, roomserver.ErrRoomNotFound) {
			err = matrixhttp.NotFound("No known servers to knock on this room through")
		}
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"room_id": roomID})
}
