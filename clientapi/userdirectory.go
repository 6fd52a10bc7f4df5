package clientapi

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/directory"
)

// User directory limits: the default and largest page (Synapse clamps to
// 50), and how many candidates are read to rank.
const (
	userDirectoryDefaultLimit = 10
	userDirectoryMaxLimit     = 50
	userDirectoryCandidates   = 500
)

type userDirectoryReq struct {
	SearchTerm *string `json:"search_term"`
	Limit      *int64  `json:"limit"`
}

type userDirectoryUser struct {
	UserID      string `json:"user_id"`
	DisplayName string `json:"display_name,omitempty"`
	AvatarURL   string `json:"avatar_url,omitempty"`
}

type userDirectoryResp struct {
	Results []userDirectoryUser `json:"results"`
	Limited bool                `json:"limited"`
}

// searchUserDirectory implements POST /user_directory/search: users who share
// a room with the caller, and users in rooms with a public join rule or world
// readable history, whose user ID or display name has a word starting with
// each search word (case-insensitively). Deactivated users and the caller are
// never found. Results: users sharing a room first, then better matches
// (whole words before prefixes), users with a display name and an avatar,
// then by user ID.
func (a *API) searchUserDirectory(c *gin.Context) {
	var req userDirectoryReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.SearchTerm == nil {
		matrixhttp.Fail(c, matrixhttp.MissingParam("search_term is required"))
		return
	}
	limit := int64(userDirectoryDefaultLimit)
	if req.Limit != nil {
		if *req.Limit < 0 {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("limit must not be negative"))
			return
		}
		limit = min(*req.Limit, userDirectoryMaxLimit)
	}
	resp := userDirectoryResp{Results: []userDirectoryUser{}}
	words := searchWords(*req.SearchTerm)
	if len(words) == 0 {
		matrixhttp.Respond(c, http.StatusOK, resp)
		return
	}
	ctx := c.Request.Context()
	s := mustSession(c)
	cands, err := a.deps.Directory.SearchUsers(ctx, directory.UserSearch{Searcher: s.UserID, Words: words, Limit: userDirectoryCandidates})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	// Rank on the join events' profiles (kept in step with the global
	// profile), then check the accounts of the best only.
	type hit struct {
		cand  directory.UserCandidate
		score int
	}
	var hits []hit
	for _, cand := range cands {
		if score := matchScore(words, cand.UserID, cand.DisplayName); score > 0 {
			hits = append(hits, hit{cand: cand, score: score})
		}
	}
	slices.SortFunc(hits, func(x, y hit) int {
		if x.cand.SharesRoom != y.cand.SharesRoom {
			return boolFirst(x.cand.SharesRoom)
		}
		if x.score != y.score {
			return y.score - x.score
		}
		if hasX, hasY := x.cand.DisplayName != "", y.cand.DisplayName != ""; hasX != hasY {
			return boolFirst(hasX)
		}
		if hasX, hasY := x.cand.AvatarURL != "", y.cand.AvatarURL != ""; hasX != hasY {
			return boolFirst(hasX)
		}
		return cmp.Compare(x.cand.UserID, y.cand.UserID)
	})
	resp.Limited = len(cands) == userDirectoryCandidates
	for _, h := range hits {
		u, ok, err := a.directoryUser(ctx, h.cand)
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
		if !ok {
			continue
		}
		if int64(len(resp.Results)) == limit {
			resp.Limited = true
			break
		}
		resp.Results = append(resp.Results, u)
	}
	matrixhttp.Respond(c, http.StatusOK, resp)
}

// directoryUser renders a candidate: local users with their global profile,
// and not at all (false) when deactivated or gone.
func (a *API) directoryUser(ctx context.Context, cand directory.UserCandidate) (userDirectoryUser, bool, error) {
	u := userDirectoryUser{UserID: cand.UserID, DisplayName: cand.DisplayName, AvatarURL: cand.AvatarURL}
	id, err := mxid.ParseUserID(cand.UserID)
	if err != nil || id.Domain != a.deps.Config.ServerName {
		return u, true, nil
	}
	user, err := a.deps.Accounts.GetUser(ctx, id.Localpart)
	if errors.Is(err, accounts.ErrNotFound) || (err == nil && user.Deactivated) {
		return u, false, nil
	}
	if err != nil {
		return u, false, err
	}
	p, err := a.deps.Accounts.GetProfile(ctx, id.Localpart)
	if err != nil && !errors.Is(err, accounts.ErrNotFound) {
		return u, false, err
	}
	if err == nil {
		u.DisplayName, u.AvatarURL = p.DisplayName, p.AvatarURL
	}
	return u, true, nil
}

// boolFirst orders true before false for a pair that differs.
func boolFirst(x bool) int {
	if x {
		return -1
	}
	return 1
}

// searchWords splits a search term into lowercase words of letters and digits.
func searchWords(term string) []string {
	return strings.FieldsFunc(strings.ToLower(term), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// matchScore is 0 unless every word starts a word of the user ID or display
// name; then 2 per word matching a whole word and 1 per prefix.
func matchScore(words []string, userID, displayName string) int {
	tokens := append(searchWords(userID), searchWords(displayName)...)
	score := 0
	for _, w := range words {
		best := 0
		for _, t := range tokens {
			if t == w {
				best = 2
				break
			}
			if strings.HasPrefix(t, w) {
				best = 1
			}
		}
		if best == 0 {
			return 0
		}
		score += best
	}
	return score
}
