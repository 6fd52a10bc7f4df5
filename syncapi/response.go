package syncapi

// Response is the body of GET /sync.
type Response struct {
	NextBatch   string         `json:"next_batch"`
	Rooms       Rooms          `json:"rooms"`
	AccountData EventList      `json:"account_data"`
	Presence    EventList      `json:"presence"`
	ToDevice    EventList      `json:"to_device"`
	DeviceLists DeviceLists    `json:"device_lists"`
	OTKCounts   map[string]int `json:"device_one_time_keys_count"`
}

// Rooms are the rooms sections of a sync response.
type Rooms struct {
	Join   map[string]*JoinedRoom  `json:"join"`
	Invite map[string]*InvitedRoom `json:"invite"`
	Leave  map[string]*LeftRoom    `json:"leave"`
	Knock  map[string]*KnockedRoom `json:"knock"`
}

// EventList is {"events": [...]}.
type EventList struct {
	Events []any `json:"events"`
}

// DeviceLists reports users whose devices changed.
type DeviceLists struct {
	Changed []string `json:"changed,omitempty"`
	Left    []string `json:"left,omitempty"`
}

// Timeline is a room's timeline section.
type Timeline struct {
	Events    []ClientEvent `json:"events"`
	Limited   bool          `json:"limited"`
	PrevBatch string        `json:"prev_batch,omitempty"`
}

// StateSection is a room's state section.
type StateSection struct {
	Events []ClientEvent `json:"events"`
}

// Summary is a joined room's summary.
type Summary struct {
	Heroes       []string `json:"m.heroes,omitempty"`
	JoinedCount  *int     `json:"m.joined_member_count,omitempty"`
	InvitedCount *int     `json:"m.invited_member_count,omitempty"`
}

// JoinedRoom is one entry of rooms.join.
type JoinedRoom struct {
	Timeline            Timeline       `json:"timeline"`
	State               StateSection   `json:"state"`
	AccountData         EventList      `json:"account_data"`
	Ephemeral           EventList      `json:"ephemeral"`
	Summary             Summary        `json:"summary"`
	UnreadNotifications map[string]int `json:"unread_notifications"`
	// UnreadThreadNotifications: thread root → counts, for filters with
	// room.timeline.unread_thread_notifications.
	UnreadThreadNotifications map[string]map[string]int `json:"unread_thread_notifications,omitempty"`
}

// InvitedRoom is one entry of rooms.invite (and rooms.knock).
type InvitedRoom struct {
	InviteState struct {
		Events []StrippedEvent `json:"events"`
	} `json:"invite_state"`
}

// KnockedRoom is one entry of rooms.knock: the stripped state the knocker
// may see, under knock_state.
type KnockedRoom struct {
	KnockState struct {
		Events []StrippedEvent `json:"events"`
	} `json:"knock_state"`
}

// knocked turns the stripped state built for an invite into a knock entry.
func knocked(ir *InvitedRoom) *KnockedRoom {
	kr := &KnockedRoom{}
	kr.KnockState.Events = ir.InviteState.Events
	return kr
}

// LeftRoom is one entry of rooms.leave.
type LeftRoom struct {
	Timeline    Timeline     `json:"timeline"`
	State       StateSection `json:"state"`
	AccountData EventList    `json:"account_data"`
}

func newResponse() *Response {
	return &Response{
		Rooms: Rooms{Join: map[string]*JoinedRoom{}, Invite: map[string]*InvitedRoom{},
			Leave: map[string]*LeftRoom{}, Knock: map[string]*KnockedRoom{}},
		AccountData: EventList{Events: []any{}}, Presence: EventList{Events: []any{}},
		ToDevice: EventList{Events: []any{}}, OTKCounts: map[string]int{},
	}
}

// empty reports whether the response carries nothing for the client.
func (r *Response) empty() bool {
	return len(r.Rooms.Join) == 0 && len(r.Rooms.Invite) == 0 && len(r.Rooms.Leave) == 0 &&
		len(r.Rooms.Knock) == 0 && len(r.AccountData.Events) == 0 && len(r.Presence.Events) == 0 &&
		len(r.ToDevice.Events) == 0
}
