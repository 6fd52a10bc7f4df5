package pushserver

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/concordchat/concord/storage/accountdata"
)

// ignoredUserListType is the account data type of a user's ignore list.
const ignoredUserListType = "m.ignored_user_list"

// AccountDataIgnores reads ignore lists from the account data repository
// (read-only): the inbox is a dependency of the sync API, so it cannot use
// the sync API's own reader.
type AccountDataIgnores struct {
	Store *accountdata.Store
}

var _ IgnoreLists = AccountDataIgnores{}

// IgnoredUsers returns the users in the user's m.ignored_user_list (never
// the user themselves); a malformed list ignores nobody.
func (a AccountDataIgnores) IgnoredUsers(ctx context.Context, userID string) (map[string]bool, error) {
	out := map[string]bool{}
	content, err := a.Store.Get(ctx, userID, "", ignoredUserListType)
	if errors.Is(err, accountdata.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	var list struct {
		IgnoredUsers map[string]json.RawMessage `json:"ignored_users"`
	}
	if json.Unmarshal(content, &list) != nil {
		return out, nil
	}
	for u := range list.IgnoredUsers {
		if u != userID {
			out[u] = true
		}
	}
	return out, nil
}
