package relations

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/concordchat/concord/storage/accountdata"
	relstore "github.com/concordchat/concord/storage/relations"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/syncapi"
)

// Errors returned to the HTTP edge.
var (
	// ErrNotFound: the event does not exist in the room or the user may not
	// see it.
	ErrNotFound = errors.New("relations: event not found")
	// ErrNotMember: the user was never in the room.
	ErrNotMember = errors.New("relations: not a member of the room")
)

// AccountData reads a user's account data; Get returns an error wrapping
// accountdata.ErrNotFound when there is none.
type AccountData interface {
	Get(ctx context.Context, userID, roomID, typ string) (json.RawMessage, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store     *relstore.Store
	RoomStore *rooms.Store
	// AccountData, when set, supplies m.ignored_user_list: events of ignored
	// users are left out of aggregations and listings.
	AccountData AccountData
	Logger      *zap.Logger
	Now         func() time.Time
}

// Service answers relation queries.
type Service struct {
	deps Deps
	log  *zap.Logger
}

var _ syncapi.EventAnnotator = (*Service)(nil)

// New makes the service.
func New(deps Deps) (*Service, error) {
	if deps.Store == nil || deps.RoomStore == nil {
		return nil, errors.New("relations: Deps.Store and Deps.RoomStore are required")
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Service{deps: deps, log: deps.Logger.Named("relations")}, nil
}

// viewer is what one request knows about the user it serves.
type viewer struct {
	user    string
	vis     *syncapi.Visibility
	rooms   map[string]rooms.Membership
	ignored map[string]bool
}

// viewer builds the visibility checker of a user, with their ignored users.
func (s *Service) viewer(ctx context.Context, userID string) (*viewer, error) {
	ms, err := s.deps.RoomStore.MembershipsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	current := make(map[string]string, len(ms))
	byRoom := make(map[string]rooms.Membership, len(ms))
	for _, m := range ms {
		current[m.RoomID] = m.Membership
		byRoom[m.RoomID] = m
	}
	ignored, err := s.ignored(ctx, userID)
	if err != nil {
		return nil, err
	}
	vis := syncapi.NewVisibility(s.deps.RoomStore, userID, current)
	vis.SetIgnored(ignored)
	return &viewer{user: userID, vis: vis, rooms: byRoom, ignored: ignored}, nil
}

// ignored reads the user's m.ignored_user_list.
func (s *Service) ignored(ctx context.Context, userID string) (map[string]bool, error) {
	out := map[string]bool{}
	if s.deps.AccountData == nil {
		return out, nil
	}
	raw, err := s.deps.AccountData.Get(ctx, userID, "", "m.ignored_user_list")
	if errors.Is(err, accountdata.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	gjson.GetBytes(raw, "ignored_users").ForEach(func(k, _ gjson.Result) bool {
		if k.Str != userID {
			out[k.Str] = true
		}
		return true
	})
	return out, nil
}

// ignoredList returns the ignored users as a list.
func (v *viewer) ignoredList() []string {
	out := make([]string, 0, len(v.ignored))
	for u := range v.ignored {
		out = append(out, u)
	}
	return out
}

// visible loads events by NID and keeps those the viewer may see, in the
// order of nids.
func (s *Service) visible(ctx context.Context, v *viewer, nids []int64) ([]rooms.StoredEvent, error) {
	if len(nids) == 0 {
		return nil, nil
	}
	evs, err := s.deps.RoomStore.EventsByNID(ctx, nids)
	if err != nil {
		return nil, err
	}
	byNID := make(map[int64]rooms.StoredEvent, len(evs))
	roomIDs := map[int64]string{}
	for _, se := range evs {
		byNID[se.NID] = se
		roomIDs[se.RoomNID] = se.Event.RoomID()
	}
	out := make([]rooms.StoredEvent, 0, len(nids))
	for _, nid := range nids {
		se, ok := byNID[nid]
		if !ok || se.Rejected || se.Outlier {
			continue
		}
		ok, err := v.vis.Visible(ctx, roomIDs[se.RoomNID], se)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, se)
		}
	}
	return out, nil
}
