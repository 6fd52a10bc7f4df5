package clientapi

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
)

// viaField names the user who authorises a restricted join.
const viaField = "join_authorised_via_users_server"

// errUnableToAuthoriseJoin: the user meets the room's conditions but no
// local member may invite (Synapse's M_UNABLE_TO_AUTHORISE_JOIN).
var errUnableToAuthoriseJoin = &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_UNABLE_TO_AUTHORISE_JOIN",
	Message: "No user of this server in the room can authorise the join"}

// authoriseRestrictedJoin prepares a user's own join to a room whose join
// rule is restricted or knock_restricted ("Restricted rooms"). When the user
// is neither invited nor joined, they must be joined to one of the rooms of
// the rule's m.room_membership conditions; a local joined member with the
// power to invite is then named in join_authorised_via_users_server, as the
// authorisation rules require. The returned map is extra with that field
// added; other rooms get extra back unchanged (the rules decide).
func (a *API) authoriseRestrictedJoin(ctx context.Context, roomID, userID string, extra map[string]any) (map[string]any, error) {
	jr, err := a.deps.Rooms.StateEvent(ctx, roomID, event.StateKey{Type: event.TypeJoinRules})
	if errors.Is(err, roomserver.ErrRoomNotFound) {
		return extra, nil // the send reports it
	}
	if err != nil {
		return nil, err
	}
	if jr == nil {
		return extra, nil
	}
	if r := gjson.GetBytes(jr.Content(), "join_rule").Str; r != auth.JoinRestricted && r != auth.JoinKnockRestricted {
		return extra, nil
	}
	state, err := a.deps.Rooms.CurrentState(ctx, roomID)
	if err != nil {
		return nil, err
	}
	m := make(map[event.StateKey]*event.Event, len(state))
	for _, e := range state {
		m[e.Key()] = e
	}
	create := m[event.StateKey{Type: event.TypeCreate}]
	if create == nil {
		return extra, nil
	}
	v, provider := create.Version(), auth.FromMap(m)
	rule := auth.JoinRule(provider)
	if !(v.RestrictedJoins && rule == auth.JoinRestricted) && !(v.KnockRestricted && rule == auth.JoinKnockRestricted) {
		return extra, nil
	}
	switch auth.Membership(provider, userID) {
	case event.Join, event.Invite, event.Ban:
		return extra, nil // no conditions apply, or the rules refuse anyway
	}
	ok, err := a.meetsAllowConditions(ctx, m[event.StateKey{Type: event.TypeJoinRules}], userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, matrixhttp.Forbidden("You do not belong to any of the rooms or spaces required to join this room")
	}
	via := a.localInviter(provider, state)
	if via == "" {
		return nil, errUnableToAuthoriseJoin
	}
	out := maps.Clone(extra)
	if out == nil {
		out = map[string]any{}
	}
	out[viaField] = via
	return out, nil
}

// meetsAllowConditions reports whether the user is joined to a room named by
// an m.room_membership condition of the join rules (the only condition the
// spec defines; rooms the server does not know cannot be checked).
func (a *API) meetsAllowConditions(ctx context.Context, joinRules *event.Event, userID string) (bool, error) {
	if joinRules == nil {
		return false, nil
	}
	for _, cond := range gjson.GetBytes(joinRules.Content(), "allow").Array() {
		if cond.Get("type").Str != "m.room_membership" || !strings.HasPrefix(cond.Get("room_id").Str, "!") {
			continue
		}
		m, err := a.deps.Rooms.Membership(ctx, cond.Get("room_id").Str, userID)
		if errors.Is(err, roomserver.ErrRoomNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if m == event.Join {
			return true, nil
		}
	}
	return false, nil
}

// localInviter picks the joined local member with the highest power level
// that may invite (ties: the smallest user ID), or "".
func (a *API) localInviter(provider auth.StateProvider, state []*event.Event) string {
	pl := auth.RoomPowerLevels(provider)
	best, bestLevel := "", int64(0)
	for _, e := range state {
		if e.Type() != event.TypeMember || e.Membership() != event.Join || e.StateKey() == nil {
			continue
		}
		user := *e.StateKey()
		if mxid.Domain(user) != a.deps.Config.ServerName {
			continue
		}
		level := auth.UserPowerLevel(e.Version(), provider, user)
		if level < pl.Invite {
			continue
		}
		if best == "" || level > bestLevel || (level == bestLevel && user < best) {
			best, bestLevel = user, level
		}
	}
	return best
}
