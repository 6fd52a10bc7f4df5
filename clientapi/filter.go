package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/filters"
)

// maxFilterBytes bounds an uploaded filter.
const maxFilterBytes = 256 << 10

// syncFilter is the shape of a filter ("Filter" in the spec), used to check
// uploads. Absent fields are nil. Fields this struct does not know are
// allowed (clients send unstable extensions) and kept in the stored JSON.
type syncFilter struct {
	EventFields []string     `json:"event_fields"`
	EventFormat *string      `json:"event_format"`
	Presence    *eventFilter `json:"presence"`
	AccountData *eventFilter `json:"account_data"`
	Room        *roomFilter  `json:"room"`
}

type eventFilter struct {
	Limit      *int64   `json:"limit"`
	Types      []string `json:"types"`
	NotTypes   []string `json:"not_types"`
	Senders    []string `json:"senders"`
	NotSenders []string `json:"not_senders"`
}

type roomEventFilter struct {
	eventFilter
	Rooms                     []string `json:"rooms"`
	NotRooms                  []string `json:"not_rooms"`
	ContainsURL               *bool    `json:"contains_url"`
	LazyLoadMembers           *bool    `json:"lazy_load_members"`
	IncludeRedundantMembers   *bool    `json:"include_redundant_members"`
	UnreadThreadNotifications *bool    `json:"unread_thread_notifications"`
}

type roomFilter struct {
	Rooms        []string         `json:"rooms"`
	NotRooms     []string         `json:"not_rooms"`
	IncludeLeave *bool            `json:"include_leave"`
	Ephemeral    *roomEventFilter `json:"ephemeral"`
	State        *roomEventFilter `json:"state"`
	Timeline     *roomEventFilter `json:"timeline"`
	AccountData  *roomEventFilter `json:"account_data"`
}

// validate checks the values the JSON types cannot: enums, limits and IDs.
func (f *syncFilter) validate() error {
	if f.EventFormat != nil && *f.EventFormat != "client" && *f.EventFormat != "federation" {
		return matrixhttp.InvalidParam("event_format must be \"client\" or \"federation\"")
	}
	if err := f.Presence.validate("presence"); err != nil {
		return err
	}
	if err := f.AccountData.validate("account_data"); err != nil {
		return err
	}
	if r := f.Room; r != nil {
		if err := checkRoomIDs("room.rooms", r.Rooms); err != nil {
			return err
		}
		if err := checkRoomIDs("room.not_rooms", r.NotRooms); err != nil {
			return err
		}
		for _, ef := range []struct {
			name string
			f    *roomEventFilter
		}{{"room.ephemeral", r.Ephemeral}, {"room.state", r.State}, {"room.timeline", r.Timeline}, {"room.account_data", r.AccountData}} {
			if err := ef.f.validate(ef.name); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *eventFilter) validate(name string) error {
	if f == nil {
		return nil
	}
	if f.Limit != nil && *f.Limit < 1 {
		return matrixhttp.InvalidParam("%s.limit must be an integer greater than 0", name)
	}
	if err := checkUserIDs(name+".senders", f.Senders); err != nil {
		return err
	}
	return checkUserIDs(name+".not_senders", f.NotSenders)
}

func (f *roomEventFilter) validate(name string) error {
	if f == nil {
		return nil
	}
	if err := f.eventFilter.validate(name); err != nil {
		return err
	}
	if err := checkRoomIDs(name+".rooms", f.Rooms); err != nil {
		return err
	}
	return checkRoomIDs(name+".not_rooms", f.NotRooms)
}

func checkRoomIDs(field string, ids []string) error {
	for _, id := range ids {
		if !mxid.ValidRoomID(id, true) && !mxid.ValidRoomID(id, false) {
			return matrixhttp.InvalidParam("%s: %q is not a room ID", field, id)
		}
	}
	return nil
}

func checkUserIDs(field string, ids []string) error {
	for _, id := range ids {
		if _, err := mxid.ParseUserID(id); err != nil {
			return matrixhttp.InvalidParam("%s: %q is not a user ID", field, id)
		}
	}
	return nil
}

// filterOwner checks that the {userId} of a filter path is the caller.
func filterOwner(c *gin.Context, s Session) error {
	userID := c.Param("userId")
	if _, err := mxid.ParseUserID(userID); err != nil {
		return matrixhttp.InvalidParam("Invalid user ID")
	}
	if userID != s.UserID {
		return matrixhttp.Forbidden("Cannot use filters of other users")
	}
	return nil
}

type createFilterResponse struct {
	FilterID string `json:"filter_id"`
}

// createFilter answers POST /user/{userId}/filter. The filter is stored as
// canonical JSON, so uploading the same filter again returns the same ID.
func (a *API) createFilter(c *gin.Context) {
	s := mustSession(c)
	if err := filterOwner(c, s); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	var raw json.RawMessage
	if err := matrixhttp.DecodeJSON(c, &raw, maxFilterBytes, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	var f syncFilter
	if err := matrixhttp.DecodeBytes(raw, &f, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if err := f.validate(); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	canonical, err := cjson.Canonical(raw)
	if err != nil {
		matrixhttp.Fail(c, matrixhttp.BadJSON("Invalid JSON: %v", err))
		return
	}
	id, err := a.deps.Filters.Put(c.Request.Context(), s.Localpart, canonical)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, createFilterResponse{FilterID: id})
}

// getFilter answers GET /user/{userId}/filter/{filterId} with the filter
// as it was uploaded (in canonical form).
func (a *API) getFilter(c *gin.Context) {
	s := mustSession(c)
	if err := filterOwner(c, s); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	body, err := a.deps.Filters.Get(c.Request.Context(), s.Localpart, c.Param("filterId"))
	if errors.Is(err, filters.ErrNotFound) {
		matrixhttp.Fail(c, matrixhttp.NotFound("Unknown filter"))
		return
	}
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, json.RawMessage(body))
}

// storedFilter returns the JSON of the caller's filter filterID, for the
// filter parameter of /sync. An unknown ID is 400 M_INVALID_PARAM there, as
// in Synapse.
func (a *API) storedFilter(c *gin.Context, s Session, filterID string) ([]byte, error) {
	body, err := a.deps.Filters.Get(c.Request.Context(), s.Localpart, filterID)
	if errors.Is(err, filters.ErrNotFound) {
		return nil, matrixhttp.InvalidParam("Unknown filter %q", filterID)
	}
	return body, err
}
