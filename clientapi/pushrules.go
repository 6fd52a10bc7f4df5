package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/pushrules"
	"github.com/concordchat/concord/pushserver"
)

// pushRulesType is the account data type that carries a user's rules.
const pushRulesType = "m.push_rules"

// maxPushRuleBytes bounds a push rule request body.
const maxPushRuleBytes = 64 << 10

func init() {
	message := func(err error) string {
		msg := err.Error()
		for _, p := range []string{"pushrules: ", "pushserver: "} {
			msg = strings.ReplaceAll(msg, p, "")
		}
		return msg
	}
	matrixhttp.Register(
		matrixhttp.Mapping{Target: pushserver.ErrRuleNotFound, Make: func(error) *matrixhttp.Error {
			return matrixhttp.NotFound("The push rule was not found.")
		}},
		matrixhttp.Mapping{Target: pushserver.ErrServerDefaultRule, Make: func(err error) *matrixhttp.Error {
			return matrixhttp.Forbidden("%s", message(err))
		}},
		matrixhttp.Mapping{Target: pushserver.ErrRelativeRule, Make: func(err error) *matrixhttp.Error {
			return matrixhttp.InvalidParam("%s", message(err))
		}},
		matrixhttp.Mapping{Target: pushserver.ErrBadToken, Make: func(error) *matrixhttp.Error {
			return matrixhttp.InvalidParam("Invalid pagination token")
		}},
		matrixhttp.Mapping{Target: pushrules.ErrReservedRuleID, Make: func(err error) *matrixhttp.Error {
			return matrixhttp.InvalidParam("%s", message(err))
		}},
		matrixhttp.Mapping{Target: pushrules.ErrInvalidRule, Make: func(err error) *matrixhttp.Error {
			return matrixhttp.InvalidParam("%s", message(err))
		}},
		matrixhttp.Mapping{Target: pushrules.ErrMissingField, Make: func(err error) *matrixhttp.Error {
			return matrixhttp.MissingParam("%s", message(err))
		}},
		matrixhttp.Mapping{Target: pushrules.ErrBadJSON, Make: func(err error) *matrixhttp.Error {
			return matrixhttp.BadJSON("%s", message(err))
		}},
	)
}

// accountDataWriter stores account data and wakes the user's /sync (the
// sync API): a user's rules are also their m.push_rules account data.
type accountDataWriter interface {
	PutAccountData(ctx context.Context, userID, roomID, typ string, content json.RawMessage) error
}

// pushRulesResponse is the body of GET /pushrules/ and the content of the
// m.push_rules account data.
type pushRulesResponse struct {
	Global *pushrules.Ruleset `json:"global"`
}

type pushRuleEnabledResponse struct {
	Enabled bool `json:"enabled"`
}

type pushRuleActionsResponse struct {
	Actions []pushrules.Action `json:"actions"`
}

// getPushRules implements GET /pushrules/.
func (a *API) getPushRules(c *gin.Context) {
	rs, err := a.deps.PushRules.Ruleset(c.Request.Context(), mustSession(c).UserID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, pushRulesResponse{Global: rs})
}

// getGlobalPushRules implements GET /pushrules/global/.
func (a *API) getGlobalPushRules(c *gin.Context) {
	rs, err := a.deps.PushRules.Ruleset(c.Request.Context(), mustSession(c).UserID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, rs)
}

// pushRuleParams reads the :kind and :ruleId path parameters.
func pushRuleParams(c *gin.Context) (pushrules.Kind, string, bool) {
	kind, ok := pushrules.ParseKind(c.Param("kind"))
	if !ok {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Unknown push rule kind %q: one of override, content, room, sender, underride", c.Param("kind")))
		return "", "", false
	}
	ruleID := c.Param("ruleId")
	if ruleID == "" {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Empty push rule ID"))
		return "", "", false
	}
	return kind, ruleID, true
}

// getPushRule implements GET /pushrules/global/{kind}/{ruleId}.
func (a *API) getPushRule(c *gin.Context) {
	rule, ok := a.lookupPushRule(c)
	if ok {
		matrixhttp.Respond(c, http.StatusOK, rule)
	}
}

// getPushRuleEnabled implements GET .../{ruleId}/enabled.
func (a *API) getPushRuleEnabled(c *gin.Context) {
	rule, ok := a.lookupPushRule(c)
	if ok {
		matrixhttp.Respond(c, http.StatusOK, pushRuleEnabledResponse{Enabled: rule.Enabled})
	}
}

