package auth_test

import (
	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// diffCase is one case where Concord and gomatrixserverlib disagree.
type diffCase struct {
	v            *roomversion.Version
	e            *event.Event
	state        diffState
	create       *event.Event
	mine, theirs error
}

// divergence is a known disagreement of gomatrixserverlib with the spec: a
// precise predicate over the case, and the spec text Concord follows. Each
// has a regression test of the same name in regression_test.go.
type divergence struct {
	name string
	spec string
	// applies reports whether the case is one where the two must differ.
	applies func(c *diffCase) bool
}

// explain returns the name of the divergence that accounts for the case,
// or "".
func (c *diffCase) explain() string {
	for _, d := range divergences {
		if d.applies(c) {
			return d.name
		}
	}
	return ""
}

func (c *diffCase) content() gjson.Result { return gjson.ParseBytes(c.e.Content()) }

func (c *diffCase) provider() auth.StateProvider { return auth.FromMap(c.state) }

func (c *diffCase) membership(user string) string { return auth.Membership(c.provider(), user) }

func (c *diffCase) level(user string) int64 { return auth.UserPowerLevel(c.v, c.provider(), user) }

func (c *diffCase) isMember(membership string) bool {
	return c.e.Type() == event.TypeMember && c.e.StateKey() != nil && c.e.Membership() == membership
}

func (c *diffCase) self() bool { return c.e.StateKey() != nil && *c.e.StateKey() == c.e.Sender() }

func (c *diffCase) target() string { return *c.e.StateKey() }

// firstJoin: a join whose only prev event is the create event.
func (c *diffCase) firstJoin() bool {
	prev := c.e.PrevEvents()
	return c.isMember(event.Join) && len(prev) == 1 && prev[0] == c.create.ID()
}

func (c *diffCase) rejectedBy(rule string) bool {
	ae, ok := c.mine.(*auth.Error)
	return ok && ae.Rule == rule
}
