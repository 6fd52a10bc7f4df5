package syncapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/concordchat/concord/storage/accountdata"
)

// PutAccountData stores the user's account data of type typ (global when
// roomID is "") and wakes the user's /sync requests. It accepts every type,
// including the server-managed m.fully_read and m.push_rules, which the
// client API refuses from clients.
func (a *API) PutAccountData(ctx context.Context, userID, roomID, typ string, content json.RawMessage) error {
	if a.deps.AccountData == nil {
		return ErrNotConfigured
	}
	if err := a.init(ctx); err != nil {
		return err
	}
	pos := a.account.allocate()
	if err := a.deps.AccountData.Put(ctx, userID, roomID, typ, content, pos); err != nil {
		a.account.done(pos, nil)
		return err
	}
	a.account.done(pos, func() { a.deps.Notifier.wakeUser(userID) })
	return nil
}

// AccountData returns the content of the user's account data of type typ
// (global when roomID is ""), or ErrAccountDataNotFound.
func (a *API) AccountData(ctx context.Context, userID, roomID, typ string) (json.RawMessage, error) {
	if a.deps.AccountData == nil {
		return nil, ErrAccountDataNotFound
	}
	content, err := a.deps.AccountData.Get(ctx, userID, roomID, typ)
	if errors.Is(err, accountdata.ErrNotFound) {
		return nil, ErrAccountDataNotFound
	}
	return content, err
}

// IgnoredUsers returns the users in the user's m.ignored_user_list (never
// the user themselves).
func (a *API) IgnoredUsers(ctx context.Context, userID string) (map[string]bool, error) {
	content, err := a.AccountData(ctx, userID, "", TypeIgnoredUserList)
	if errors.Is(err, ErrAccountDataNotFound) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	var list struct {
		IgnoredUsers map[string]json.RawMessage `json:"ignored_users"`
	}
	out := map[string]bool{}
	if json.Unmarshal(content, &list) != nil {
		return out, nil // a malformed list ignores nobody
	}
	for u := range list.IgnoredUsers {
		if u != userID {
			out[u] = true
		}
	}
	return out, nil
}

// Tags returns the tags of a room (the m.tag room account data), tag name
// → tag object.
func (a *API) Tags(ctx context.Context, userID, roomID string) (map[string]json.RawMessage, error) {
	_, tags, err := a.tagContent(ctx, userID, roomID)
	return tags, err
}

// SetTag adds or replaces a tag of a room.
func (a *API) SetTag(ctx context.Context, userID, roomID, tag string, data json.RawMessage) error {
	return a.changeTags(ctx, userID, roomID, func(tags map[string]json.RawMessage) bool {
		tags[tag] = data
		return true
	})
}

// DeleteTag removes a tag of a room; removing a tag the room lacks is no
// change.
func (a *API) DeleteTag(ctx context.Context, userID, roomID, tag string) error {
	return a.changeTags(ctx, userID, roomID, func(tags map[string]json.RawMessage) bool {
		if _, ok := tags[tag]; !ok {
			return false
		}
		delete(tags, tag)
		return true
	})
}

// changeTags rewrites the m.tag content, keeping its other fields, when
// change reports a change.
func (a *API) changeTags(ctx context.Context, userID, roomID string, change func(map[string]json.RawMessage) bool) error {
	a.rmwMu.Lock()
	defer a.rmwMu.Unlock()
	content, tags, err := a.tagContent(ctx, userID, roomID)
	if err != nil {
		return err
	}
	if !change(tags) {
		return nil
	}
	raw, err := json.Marshal(tags)
	if err != nil {
		return err
	}
	content["tags"] = raw
	out, err := json.Marshal(content)
	if err != nil {
		return err
	}
	return a.PutAccountData(ctx, userID, roomID, TypeTag, out)
}

// tagContent reads m.tag as an object and its tags (both empty when unset
// or malformed).
func (a *API) tagContent(ctx context.Context, userID, roomID string) (map[string]json.RawMessage, map[string]json.RawMessage, error) {
	content := map[string]json.RawMessage{}
	tags := map[string]json.RawMessage{}
	raw, err := a.AccountData(ctx, userID, roomID, TypeTag)
	if errors.Is(err, ErrAccountDataNotFound) {
		return content, tags, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("syncapi: read tags: %w", err)
	}
	if json.Unmarshal(raw, &content) != nil || content == nil {
		content = map[string]json.RawMessage{}
	}
	if t, ok := content["tags"]; ok {
		if json.Unmarshal(t, &tags) != nil || tags == nil {
			tags = map[string]json.RawMessage{}
		}
	}
	return content, tags, nil
}
