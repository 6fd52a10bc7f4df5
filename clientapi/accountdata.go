package clientapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/syncapi"
)

// serverManagedTypes are account data types clients may read but only the
// server writes (client-server API, "Client Config", server behaviour).
var serverManagedTypes = map[string]bool{syncapi.TypeFullyRead: true, "m.push_rules": true}

// maxAccountDataBytes bounds one account data object.
const maxAccountDataBytes = matrixhttp.DefaultMaxBodyBytes

const otherUsersData = "Cannot access account data of other users"

// accountDataType reads the {type} path parameter.
func accountDataType(c *gin.Context) (string, bool) {
	typ := c.Param("type")
	if typ == "" || len(typ) > event.MaxKeyBytes {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid account data type"))
		return "", false
	}
	return typ, true
}

// getAccountData implements GET /user/{userId}/account_data/{type}.
func (a *API) getAccountData(c *gin.Context) { a.readAccountData(c, false) }

// getRoomAccountData implements GET /user/{userId}/rooms/{roomId}/account_data/{type}.
func (a *API) getRoomAccountData(c *gin.Context) { a.readAccountData(c, true) }

// putAccountData implements PUT /user/{userId}/account_data/{type}.
func (a *API) putAccountData(c *gin.Context) { a.writeAccountData(c, false) }

// putRoomAccountData implements PUT /user/{userId}/rooms/{roomId}/account_data/{type}.
func (a *API) putRoomAccountData(c *gin.Context) { a.writeAccountData(c, true) }

func (a *API) readAccountData(c *gin.Context, perRoom bool) {
	s, ok := ownUserParam(c, otherUsersData)
	if !ok {
		return
	}
	roomID := ""
	if perRoom {
		if roomID, ok = roomIDParam(c); !ok {
			return
		}
	}
	typ, ok := accountDataType(c)
	if !ok {
		return
	}
	content, err := a.deps.Sync.AccountData(c.Request.Context(), s.UserID, roomID, typ)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", content)
}

func (a *API) writeAccountData(c *gin.Context, perRoom bool) {
	s, ok := ownUserParam(c, otherUsersData)
	if !ok {
		return
	}
	roomID := ""
	if perRoom {
		if roomID, ok = roomIDParam(c); !ok {
			return
		}
	}
	typ, ok := accountDataType(c)
	if !ok {
		return
	}
	if serverManagedTypes[typ] {
		matrixhttp.Fail(c, &matrixhttp.Error{Status: http.StatusMethodNotAllowed, ErrCode: "M_BAD_JSON",
			Message: "Cannot set " + typ + " through this API"})
		return
	}
	content, err := readObject(c, maxAccountDataBytes)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if typ == syncapi.TypeIgnoredUserList && roomID == "" {
		if err := checkIgnoredUserList(content); err != nil {
			matrixhttp.Fail(c, err)
			return
		}
	}
	if err := a.deps.Sync.PutAccountData(c.Request.Context(), s.UserID, roomID, typ, content); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// readObject reads a JSON object body, compacted.
func readObject(c *gin.Context, limit int64) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := matrixhttp.DecodeJSON(c, &raw, limit, false); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, matrixhttp.BadJSON("Invalid JSON")
	}
	return buf.Bytes(), nil
}

// checkIgnoredUserList checks the shape the server enforces: ignored_users,
// when present, maps user IDs to objects.
func checkIgnoredUserList(content json.RawMessage) error {
	var list struct {
		IgnoredUsers *map[string]map[string]json.RawMessage `json:"ignored_users"`
	}
	if err := json.Unmarshal(content, &list); err != nil {
		return matrixhttp.BadJSON("ignored_users must map user IDs to objects")
	}
	return nil
}

// getTags implements GET /user/{userId}/rooms/{roomId}/tags.
func (a *API) getTags(c *gin.Context) {
	s, ok := ownUserParam(c, otherUsersData)
	if !ok {
		return
	}
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	tags, err := a.deps.Sync.Tags(c.Request.Context(), s.UserID, roomID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"tags": tags})
}

// maxTagBytes is the spec's limit on a tag name.
const maxTagBytes = 255

// tagParams reads the caller, room and tag of a /tags/{tag} path.
func tagParams(c *gin.Context) (Session, string, string, bool) {
	s, ok := ownUserParam(c, otherUsersData)
	if !ok {
		return s, "", "", false
	}
	roomID, ok := roomIDParam(c)
	if !ok {
		return s, "", "", false
	}
	tag := c.Param("tag")
	if tag == "" || len(tag) > maxTagBytes {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("A tag is 1 to %d bytes", maxTagBytes))
		return s, "", "", false
	}
	return s, roomID, tag, true
}

// putTag implements PUT /user/{userId}/rooms/{roomId}/tags/{tag}; the body
// is the tag object, whose order, when present, is a number.
func (a *API) putTag(c *gin.Context) {
	s, roomID, tag, ok := tagParams(c)
	if !ok {
		return
	}
	content, err := readObject(c, maxAccountDataBytes)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	var t struct {
		Order *float64 `json:"order"`
	}
	if json.Unmarshal(content, &t) != nil {
		matrixhttp.Fail(c, matrixhttp.BadJSON("order must be a number"))
		return
	}
	if err := a.deps.Sync.SetTag(c.Request.Context(), s.UserID, roomID, tag, content); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// deleteTag implements DELETE /user/{userId}/rooms/{roomId}/tags/{tag}.
func (a *API) deleteTag(c *gin.Context) {
	s, roomID, tag, ok := tagParams(c)
	if !ok {
		return
	}
	if err := a.deps.Sync.DeleteTag(c.Request.Context(), s.UserID, roomID, tag); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}
