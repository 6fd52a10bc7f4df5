package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

type user struct {
	id    string
	token string
	room  string
}

var txnCounter atomic.Int64

// call does one JSON request and decodes the answer into out.
func (s *server) call(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// registerUsers makes n users, each with a private room of their own.
func registerUsers(ctx context.Context, s *server, n int) ([]*user, error) {
	users := make([]*user, n)
	for i := range users {
		var session struct {
			Session string `json:"session"`
		}
		name := fmt.Sprintf("load%d", i)
		_ = s.call(ctx, http.MethodPost, "/_matrix/client/v3/register", "", map[string]any{"username": name, "password": "pw"}, &session)
		var reg struct {
			UserID      string `json:"user_id"`
			AccessToken string `json:"access_token"`
		}
		err := s.call(ctx, http.MethodPost, "/_matrix/client/v3/register", "", map[string]any{"username": name, "password": "pw",
			"auth": map[string]any{"type": "m.login.dummy", "session": session.Session}}, &reg)
		if err != nil {
			return nil, fmt.Errorf("register %s: %w", name, err)
		}
		var room struct {
			RoomID string `json:"room_id"`
		}
		if err := s.call(ctx, http.MethodPost, "/_matrix/client/v3/createRoom", reg.AccessToken,
			map[string]any{"preset": "public_chat"}, &room); err != nil {
			return nil, err
		}
		users[i] = &user{id: reg.UserID, token: reg.AccessToken, room: room.RoomID}
	}
	return users, nil
}

func (s *server) send(ctx context.Context, u *user, room, body string) (string, error) {
	var out struct {
		EventID string `json:"event_id"`
	}
	path := fmt.Sprintf("/_matrix/client/v3/rooms/%s/send/m.room.message/t%d", url.PathEscape(room), txnCounter.Add(1))
	err := s.call(ctx, http.MethodPut, path, u.token, map[string]any{"msgtype": "m.text", "body": body}, &out)
	return out.EventID, err
}

func sequentialSends(ctx context.Context, s *server, u *user, n int) (float64, error) {
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := s.send(ctx, u, u.room, fmt.Sprint("seq ", i)); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func concurrentSends(ctx context.Context, s *server, users []*user, per int) (float64, error) {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(users))
	for _, u := range users {
		wg.Add(1)
		go func(u *user) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if _, err := s.send(ctx, u, u.room, fmt.Sprint("conc ", i)); err != nil {
					errs <- err
					return
				}
			}
		}(u)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(len(users)*per) / time.Since(start).Seconds(), nil
}

type percentiles struct{ p50, p95, p99 float64 }

// syncLatency: b long-polls /sync in a; a sends; the time from the send
// returning to b's sync delivering that event is one sample.
func syncLatency(ctx context.Context, s *server, a, b *user, runs int) (percentiles, error) {
	if err := s.call(ctx, http.MethodPost, "/_matrix/client/v3/rooms/"+url.PathEscape(a.room)+"/join", b.token, map[string]any{}, nil); err != nil {
		return percentiles{}, err
	}
	type syncResp struct {
		NextBatch string `json:"next_batch"`
		Rooms     struct {
			Join map[string]struct {
				Timeline struct {
					Events []struct {
						EventID string `json:"event_id"`
					} `json:"events"`
				} `json:"timeline"`
			} `json:"join"`
		} `json:"rooms"`
	}
	filter := url.QueryEscape(`{"room":{"timeline":{"limit":50}}}`)
	var first syncResp
	if err := s.call(ctx, http.MethodGet, "/_matrix/client/v3/sync?filter="+filter, b.token, nil, &first); err != nil {
		return percentiles{}, err
	}
	since := first.NextBatch
	samples := make([]float64, 0, runs)
	for i := 0; i < runs; i++ {
		arrived := make(chan time.Time, 1)
		sentID := make(chan string, 1)
		go func(since string) {
			var want string
			for {
				var r syncResp
				if err := s.call(ctx, http.MethodGet, "/_matrix/client/v3/sync?timeout=10000&filter="+filter+"&since="+url.QueryEscape(since), b.token, nil, &r); err != nil {
					close(arrived)
					return
				}
				at := time.Now()
				since = r.NextBatch
				if want == "" {
					want = <-sentID
				}
				for _, e := range r.Rooms.Join[a.room].Timeline.Events {
					if e.EventID == want {
						arrived <- at
						return
					}
				}
			}
		}(since)
		time.Sleep(2 * time.Millisecond) // let the sync start waiting
		id, err := s.send(ctx, a, a.room, fmt.Sprint("ping ", i))
		if err != nil {
			return percentiles{}, err
		}
		sentAt := time.Now()
		sentID <- id
		at, ok := <-arrived
		if !ok {
			return percentiles{}, fmt.Errorf("sync failed")
		}
		samples = append(samples, float64(max(at.Sub(sentAt), 0))/float64(time.Millisecond))
		var r syncResp
		if err := s.call(ctx, http.MethodGet, "/_matrix/client/v3/sync?filter="+filter+"&since="+url.QueryEscape(since), b.token, nil, &r); err == nil {
			since = r.NextBatch
		}
	}
	sort.Float64s(samples)
	pick := func(q float64) float64 { return samples[min(len(samples)-1, int(q*float64(len(samples))))] }
	return percentiles{p50: pick(0.50), p95: pick(0.95), p99: pick(0.99)}, nil
}
