package auth_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// authRoom is a small room with the events auth_events lists are made of.
type authRoom struct {
	b                                  *builder
	create, join, pl, jr, bobJoin, tpi *event.Event
	other                              *event.Event // a state event of another room
}

func newAuthRoom(t *testing.T, v *roomversion.Version) *authRoom {
	b, create := newRoom(t, v, "@alice:a.test", nil)
	r := &authRoom{b: b, create: create}
	prev := []*event.Event{create}
	r.join = b.mustBuild(t, evSpec{Sender: "@alice:a.test", Type: event.TypeMember, StateKey: sp("@alice:a.test"), Content: map[string]any{"membership": "join"}, Prev: prev})
	r.pl = b.mustBuild(t, evSpec{Sender: "@alice:a.test", Type: event.TypePowerLevels, StateKey: sp(""), Content: map[string]any{}, Prev: prev})
	r.jr = b.mustBuild(t, evSpec{Sender: "@alice:a.test", Type: event.TypeJoinRules, StateKey: sp(""), Content: map[string]any{"join_rule": "public"}, Prev: prev})
	r.bobJoin = b.mustBuild(t, evSpec{Sender: "@bob:b.test", Type: event.TypeMember, StateKey: sp("@bob:b.test"), Content: map[string]any{"membership": "join"}, Prev: prev})
	r.tpi = b.mustBuild(t, evSpec{Sender: "@alice:a.test", Type: event.TypeThirdPartyInvite, StateKey: sp("tok"), Content: map[string]any{}, Prev: prev})
	otherID := "!other:a.test"
	if v.RoomIDFromCreate {
		otherID = "!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	}
	r.other = b.mustBuild(t, evSpec{Sender: "@alice:a.test", Type: event.TypePowerLevels, StateKey: sp(""), Content: map[string]any{}, Prev: prev, RoomID: otherID})
	return r
}

// withCreate prepends the create event where the version selects it.
func (r *authRoom) withCreate(events ...*event.Event) []*event.Event {
	if r.b.v.CreateInAuthEvents {
		return append([]*event.Event{r.create}, events...)
	}
	return events
}

func TestCheckAuthEvents(t *testing.T) {
	for _, v := range roomversion.All() {
		t.Run("v"+v.ID, func(t *testing.T) {
			r := newAuthRoom(t, v)
			msg := func(auth ...*event.Event) *event.Event {
				return r.b.mustBuild(t, evSpec{Sender: "@alice:a.test", Type: "m.room.message", Content: map[string]any{"body": "x"}, Prev: []*event.Event{r.pl}, Auth: auth})
			}
			rule := func(err error) string {
				var ae *auth.Error
				if errors.As(err, &ae) {
					return ae.Rule
				}
				if err == nil {
					return "allowed"
				}
				return err.Error()
			}
			check := func(e *event.Event, list []*event.Event, rejected ...string) error {
				return auth.CheckAuthEvents(e, list, func(id string) bool {
					for _, r := range rejected {
						if r == id {
							return true
						}
					}
					return false
				})
			}
			good := r.withCreate(r.pl, r.join)
			require.NoError(t, check(msg(good...), good))
			require.NoError(t, auth.CheckAuthEvents(msg(good...), append(good, r.jr), nil), "unnamed extras are ignored")
			require.NoError(t, auth.CheckAuthEvents(r.create, nil, nil), "rule 1 decides the create event")

			dup := r.withCreate(r.pl, r.join, r.join)
			require.Equal(t, auth.RuleAuthDuplicate, rule(check(msg(dup...), dup)))
			extra := r.withCreate(r.pl, r.join, r.jr)
			require.Equal(t, auth.RuleAuthSelection, rule(check(msg(extra...), extra)), "join rules are not selected for a message")
			other := r.withCreate(r.pl, r.bobJoin)
			require.Equal(t, auth.RuleAuthSelection, rule(check(msg(other...), other)), "another user's membership")
			require.Equal(t, auth.RuleAuthRejected, rule(check(msg(good...), good, r.pl.ID())))
			foreign := r.withCreate(r.other, r.join)
			require.Equal(t, auth.RuleAuthRoomID, rule(check(msg(foreign...), foreign)))
			e := msg(good...)
			err := check(e, good[1:])
			if v.CreateInAuthEvents {
				require.ErrorIs(t, err, auth.ErrMissingAuthEvent)
				require.False(t, errors.Is(err, auth.ErrRejected))
				noCreate := []*event.Event{r.pl, r.join}
				require.Equal(t, auth.RuleAuthNoCreate, rule(check(msg(noCreate...), noCreate)))
			} else {
				withCreate := []*event.Event{r.create, r.pl, r.join}
				require.Equal(t, auth.RuleAuthSelection, rule(check(msg(withCreate...), withCreate)), "v12 must not select the create event")
				require.Equal(t, auth.RuleRoomIDIsCreate, rule(check(msg(good...), good, r.create.ID())))
			}
			// A join selects join rules and the target; an invite with a
			// third-party invite selects the token's event.
			join := r.b.mustBuild(t, evSpec{Sender: "@carol:c.test", Type: event.TypeMember, StateKey: sp("@carol:c.test"),
				Content: map[string]any{"membership": "join"}, Prev: []*event.Event{r.pl}, Auth: r.withCreate(r.pl, r.jr)})
			require.NoError(t, check(join, r.withCreate(r.pl, r.jr)))
			invite := r.b.mustBuild(t, evSpec{Sender: "@alice:a.test", Type: event.TypeMember, StateKey: sp("@carol:c.test"),
				Content: map[string]any{"membership": "invite", "third_party_invite": map[string]any{"signed": map[string]any{"token": "tok"}}},
				Prev:    []*event.Event{r.pl}, Auth: r.withCreate(r.pl, r.join, r.jr, r.tpi)})
			require.NoError(t, check(invite, r.withCreate(r.pl, r.join, r.jr, r.tpi)))
			if v.RestrictedJoins {
				via := r.b.mustBuild(t, evSpec{Sender: "@carol:c.test", Type: event.TypeMember, StateKey: sp("@carol:c.test"),
					Content: map[string]any{"membership": "join", "join_authorised_via_users_server": "@bob:b.test"},
					Prev:    []*event.Event{r.pl}, Auth: r.withCreate(r.pl, r.jr, r.bobJoin)})
				require.NoError(t, check(via, r.withCreate(r.pl, r.jr, r.bobJoin)))
			}
		})
	}
}

func TestStateProviders(t *testing.T) {
	v := roomversion.MustGet("12")
	r := newAuthRoom(t, v)
	p := auth.FromAuthEvents([]*event.Event{r.pl, r.join})
	require.Nil(t, p(event.StateKey{Type: event.TypeCreate}))
	require.Equal(t, r.join, p(event.StateKey{Type: event.TypeMember, StateKey: "@alice:a.test"}))
	p = auth.FromAuthEventsWithCreate([]*event.Event{r.pl, r.join}, r.create)
	require.Equal(t, r.create, p(event.StateKey{Type: event.TypeCreate}))
	require.Equal(t, r.pl, p(event.StateKey{Type: event.TypePowerLevels}))
	require.Nil(t, p(event.StateKey{Type: event.TypeJoinRules}))

	// Helpers read the same state.
	require.Equal(t, "invite", auth.JoinRule(p), "no join rules event")
	require.Equal(t, "join", auth.Membership(p, "@alice:a.test"))
	require.Equal(t, "leave", auth.Membership(p, "@bob:b.test"))
	require.Equal(t, auth.Infinite, auth.UserPowerLevel(v, p, "@alice:a.test"))
	require.Equal(t, int64(0), auth.UserPowerLevel(v, p, "@bob:b.test"))
	require.Equal(t, []string{"@alice:a.test"}, auth.Creators(r.create))
	require.True(t, auth.IsCreator(r.create, "@alice:a.test"))
	msg := r.b.mustBuild(t, evSpec{Sender: "@alice:a.test", Type: "m.room.message", Content: map[string]any{}, Prev: []*event.Event{r.pl}})
	require.Equal(t, auth.Infinite, auth.SenderPowerLevel(msg, p))
}

func TestUserPowerLevelWithoutPowerLevels(t *testing.T) {
	for _, v := range roomversion.All() {
		b, create := newRoom(t, v, "@alice:a.test", nil)
		_ = b
		p := auth.FromAuthEventsWithCreate(nil, create)
		want := int64(100)
		if v.PrivilegedCreators {
			want = auth.Infinite
		}
		require.Equal(t, want, auth.UserPowerLevel(v, p, "@alice:a.test"), "v%s", v.ID)
		require.Equal(t, int64(0), auth.UserPowerLevel(v, p, "@bob:b.test"), "v%s", v.ID)
		require.Equal(t, int64(50), auth.RoomPowerLevels(p).StateDefault)
	}
	v12 := roomversion.MustGet("12")
	_, create := newRoom(t, v12, "@alice:a.test", map[string]any{"room_version": "12", "additional_creators": []string{"@bob:b.test", "@bob:b.test", "bad"}})
	require.Equal(t, []string{"@alice:a.test", "@bob:b.test"}, auth.Creators(create))
	v10 := roomversion.MustGet("10")
	_, create = newRoom(t, v10, "@alice:a.test", map[string]any{"creator": "@dave:a.test"})
	require.Equal(t, []string{"@dave:a.test"}, auth.Creators(create), "v1–v10: content.creator")
	require.Equal(t, int64(100), auth.UserPowerLevel(v10, auth.FromAuthEvents([]*event.Event{create}), "@dave:a.test"))
}

func TestPowerLevelsParsedOnce(t *testing.T) {
	v := roomversion.MustGet("9")
	r := newAuthRoom(t, v)
	a, errA := auth.PowerLevelsOf(r.pl)
	b, errB := auth.PowerLevelsOf(r.pl)
	require.NoError(t, errA)
	require.NoError(t, errB)
	require.Same(t, a, b)
}
