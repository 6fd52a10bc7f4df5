package syncapi

import (
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
)

// observe is told of every committed room event: events sent by local users
// are activity, and a user leaving a room stops typing there.
func (a *API) observe(outs []roomserver.Output) {
	for _, o := range outs {
		e := o.Event
		if o.Duplicate {
			continue
		}
		if e.Type() == event.TypeMember && e.StateKey() != nil && e.Membership() != event.Join {
			a.typing.set(o.RoomID, *e.StateKey(), false, 0)
		}
		if a.presence.enabled() && a.isLocal(e.Sender()) {
			a.presence.active(e.Sender())
		}
	}
}

// isLocal reports whether user belongs to this server.
func (a *API) isLocal(user string) bool {
	if a.deps.ServerName == "" {
		return true
	}
	u, err := mxid.ParseUserID(user)
	return err == nil && u.Domain == a.deps.ServerName
}
