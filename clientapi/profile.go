package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/accounts"
)

// profileUser resolves a user ID of this server to its localpart, or M_NOT_FOUND.
func (a *API) profileUser(ctx context.Context, userID string) (string, error) {
	u, err := mxid.ParseUserID(userID)
	if err != nil {
		return "", matrixhttp.InvalidParam("Invalid user ID")
	}
	if u.Domain != a.deps.Config.ServerName {
		return "", matrixhttp.NotFound("Profile lookups of other servers need federation")
	}
	user, err := a.deps.Accounts.GetUser(ctx, u.Localpart)
	if errors.Is(err, accounts.ErrNotFound) || (err == nil && user.Deactivated) {
		return "", matrixhttp.NotFound("Profile not found")
	}
	return u.Localpart, err
}

func profileBody(p accounts.Profile) gin.H {
	body := gin.H{}
	if p.DisplayName != "" {
		body["displayname"] = p.DisplayName
	}
	if p.AvatarURL != "" {
		body["avatar_url"] = p.AvatarURL
	}
	return body
}

// getProfile implements GET /profile/{userId}.
func (a *API) getProfile(c *gin.Context) {
	localpart, err := a.profileUser(c.Request.Context(), c.Param("userId"))
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	p, err := a.deps.Accounts.GetProfile(c.Request.Context(), localpart)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, profileBody(p))
}

// getProfileField implements GET /profile/{userId}/displayname|avatar_url.
func (a *API) getProfileField(c *gin.Context) {
	field := c.Param("field")
	if field != "displayname" && field != "avatar_url" {
		matrixhttp.Fail(c, matrixhttp.Unrecognized(http.StatusNotFound, "Unknown profile field"))
		return
	}
	localpart, err := a.profileUser(c.Request.Context(), c.Param("userId"))
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	p, err := a.deps.Accounts.GetProfile(c.Request.Context(), localpart)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	body := profileBody(p)
	if _, ok := body[field]; !ok {
		matrixhttp.Fail(c, matrixhttp.NotFound("Profile field not set"))
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{field: body[field]})
}

// putProfileField implements PUT /profile/{userId}/displayname|avatar_url and
// updates the user's member event in every room they are joined to.
func (a *API) putProfileField(c *gin.Context) {
	field := c.Param("field")
	if field != "displayname" && field != "avatar_url" {
		matrixhttp.Fail(c, matrixhttp.Unrecognized(http.StatusNotFound, "Unknown profile field"))
		return
	}
	s := mustSession(c)
	if c.Param("userId") != s.UserID {
		matrixhttp.Fail(c, matrixhttp.Forbidden("You may only change your own profile"))
		return
	}
	var body map[string]json.RawMessage
	if err := matrixhttp.DecodeJSON(c, &body, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	var value string
	if raw, ok := body[field]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &value); err != nil {
			matrixhttp.Fail(c, matrixhttp.BadJSON("%s must be a string", field))
			return
		}
	}
	if len(value) > 256 && field == "displayname" {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Display name too long"))
		return
	}
	ctx := c.Request.Context()
	var err error
	if field == "displayname" {
		err = a.deps.Accounts.SetDisplayName(ctx, s.Localpart, value)
	} else {
		err = a.deps.Accounts.SetAvatarURL(ctx, s.Localpart, value)
	}
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if err := a.updateMemberEvents(c, s); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// updateMemberEvents re-sends the user's join in each joined room with the new profile.
func (a *API) updateMemberEvents(c *gin.Context, s Session) error {
	ctx := c.Request.Context()
	ms, err := a.deps.RoomStore.MembershipsOf(ctx, s.UserID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Membership != event.Join {
			continue
		}
		cur, err := a.deps.Rooms.StateEvent(ctx, m.RoomID, event.StateKey{Type: event.TypeMember, StateKey: s.UserID})
		if err != nil {
			return err
		}
		content := map[string]any{}
		if cur != nil {
			_ = json.Unmarshal(cur.Content(), &content)
		}
		fresh, err := a.memberContent(c, s.Localpart, event.Join, nil)
		if err != nil {
			return err
		}
		delete(content, "displayname")
		delete(content, "avatar_url")
		for k, v := range fresh {
			content[k] = v
		}
		raw, _ := json.Marshal(content)
		uid := s.UserID
		if _, err := a.deps.Rooms.Send(ctx, m.RoomID, roomserver.Proposal{Type: event.TypeMember, StateKey: &uid,
			Sender: s.UserID, Content: raw}); err != nil && !errors.Is(err, roomserver.ErrNotAllowed) {
			return err
		}
	}
	return nil
}
