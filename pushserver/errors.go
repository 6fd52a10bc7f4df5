package pushserver

import "errors"

var (
	// ErrRuleNotFound: the user has no rule of that kind and ID.
	ErrRuleNotFound = errors.New("pushserver: push rule not found")
	// ErrServerDefaultRule: server-default rules cannot be deleted (their
	// enabled state and actions can be changed).
	ErrServerDefaultRule = errors.New("pushserver: server-default rules cannot be deleted")
	// ErrRelativeRule: the rule named by before or after does not exist, or
	// is a server-default rule.
	ErrRelativeRule = errors.New("pushserver: before/after rule not found")
	// ErrBadToken: a /notifications from token this server did not make.
	ErrBadToken = errors.New("pushserver: invalid pagination token")
)
