package syncapi

import "encoding/json"

// Event types of the streams besides room events.
const (
	TypeTyping          = "m.typing"
	TypeReceipt         = "m.receipt"
	TypePresence        = "m.presence"
	TypeTag             = "m.tag"
	TypeFullyRead       = "m.fully_read"
	TypeIgnoredUserList = "m.ignored_user_list"
	ReceiptRead         = "m.read"
	ReceiptReadPrivate  = "m.read.private"
	ReceiptFullyRead    = "m.fully_read" // accepted by /receipt; stored as the read marker
	ThreadMain          = "main"
)

// AccountDataEvent is an account data entry as /sync sends it.
type AccountDataEvent struct {
	Type    string          `json:"type"`
	Content json.RawMessage `json:"content"`
}

// TypingEvent is the m.typing ephemeral event: who is typing now.
type TypingEvent struct {
	Type    string `json:"type"`
	Content struct {
		UserIDs []string `json:"user_ids"`
	} `json:"content"`
}

// ReceiptEvent is the m.receipt ephemeral event: event ID → receipt type →
// user ID → receipt.
type ReceiptEvent struct {
	Type    string                                       `json:"type"`
	Content map[string]map[string]map[string]ReceiptInfo `json:"content"`
}

// ReceiptInfo is one user's receipt of an event.
type ReceiptInfo struct {
	TS       int64  `json:"ts"`
	ThreadID string `json:"thread_id,omitempty"`
}

// PresenceEvent is an m.presence event.
type PresenceEvent struct {
	Type    string          `json:"type"`
	Sender  string          `json:"sender"`
	Content PresenceContent `json:"content"`
}

// PresenceContent is a user's presence as clients see it, in /sync and in
// GET /presence/{userId}/status.
type PresenceContent struct {
	Presence        string  `json:"presence"`
	LastActiveAgo   *int64  `json:"last_active_ago,omitempty"`
	CurrentlyActive *bool   `json:"currently_active,omitempty"`
	StatusMsg       *string `json:"status_msg,omitempty"`
}
