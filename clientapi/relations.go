package clientapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/relations"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/syncapi"
)

// The relation errors of the roomserver and the relations service, mapped
// to Matrix errors.
func init() {
	matrixhttp.Register(
		matrixhttp.Mapping{Target: roomserver.ErrDuplicateAnnotation, Make: func(error) *matrixhttp.Error {
			return &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_DUPLICATE_ANNOTATION",
				Message: "Can't send the same reaction twice"}
		}},
		matrixhttp.Mapping{Target: roomserver.ErrThreadFromRelation, Make: func(error) *matrixhttp.Error {
			// threading.md: no specific code exists, M_UNKNOWN with 400.
			return &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_UNKNOWN",
				Message: "Cannot start threads from an event with a relation"}
		}},
		matrixhttp.Mapping{Target: roomserver.ErrBadRelation, Make: func(err error) *matrixhttp.Error {
			if _, reason, ok := strings.Cut(err.Error(), roomserver.ErrBadRelation.Error()+": "); ok {
				return matrixhttp.InvalidParam("Invalid relation: %s", reason)
			}
			return matrixhttp.InvalidParam("Invalid relation")
		}},
		matrixhttp.Mapping{Target: relations.ErrNotFound, Make: func(error) *matrixhttp.Error {
			return matrixhttp.NotFound("Event not found")
		}},
		matrixhttp.Mapping{Target: relations.ErrNotMember, Make: func(error) *matrixhttp.Error {
			return matrixhttp.Forbidden("You are not allowed to view this room")
		}},
	)
}

// annotate adds bundled aggregations and redacted_because to served events.
func (a *API) annotate(ctx context.Context, userID string, lists ...[]syncapi.ClientEvent) error {
	if a.deps.Relations == nil {
		return nil
	}
	for _, evs := range lists {
		if err := a.deps.Relations.Annotate(ctx, userID, evs); err != nil {
			return err
		}
	}
	return nil
}

// Defaults and bounds of the relations and threads listings (as Synapse).
const (
	defaultRelationsLimit = 5
	defaultThreadsLimit   = 5
)

// queryLimit reads the limit query parameter: def when absent, at most
// syncapi.MaxLimit, M_INVALID_PARAM unless a whole number of at least min.
func queryLimit(c *gin.Context, def, least int) (int, error) {
	l := c.Query("limit")
	if l == "" {
		return def, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < least {
		return 0, matrixhttp.InvalidParam("limit must be a whole number of at least %d", least)
	}
	return min(n, syncapi.MaxLimit), nil
}

// queryToken reads a pagination token query parameter (nil when absent).
func queryToken(c *gin.Context, name string) (*int64, error) {
	t := c.Query(name)
	if t == "" {
		return nil, nil
	}
	tok, err := syncapi.ParseToken(t)
	if err != nil {
		return nil, matrixhttp.InvalidParam("Invalid %s token", name)
	}
	return &tok.Room, nil
}

type relationsResp struct {
	Chunk          []syncapi.ClientEvent `json:"chunk"`
	NextBatch      string                `json:"next_batch,omitempty"`
	PrevBatch      string                `json:"prev_batch,omitempty"`
	RecursionDepth *int                  `json:"recursion_depth,omitempty"`
}

// relations implements GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]].
func (a *API) relations(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	req := relations.ChildrenRequest{UserID: mustSession(c).UserID, RoomID: roomID, EventID: c.Param("eventId"),
		RelType: c.Param("relType"), EventType: c.Param("eventType")}
	dir := c.DefaultQuery("dir", "b")
	if dir != "b" && dir != "f" {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("dir must be b or f"))
		return
	}
	req.Backwards = dir == "b"
	var err error
	if req.Limit, err = queryLimit(c, defaultRelationsLimit, 1); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.From, err = queryToken(c, "from"); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.To, err = queryToken(c, "to"); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	recurse, hasRecurse := c.GetQuery("recurse")
	switch recurse {
	case "", "false":
	case "true":
		req.Recurse = true
	default:
		matrixhttp.Fail(c, matrixhttp.InvalidParam("recurse must be true or false"))
		return
	}
	page, err := a.deps.Relations.Children(c.Request.Context(), req)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	resp := relationsResp{Chunk: page.Chunk, PrevBatch: c.Query("from")}
	if page.Next != nil {
		resp.NextBatch = syncapi.Token{Room: *page.Next}.String()
	}
	if hasRecurse {
		depth := 1
		if req.Recurse {
			depth = page.RecursionDepth
		}
		resp.RecursionDepth = &depth
	}
	matrixhttp.Respond(c, http.StatusOK, resp)
}

type threadsResp struct {
	Chunk     []syncapi.ClientEvent `json:"chunk"`
	NextBatch string                `json:"next_batch,omitempty"`
}

// threads implements GET /rooms/{roomId}/threads.
func (a *API) threads(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	req := relations.ThreadsRequest{UserID: mustSession(c).UserID, RoomID: roomID}
	switch c.DefaultQuery("include", "all") {
	case "all":
	case "participated":
		req.Participated = true
	default:
		matrixhttp.Fail(c, matrixhttp.InvalidParam("include must be all or participated"))
		return
	}
	var err error
	if req.Limit, err = queryLimit(c, defaultThreadsLimit, 1); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	from, err := queryToken(c, "from")
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if from != nil {
		req.From = *from
	}
	page, err := a.deps.Relations.Threads(c.Request.Context(), req)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	resp := threadsResp{Chunk: page.Chunk}
	if resp.Chunk == nil {
		resp.Chunk = []syncapi.ClientEvent{}
	}
	if page.Next > 0 {
		resp.NextBatch = syncapi.Token{Room: page.Next}.String()
	}
	matrixhttp.Respond(c, http.StatusOK, resp)
}
