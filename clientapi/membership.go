package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/rooms"
)

// memberContent is an m.room.member content with the user's profile (for
// joins and knocks, so members see who it is), and extra fields.
func (a *API) memberContent(c *gin.Context, localpart, membership string, extra map[string]any) (map[string]any, error) {
	content := map[string]any{"membership": membership}
	if membership == event.Join || membership == event.Knock {
		p, err := a.deps.Accounts.GetProfile(c.Request.Context(), localpart)
		if err != nil && !errors.Is(err, accounts.ErrNotFound) {
			return nil, err
		}
		if p.DisplayName != "" {
			content["displayname"] = p.DisplayName
		}
		if p.AvatarURL != "" {
			content["avatar_url"] = p.AvatarURL
		}
	}
	for k, v := range extra {
		content[k] = v
	}
	return content, nil
}

// roomIDParam validates the :roomId path parameter.
func roomIDParam(c *gin.Context) (string, bool) {
	id := c.Param("roomId")
	if !strings.HasPrefix(id, "!") || len(id) > mxid.MaxIDLength {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid room ID"))
		return "", false
	}
	return id, true
}

type membershipReq struct {
	UserID string `json:"user_id"`
	Reason string `json:"reason"`
}

func (r membershipReq) extra() map[string]any {
	if r.Reason == "" {
		return nil
	}
	return map[string]any{"reason": r.Reason}
}

// sendMember sends an m.room.member event about target and answers {} or {room_id}.
func (a *API) sendMember(c *gin.Context, roomID, target, membership string, extra map[string]any, respondRoomID bool) {
	s := mustSession(c)
	if s.IsGuest && membership == event.Join && target == s.UserID {
		if err := a.checkGuestJoin(c.Request.Context(), roomID); err != nil {
			matrixhttp.Fail(c, err)
			return
		}
	}
	if membership == event.Join && target == s.UserID {
		var err error
		if extra, err = a.authoriseRestrictedJoin(c.Request.Context(), roomID, target, extra); err != nil {
			matrixhttp.Fail(c, err)
			return
		}
	}
	localpart := ""
	if u, err := mxid.ParseUserID(target); err == nil && u.Domain == a.deps.Config.ServerName {
		localpart = u.Localpart
	}
	content := map[string]any{"membership": membership}
	if localpart != "" && target == s.UserID {
		var err error
		if content, err = a.memberContent(c, localpart, membership, extra); err != nil {
			matrixhttp.Fail(c, err)
			return
		}
	} else {
		for k, v := range extra {
			content[k] = v
		}
	}
	raw, _ := json.Marshal(content)
	_, err := a.deps.Rooms.Send(c.Request.Context(), roomID, roomserver.Proposal{Type: event.TypeMember,
		StateKey: &target, Sender: s.UserID, Content: raw})
	if err != nil {
		if errors.Is(err, roomserver.ErrRoomNotFound) && membership == event.Join {
			err = matrixhttp.NotFound("No known servers to join this room through")
		}
		matrixhttp.Fail(c, err)
		return
	}
	if respondRoomID {
		matrixhttp.Respond(c, http.StatusOK, gin.H{"room_id": roomID})
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// selfMembership handles the caller's own join or leave of /rooms/{roomId}
// (an optional reason in the body); joins answer with the room ID.
func (a *API) selfMembership(c *gin.Context, membership string) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	var req membershipReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	a.sendMember(c, roomID, mustSession(c).UserID, membership, req.extra(), membership == event.Join)
}

func (a *API) joinRoom(c *gin.Context) { a.selfMembership(c, event.Join) }
func (a *API) leave(c *gin.Context)    { a.selfMembership(c, event.Leave) }

// joinRoomIDOrAlias implements POST /join/{roomIdOrAlias}.
func (a *API) joinRoomIDOrAlias(c *gin.Context) {
	target := c.Param("roomIdOrAlias")
	var req membershipReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	target, err := a.resolveRoomIDOrAlias(c.Request.Context(), target)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	a.sendMember(c, target, mustSession(c).UserID, event.Join, req.extra(), true)
}

// resolveRoomIDOrAlias returns the room ID of a {roomIdOrAlias} parameter:
// a room ID as it is, a local alias resolved (M_NOT_FOUND when unknown).
func (a *API) resolveRoomIDOrAlias(ctx context.Context, target string) (string, error) {
	switch {
	case strings.HasPrefix(target, "#"):
		alias, err := a.deps.Rooms.ResolveAlias(ctx, target)
		if errors.Is(err, rooms.ErrNotFound) {
			return "", matrixhttp.NotFound("Room alias %s not found", target)
		}
		if err != nil {
			return "", err
		}
		return alias.RoomID, nil
	case strings.HasPrefix(target, "!"):
		return target, nil
	default:
		return "", matrixhttp.InvalidParam("Expected a room ID or alias")
	}
}

// targetedMembership handles invite, kick, ban and unban: a body naming user_id.
func (a *API) targetedMembership(c *gin.Context, membership string) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	var req membershipReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if _, err := mxid.ParseUserID(req.UserID); err != nil {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid or missing user_id"))
		return
	}
	if membership == event.Invite {
		if u, _ := mxid.ParseUserID(req.UserID); u.Domain != a.deps.Config.ServerName {
			matrixhttp.Fail(c, matrixhttp.Forbidden("Inviting users of other servers needs federation, which this server does not run yet"))
			return
		}
		current, err := a.deps.Rooms.Membership(c.Request.Context(), roomID, req.UserID)
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
		if current == event.Invite {
			matrixhttp.Respond(c, http.StatusOK, gin.H{})
			return
		}
	}
	if membership == "unban" {
		current, err := a.deps.Rooms.Membership(c.Request.Context(), roomID, req.UserID)
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
		if current != event.Ban {
			matrixhttp.Fail(c, matrixhttp.Forbidden("%s is not banned", req.UserID))
			return
		}
		membership = event.Leave
	}
	a.sendMember(c, roomID, req.UserID, membership, req.extra(), false)
}

func (a *API) invite(c *gin.Context) { a.targetedMembership(c, event.Invite) }
func (a *API) kick(c *gin.Context)   { a.targetedMembership(c, event.Leave) }
func (a *API) ban(c *gin.Context)    { a.targetedMembership(c, event.Ban) }
func (a *API) unban(c *gin.Context)  { a.targetedMembership(c, "unban") }

// forget implements POST /rooms/{roomId}/forget: allowed once the user has
// left; the room then no longer appears in their sync.
func (a *API) forget(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	s := mustSession(c)
	m, err := a.membershipRow(c.Request.Context(), s.UserID, roomID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if m.Membership == event.Join || m.Membership == event.Invite || m.Membership == event.Knock {
		matrixhttp.Fail(c, &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_UNKNOWN", Message: "You must leave the room before forgetting it"})
		return
	}
	if err := a.deps.RoomStore.Forget(c.Request.Context(), s.UserID, m.RoomNID, m.EventNID); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// membershipRow returns the user's membership row for a room, or M_NOT_FOUND.
func (a *API) membershipRow(ctx context.Context, userID, roomID string) (rooms.Membership, error) {
	ms, err := a.deps.RoomStore.MembershipsOf(ctx, userID)
	if err != nil {
		return rooms.Membership{}, err
	}
	for _, m := range ms {
		if m.RoomID == roomID {
			return m, nil
		}
	}
	return rooms.Membership{}, matrixhttp.NotFound("You have no membership of this room")
}
