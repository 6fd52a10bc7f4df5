package clientapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// adminEventReport is one entry of Synapse's event_reports listing.
type adminEventReport struct {
	ID             int64           `json:"id"`
	ReceivedTS     int64           `json:"received_ts"`
	RoomID         string          `json:"room_id"`
	Name           *string         `json:"name"`
	CanonicalAlias *string         `json:"canonical_alias"`
	EventID        string          `json:"event_id"`
	UserID         string          `json:"user_id"`
	Reason         *string         `json:"reason"`
	Score          *int64          `json:"score"`
	Sender         string          `json:"sender"`
	EventJSON      json.RawMessage `json:"event_json"`
}

type adminReportList struct {
	EventReports []adminEventReport `json:"event_reports"`
	RoomReports  []adminEventReport `json:"room_reports"`
	NextToken    *int64             `json:"next_token"`
	Total        int64              `json:"total"`
}

func TestContentReports(t *testing.T) {
	forEachDirEnv(t, func(t *testing.T, e *dirEnv) {
		ctx := e.ctx
		admin, bob, carol, mallory, dave := e.user("admin"), e.user("bob"), e.user("carol"), e.user("mallory"), e.user("dave")
		room := e.createRoom(bob, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "Town square", RoomAliasName: "square",
			InitialState: []*event.Event{{Type: event.StateHistoryVisibility, Content: event.Content{Raw: map[string]any{"history_visibility": "joined"}}}}})
		_, err := mallory.JoinRoomByID(ctx, room)
		require.NoError(t, err)
		early, err := mallory.SendText(ctx, room, "before carol")
		require.NoError(t, err)
		_, err = carol.JoinRoomByID(ctx, room)
		require.NoError(t, err)
		spam, err := mallory.SendText(ctx, room, "buy now")
		require.NoError(t, err)
		rude, err := bob.SendText(ctx, room, "rude words")
		require.NoError(t, err)
		other := e.createRoom(mallory, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		elsewhere, err := mallory.SendText(ctx, other, "elsewhere")
		require.NoError(t, err)

		reportPath := func(room id.RoomID, ev id.EventID) mautrix.ClientURLPath {
			return mautrix.ClientURLPath{"v3", "rooms", room, "report", ev}
		}
		// carol reports mallory's spam (with a score) and bob's message.
		require.NoError(t, e.do(carol, http.MethodPost, reportPath(room, spam.EventID), nil, map[string]any{"reason": "spam", "score": -100}, nil))
		require.NoError(t, mallory.ReportEvent(ctx, room, rude.EventID, "rude"))
		require.NoError(t, e.do(carol, http.MethodPost, reportPath(room, rude.EventID), nil, map[string]any{}, nil))

		// Not found: unknown events, events of another room, events the
		// reporter cannot see, reporters not in the room.
		requireMatrixErr(t, carol.ReportEvent(ctx, room, "$nothing", "x"), http.StatusNotFound, "M_NOT_FOUND")
		requireMatrixErr(t, carol.ReportEvent(ctx, room, elsewhere.EventID, "x"), http.StatusNotFound, "M_NOT_FOUND")
		requireMatrixErr(t, carol.ReportEvent(ctx, room, early.EventID, "x"), http.StatusNotFound, "M_NOT_FOUND")
		requireMatrixErr(t, dave.ReportEvent(ctx, room, spam.EventID, "x"), http.StatusNotFound, "M_NOT_FOUND")
		requireMatrixErr(t, e.do(carol, http.MethodPost, reportPath(room, spam.EventID), nil, map[string]any{"score": 5}, nil),
			http.StatusBadRequest, "M_INVALID_PARAM")
		requireMatrixErr(t, e.do(carol, http.MethodPost, reportPath(room, spam.EventID), nil, map[string]any{"reason": 1}, nil),
			http.StatusBadRequest, "M_BAD_JSON")
		requireMatrixErr(t, e.do(carol, http.MethodPost, reportPath("nope", spam.EventID), nil, map[string]any{}, nil),
			http.StatusBadRequest, "M_INVALID_PARAM")

		// Room reports need no membership, but a reason and a known room.
		require.NoError(t, dave.ReportRoom(ctx, room, "awful room"))
		requireMatrixErr(t, e.do(dave, http.MethodPost, mautrix.ClientURLPath{"v3", "rooms", room, "report"}, nil, map[string]any{}, nil),
			http.StatusBadRequest, "M_MISSING_PARAM")
		requireMatrixErr(t, dave.ReportRoom(ctx, "!unknown:"+testServerName, "x"), http.StatusNotFound, "M_NOT_FOUND")

		// Admins list them, newest first.
		list := func(cli *mautrix.Client, path string, query map[string]string) (adminReportList, error) {
			var out adminReportList
			err := e.do(cli, http.MethodGet, mautrix.SynapseAdminURLPath{"v1", path}, query, nil, &out)
			return out, err
		}
		got, err := list(admin, "event_reports", nil)
		require.NoError(t, err)
		assert.EqualValues(t, 3, got.Total)
		assert.Nil(t, got.NextToken)
		require.Len(t, got.EventReports, 3)
		type brief struct {
			event, reporter, sender string
			reason                  *string
		}
		briefs := func(rs []adminEventReport) []brief {
			var out []brief
			for _, r := range rs {
				out = append(out, brief{r.EventID, r.UserID, r.Sender, r.Reason})
			}
			return out
		}
		assert.Equal(t, []brief{
			{rude.EventID.String(), carol.UserID.String(), bob.UserID.String(), nil},
			{rude.EventID.String(), mallory.UserID.String(), bob.UserID.String(), dirPtr("rude")},
			{spam.EventID.String(), carol.UserID.String(), mallory.UserID.String(), dirPtr("spam")},
		}, briefs(got.EventReports))
		first := got.EventReports[2]
		assert.Equal(t, room.String(), first.RoomID)
		assert.Equal(t, dirPtr("Town square"), first.Name)
		assert.Equal(t, dirPtr("#square:"+testServerName), first.CanonicalAlias)
		assert.Equal(t, dirPtr(int64(-100)), first.Score)
		assert.NotZero(t, first.ReceivedTS)
		assert.Empty(t, first.EventJSON, "the listing has no event_json")

		// Paging, direction and filters.
		page, err := list(admin, "event_reports", map[string]string{"limit": "2", "dir": "f"})
		require.NoError(t, err)
		assert.Equal(t, []brief{
			{spam.EventID.String(), carol.UserID.String(), mallory.UserID.String(), dirPtr("spam")},
			{rude.EventID.String(), mallory.UserID.String(), bob.UserID.String(), dirPtr("rude")},
		}, briefs(page.EventReports))
		require.NotNil(t, page.NextToken)
		page, err = list(admin, "event_reports", map[string]string{"limit": "2", "dir": "f", "from": strconv.FormatInt(*page.NextToken, 10)})
		require.NoError(t, err)
		assert.Equal(t, []brief{{rude.EventID.String(), carol.UserID.String(), bob.UserID.String(), nil}}, briefs(page.EventReports))
		assert.Nil(t, page.NextToken)
		page, err = list(admin, "event_reports", map[string]string{"user_id": mallory.UserID.String()})
		require.NoError(t, err)
		assert.EqualValues(t, 1, page.Total)
		page, err = list(admin, "event_reports", map[string]string{"event_sender_user_id": mallory.UserID.String()})
		require.NoError(t, err)
		assert.Equal(t, []brief{{spam.EventID.String(), carol.UserID.String(), mallory.UserID.String(), dirPtr("spam")}}, briefs(page.EventReports))
		page, err = list(admin, "event_reports", map[string]string{"room_id": other.String()})
		require.NoError(t, err)
		assert.Empty(t, page.EventReports)
		assert.EqualValues(t, 0, page.Total)

		// One report, with the event.
		var one adminEventReport
		require.NoError(t, e.do(admin, http.MethodGet, mautrix.SynapseAdminURLPath{"v1", "event_reports", first.ID}, nil, nil, &one))
		assert.Equal(t, spam.EventID.String(), one.EventID)
		var ev struct {
			Content map[string]any `json:"content"`
			Sender  string         `json:"sender"`
		}
		require.NoError(t, json.Unmarshal(one.EventJSON, &ev))
		assert.Equal(t, "buy now", ev.Content["body"])
		assert.Equal(t, mallory.UserID.String(), ev.Sender)

		// Room reports have their own listing.
		rooms, err := list(admin, "room_reports", nil)
		require.NoError(t, err)
		require.Len(t, rooms.RoomReports, 1)
		assert.Equal(t, room.String(), rooms.RoomReports[0].RoomID)
		assert.Equal(t, dave.UserID.String(), rooms.RoomReports[0].UserID)
		assert.Equal(t, dirPtr("awful room"), rooms.RoomReports[0].Reason)
		assert.Equal(t, dirPtr("Town square"), rooms.RoomReports[0].Name)

		// Deleting.
		require.NoError(t, e.do(admin, http.MethodDelete, mautrix.SynapseAdminURLPath{"v1", "event_reports", first.ID}, nil, nil, nil))
		got, err = list(admin, "event_reports", nil)
		require.NoError(t, err)
		assert.EqualValues(t, 2, got.Total)
		requireMatrixErr(t, e.do(admin, http.MethodGet, mautrix.SynapseAdminURLPath{"v1", "event_reports", first.ID}, nil, nil, nil),
			http.StatusNotFound, "M_NOT_FOUND")
		requireMatrixErr(t, e.do(admin, http.MethodDelete, mautrix.SynapseAdminURLPath{"v1", "event_reports", first.ID}, nil, nil, nil),
			http.StatusNotFound, "M_NOT_FOUND")
		requireMatrixErr(t, e.do(admin, http.MethodGet, mautrix.SynapseAdminURLPath{"v1", "event_reports", "abc"}, nil, nil, nil),
			http.StatusBadRequest, "M_INVALID_PARAM")

		// Admins only; bad parameters.
		_, err = list(bob, "event_reports", nil)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		_, err = list(bob, "room_reports", nil)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		_, err = list(admin, "event_reports", map[string]string{"limit": "-1"})
		requireMatrixErr(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		_, err = list(admin, "event_reports", map[string]string{"from": "x"})
		requireMatrixErr(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		_, err = list(admin, "event_reports", map[string]string{"dir": "sideways"})
		requireMatrixErr(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
	})
}