// getPushRuleActions implements GET .../{ruleId}/actions.
func (a *API) getPushRuleActions(c *gin.Context) {
	rule, ok := a.lookupPushRule(c)
	if ok {
		actions := rule.Actions
		if actions == nil {
			actions = []pushrules.Action{}
		}
		matrixhttp.Respond(c, http.StatusOK, pushRuleActionsResponse{Actions: actions})
	}
}

func (a *API) lookupPushRule(c *gin.Context) (pushrules.Rule, bool) {
	kind, ruleID, ok := pushRuleParams(c)
	if !ok {
		return pushrules.Rule{}, false
	}
	rule, err := a.deps.PushRules.Get(c.Request.Context(), mustSession(c).UserID, kind, ruleID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return pushrules.Rule{}, false
	}
	return rule, true
}

// readPushRuleBody reads a JSON object body with its fields raw.
func readPushRuleBody(c *gin.Context) (map[string]json.RawMessage, bool) {
	var body map[string]json.RawMessage
	if err := matrixhttp.DecodeJSON(c, &body, maxPushRuleBytes, false); err != nil {
		matrixhttp.Fail(c, err)
		return nil, false
	}
	return body, true
}

// putPushRule implements PUT /pushrules/global/{kind}/{ruleId}.
func (a *API) putPushRule(c *gin.Context) {
	kind, ruleID, ok := pushRuleParams(c)
	if !ok {
		return
	}
	if err := pushrules.CheckRuleID(kind, ruleID); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	body, ok := readPushRuleBody(c)
	if !ok {
		return
	}
	rule, err := pushrules.ParseRule(kind, ruleID, body)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	user := mustSession(c).UserID
	rs, err := a.deps.PushRules.Put(c.Request.Context(), user, rule, c.Query("before"), c.Query("after"))
	a.pushRulesChanged(c, user, rs, err)
}

// deletePushRule implements DELETE /pushrules/global/{kind}/{ruleId}.
func (a *API) deletePushRule(c *gin.Context) {
	kind, ruleID, ok := pushRuleParams(c)
	if !ok {
		return
	}
	user := mustSession(c).UserID
	rs, err := a.deps.PushRules.Delete(c.Request.Context(), user, kind, ruleID)
	a.pushRulesChanged(c, user, rs, err)
}

// putPushRuleEnabled implements PUT .../{ruleId}/enabled.
func (a *API) putPushRuleEnabled(c *gin.Context) {
	kind, ruleID, ok := pushRuleParams(c)
	if !ok {
		return
	}
	body, ok := readPushRuleBody(c)
	if !ok {
		return
	}
	raw, present := body["enabled"]
	if !present {
		matrixhttp.Fail(c, matrixhttp.MissingParam("enabled"))
		return
	}
	var enabled bool
	if json.Unmarshal(raw, &enabled) != nil {
		matrixhttp.Fail(c, matrixhttp.BadJSON("enabled must be a boolean"))
		return
	}
	user := mustSession(c).UserID
	rs, err := a.deps.PushRules.SetEnabled(c.Request.Context(), user, kind, ruleID, enabled)
	a.pushRulesChanged(c, user, rs, err)
}

// putPushRuleActions implements PUT .../{ruleId}/actions (also for
// server-default rules).
func (a *API) putPushRuleActions(c *gin.Context) {
	kind, ruleID, ok := pushRuleParams(c)
	if !ok {
		return
	}
	body, ok := readPushRuleBody(c)
	if !ok {
		return
	}
	actions, err := pushrules.ParseActions(body)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	user := mustSession(c).UserID
	rs, err := a.deps.PushRules.SetActions(c.Request.Context(), user, kind, ruleID, actions)
	a.pushRulesChanged(c, user, rs, err)
}

// pushRulesChanged answers a change of the user's rules: the error, or {}
// after storing the new rules as the m.push_rules account data, which the
// user's clients receive in /sync.
func (a *API) pushRulesChanged(c *gin.Context, user string, rs *pushrules.Ruleset, err error) {
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if a.deps.Sync != nil {
		var w accountDataWriter = a.deps.Sync
		content, err := json.Marshal(pushRulesResponse{Global: rs})
		if err == nil {
			err = w.PutAccountData(c.Request.Context(), user, "", pushRulesType, content)
		}
		if err != nil {
			matrixhttp.Fail(c, errors.Join(errors.New("clientapi: publish m.push_rules"), err))
			return
		}
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}
