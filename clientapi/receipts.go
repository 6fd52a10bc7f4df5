package clientapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/syncapi"
)

type receiptReq struct {
	ThreadID json.RawMessage `json:"thread_id"`
}

// receipt implements POST /rooms/{roomId}/receipt/{receiptType}/{eventId}
// for m.read, m.read.private (both optionally threaded) and m.fully_read
// (the read marker, as /read_markers).
func (a *API) receipt(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	s := mustSession(c)
	typ := c.Param("receiptType")
	switch typ {
	case syncapi.ReceiptRead, syncapi.ReceiptReadPrivate, syncapi.ReceiptFullyRead:
	default:
		matrixhttp.Fail(c, syncapi.ErrBadReceiptType)
		return
	}
	eventID := c.Param("eventId")
	if !validEventID(eventID) {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid event ID"))
		return
	}
	var req receiptReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	thread := ""
	if len(req.ThreadID) > 0 && string(req.ThreadID) != "null" {
		if json.Unmarshal(req.ThreadID, &thread) != nil || thread == "" {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("thread_id field must be a non-empty string"))
			return
		}
	}
	if !a.requireJoined(c, roomID, s.UserID) {
		return
	}
	err := a.deps.Sync.PutReceipt(c.Request.Context(), syncapi.ReceiptRequest{RoomID: roomID, UserID: s.UserID,
		Type: typ, EventID: eventID, ThreadID: thread})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// validEventID accepts event IDs of every room version ("$" and at most
// 255 bytes).
func validEventID(id string) bool {
	return len(id) > 1 && len(id) <= mxid.MaxIDLength && strings.HasPrefix(id, "$")
}

type readMarkersReq struct {
	FullyRead   *string `json:"m.fully_read"`
	Read        *string `json:"m.read"`
	ReadPrivate *string `json:"m.read.private"`
}

// readMarkers implements POST /rooms/{roomId}/read_markers: the read
// marker (m.fully_read room account data) and, like /receipt, the m.read
// and m.read.private receipts. Every event is checked before anything is
// stored.
func (a *API) readMarkers(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	s := mustSession(c)
	var req readMarkersReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	type marker struct {
		typ string
		id  *string
	}
	markers := []marker{{syncapi.ReceiptRead, req.Read}, {syncapi.ReceiptReadPrivate, req.ReadPrivate},
		{syncapi.ReceiptFullyRead, req.FullyRead}}
	var ids []string
	for _, m := range markers {
		if m.id == nil {
			continue
		}
		if !validEventID(*m.id) {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("%s: invalid event ID", m.typ))
			return
		}
		ids = append(ids, *m.id)
	}
	if !a.requireJoined(c, roomID, s.UserID) {
		return
	}
	ctx := c.Request.Context()
	evs, err := a.deps.RoomStore.EventsByID(ctx, ids)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	found := map[string]bool{}
	for _, se := range evs {
		found[se.Event.ID()] = se.Event.RoomID() == roomID && !se.Rejected && !se.Outlier && se.StreamPos > 0
	}
	for _, id := range ids {
		if !found[id] {
			matrixhttp.Fail(c, syncapi.ErrUnknownEvent)
			return
		}
	}
	for _, m := range markers {
		if m.id == nil {
			continue
		}
		err := a.deps.Sync.PutReceipt(ctx, syncapi.ReceiptRequest{RoomID: roomID, UserID: s.UserID, Type: m.typ, EventID: *m.id})
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}
