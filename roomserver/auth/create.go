package auth

import (
	"slices"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// createInfo is what the rules read from an m.room.create event.
type createInfo struct {
	// creator is the user rule 5.3.1 lets join first and who has level 100
	// without power levels: content.creator (v1–v10), the sender (v11+).
	creator string
	// creators are the v12 room creators (sender and additional_creators); for
	// older versions just creator.
	creators []string
	// noFederate: content["m.federate"] is false.
	noFederate   bool
	senderDomain string
}

func createInfoOf(create *event.Event) *createInfo {
	return create.Memo(event.MemoCreate, func(e *event.Event) any {
		v := e.Version()
		content := gjson.ParseBytes(e.Content())
		ci := &createInfo{creator: e.Sender(), senderDomain: mxid.Domain(e.Sender())}
		if !v.CreatorIsSender {
			// A create event without a string creator is rejected by rule
			// create.creator; the sender stands in for it here.
			if c := content.Get("creator"); c.Type == gjson.String {
				ci.creator = c.Str
			}
		}
		ci.creators = []string{ci.creator}
		if v.PrivilegedCreators {
			content.Get("additional_creators").ForEach(func(_, u gjson.Result) bool {
				if u.Type == gjson.String && !slices.Contains(ci.creators, u.Str) {
					if _, err := mxid.ParseUserID(u.Str); err == nil {
						ci.creators = append(ci.creators, u.Str)
					}
				}
				return true
			})
		}
		ci.noFederate = content.Get("m\\.federate").Type == gjson.False
		return ci
	}).(*createInfo)
}

// Creators returns the room's creators as the create event defines them: the
// sender plus content.additional_creators in room version 12; the sender in
// v11; content.creator in v1–v10. The slice must not be modified.
func Creators(create *event.Event) []string {
	if create == nil {
		return nil
	}
	return createInfoOf(create).creators
}

// IsCreator reports whether user is one of Creators(create).
func IsCreator(create *event.Event, user string) bool {
	return create != nil && slices.Contains(createInfoOf(create).creators, user)
}

// checkCreate applies rule 1 to an m.room.create event.
func checkCreate(e *event.Event) error {
	v := e.Version()
	if len(e.PrevEvents()) > 0 {
		return reject(RuleCreatePrevEvents, "the create event has prev_events")
	}
	// v12 rule 1.2 (no room_id) is enforced by event parsing: a v12 create
	// event with a room_id does not parse.
	if !v.RoomIDFromCreate && mxid.Domain(e.RoomID()) != mxid.Domain(e.Sender()) {
		return reject(RuleCreateRoomID, "room ID %s is not on the sender's server %s", e.RoomID(), mxid.Domain(e.Sender()))
	}
	content := gjson.ParseBytes(e.Content())
	if rv := content.Get("room_version"); rv.Exists() && (rv.Type != gjson.String || !roomversion.Known(rv.Str)) {
		return reject(RuleCreateRoomVersion, "unknown room_version %s", rv.Raw)
	}
	if v.PrivilegedCreators {
		if err := checkAdditionalCreators(content.Get("additional_creators")); err != nil {
			return err
		}
	}
	if !v.CreatorIsSender && !content.Get("creator").Exists() {
		return reject(RuleCreateCreator, "the create event has no content.creator")
	}
	return nil
}

func checkAdditionalCreators(ac gjson.Result) error {
	if !ac.Exists() {
		return nil
	}
	if !ac.IsArray() {
		return reject(RuleCreateAdditional, "additional_creators is not an array")
	}
	var err error
	ac.ForEach(func(_, u gjson.Result) bool {
		if u.Type != gjson.String {
			err = reject(RuleCreateAdditional, "additional_creators has a non-string entry %s", u.Raw)
		} else if _, perr := mxid.ParseUserID(u.Str); perr != nil {
			err = reject(RuleCreateAdditional, "additional_creators has an invalid user ID %q", u.Str)
		}
		return err == nil
	})
	return err
}
