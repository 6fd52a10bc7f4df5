package clientapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/directory"
)

type reportEventReq struct {
	Reason *string `json:"reason"`
	// Score was removed from the spec in v1.18; Synapse still takes it.
	Score *int64 `json:"score"`
}

type reportRoomReq struct {
	Reason *string `json:"reason"`
}

// reportEvent implements POST /rooms/{roomId}/report/{eventId}: a member of
// the room reports an event they can see. Unknown events, events of other
// rooms, events hidden from the reporter and reporters who are not joined all
// get the same 404, so nothing is learnt from it.
func (a *API) reportEvent(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	var req reportEventReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.Score != nil && (*req.Score < -100 || *req.Score > 0) {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("score must be an integer between -100 and 0"))
		return
	}
	s := mustSession(c)
	ctx := c.Request.Context()
	notFound := matrixhttp.NotFound("The event was not found or you are not joined to the room")
	evs, err := a.deps.RoomStore.EventsByID(ctx, []string{c.Param("eventId")})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if len(evs) == 0 || evs[0].Event.RoomID() != roomID || evs[0].Rejected {
		matrixhttp.Fail(c, notFound)
		return
	}
	vis, byRoom, err := a.visibility(ctx, s.UserID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if byRoom[roomID].Membership != event.Join {
		matrixhttp.Fail(c, notFound)
		return
	}
	if visible, err := vis.Visible(ctx, roomID, evs[0]); err != nil || !visible {
		if err == nil {
			err = notFound
		}
		matrixhttp.Fail(c, err)
		return
	}
	_, err = a.deps.Directory.AddReport(ctx, directory.Report{Kind: directory.KindEvent, RoomID: roomID,
		EventID: evs[0].Event.ID(), EventSender: evs[0].Event.Sender(), Reporter: s.UserID, Reason: req.Reason,
		Score: req.Score, ReceivedTS: a.deps.Now().UnixMilli()})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// reportRoom implements POST /rooms/{roomId}/report (v1.13): anyone may
// report a room the server knows, member or not.
func (a *API) reportRoom(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	var req reportRoomReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.Reason == nil {
		matrixhttp.Fail(c, matrixhttp.MissingParam("reason is required (it may be blank)"))
		return
	}
	ctx := c.Request.Context()
	if _, err := a.deps.Rooms.Room(ctx, roomID); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	_, err := a.deps.Directory.AddReport(ctx, directory.Report{Kind: directory.KindRoom, RoomID: roomID,
		Reporter: mustSession(c).UserID, Reason: req.Reason, ReceivedTS: a.deps.Now().UnixMilli()})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// adminReport is a report as Synapse's admin API shows it.
type adminReport struct {
	ID             int64           `json:"id"`
	ReceivedTS     int64           `json:"received_ts"`
	RoomID         string          `json:"room_id"`
	Name           *string         `json:"name"`
	CanonicalAlias *string         `json:"canonical_alias"`
	EventID        string          `json:"event_id,omitempty"`
	UserID         string          `json:"user_id"`
	Reason         *string         `json:"reason"`
	Score          *int64          `json:"score,omitempty"`
	Sender         string          `json:"sender,omitempty"`
	EventJSON      json.RawMessage `json:"event_json,omitempty"`
}

// adminListEventReports implements Synapse's GET
// /_synapse/admin/v1/event_reports (from, limit, dir, room_id, user_id,
// event_sender_user_id): {event_reports, next_token, total}.
func (a *API) adminListEventReports(c *gin.Context) {
	a.adminListReports(c, directory.KindEvent, "event_reports")
}

// adminListRoomReports is the same listing for room reports
// (/_synapse/admin/v1/room_reports: {room_reports, next_token, total}).
func (a *API) adminListRoomReports(c *gin.Context) {
	a.adminListReports(c, directory.KindRoom, "room_reports")
}

func (a *API) adminListReports(c *gin.Context, kind, key string) {
	q := directory.ReportQuery{Kind: kind, Limit: 100, RoomID: c.Query("room_id"), Reporter: c.Query("user_id"),
		EventSender: c.Query("event_sender_user_id")}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"from", &q.From}, {"limit", &q.Limit}} {
		if v, ok := c.GetQuery(p.name); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				matrixhttp.Fail(c, matrixhttp.InvalidParam("The %s parameter must be a non-negative integer", p.name))
				return
			}
			*p.dst = n
		}
	}
	switch c.DefaultQuery("dir", "b") {
	case "f":
		q.Forwards = true
	case "b":
	default:
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Unknown direction: dir must be f or b"))
		return
	}
	ctx := c.Request.Context()
	reports, total, err := a.deps.Directory.ListReports(ctx, q)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	out := make([]adminReport, 0, len(reports))
	for _, r := range reports {
		out = append(out, a.adminReportOf(ctx, r))
	}
	body := gin.H{key: out, "total": total}
	if next := q.From + int64(len(reports)); next < total && len(reports) > 0 {
		body["next_token"] = next
	}
	matrixhttp.Respond(c, http.StatusOK, body)
}

// adminGetEventReport implements GET /_synapse/admin/v1/event_reports/{id}:
// the report with the reported event.
func (a *API) adminGetEventReport(c *gin.Context) {
	id, ok := reportIDParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	r, err := a.deps.Directory.GetReport(ctx, directory.KindEvent, id)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	out := a.adminReportOf(ctx, r)
	evs, err := a.deps.RoomStore.EventsByID(ctx, []string{r.EventID})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if len(evs) == 1 {
		out.EventJSON = evs[0].Event.JSON()
	}
	matrixhttp.Respond(c, http.StatusOK, out)
}

// adminDeleteEventReport implements DELETE /_synapse/admin/v1/event_reports/{id}.
func (a *API) adminDeleteEventReport(c *gin.Context) {
	id, ok := reportIDParam(c)
	if !ok {
		return
	}
	if err := a.deps.Directory.DeleteReport(c.Request.Context(), directory.KindEvent, id); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

func reportIDParam(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("reportId"), 10, 64)
	if err != nil || id < 0 {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("The report ID must be a non-negative integer"))
		return 0, false
	}
	return id, true
}

// adminReportOf renders a report with the room's current name and canonical
// alias (null when it has none, or the server no longer knows the room).
func (a *API) adminReportOf(ctx context.Context, r directory.Report) adminReport {
	out := adminReport{ID: r.ID, ReceivedTS: r.ReceivedTS, RoomID: r.RoomID, EventID: r.EventID, UserID: r.Reporter,
		Reason: r.Reason, Score: r.Score, Sender: r.EventSender}
	for _, f := range []struct {
		typ, key string
		dst      **string
	}{{"m.room.name", "name", &out.Name}, {"m.room.canonical_alias", "alias", &out.CanonicalAlias}} {
		e, err := a.deps.Rooms.StateEvent(ctx, r.RoomID, event.StateKey{Type: f.typ})
		if err != nil || e == nil {
			continue
		}
		if v := gjson.GetBytes(e.Content(), f.key); v.Type == gjson.String {
			s := v.Str
			*f.dst = &s
		}
	}
	return out
}
