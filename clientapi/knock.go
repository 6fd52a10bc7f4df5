package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
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
	roomID, err := a.resolveRoomIDOrAlias(ctx, c.Param("roomIdOrAlias"))
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	var extra map[string]any
	if req.Reason != nil {
		extra = map[string]any{"reason": *req.Reason}
	}
	content, err := a.memberContent(c, s.Localpart, event.Knock, extra)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
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
