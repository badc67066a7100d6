package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors that an *Error matches with errors.Is.
var (
	// ErrUnauthorized means the token or webhook is not valid (any more).
	ErrUnauthorized = errors.New("slack: credentials refused")
	// ErrForbidden means the token lacks a scope or the workspace forbids the action.
	ErrForbidden = errors.New("slack: permission denied")
	// ErrNotFound means the channel does not exist or the bot cannot see it.
	ErrNotFound = errors.New("slack: channel not found")
	// ErrRateLimited means Slack was still rate limiting after the allowed retries.
	ErrRateLimited = errors.New("slack: rate limited")
)

// Error is a request Slack refused. Code is Slack's error string, such as
// "channel_not_found" or "invalid_auth".
type Error struct {
	// Op is what the client was doing, such as "post message".
	Op string
	// StatusCode is the HTTP status; often 200, since the Web API reports
	// most failures in the body.
	StatusCode int
	// Code is Slack's error string.
	Code string
	// RetryAfter is the wait Slack asked for, when it sent Retry-After.
	RetryAfter time.Duration
}

// hints explain the errors an admin is most likely to meet.
var hints = map[string]string{
	"channel_not_found":      "the channel does not exist or the bot cannot see it",
	"not_in_channel":         "the bot is not a member of the channel; invite it first",
	"is_archived":            "the channel is archived",
	"invalid_auth":           "the token is not valid",
	"not_authed":             "no token was sent",
	"token_revoked":          "the token was revoked",
	"token_expired":          "the token has expired",
	"account_inactive":       "the token's user or bot was deactivated",
	"missing_scope":          "the token lacks the chat:write scope",
	"not_allowed_token_type": "this kind of token cannot call the method; use a bot token",
	"no_text":                "the message has no text",
	"invalid_blocks":         "the blocks are not valid Block Kit",
	"msg_too_long":           "the message is too long",
	"ratelimited":            "Slack is rate limiting this app",
	"invalid_payload":        "the webhook could not read the message",
	"invalid_token":          "the webhook URL is not valid",
	"no_service":             "the webhook was disabled or removed",
	"action_prohibited":      "the workspace does not allow this webhook to post",
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "slack: %s: Slack answered %s", e.Op, e.Code)
	if e.StatusCode != http.StatusOK {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if h, ok := hints[e.Code]; ok {
		fmt.Fprintf(&b, ": %s", h)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	return b.String()
}

// Is reports whether e is of the kind target names.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		switch e.Code {
		case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "invalid_token", "no_service":
			return true
		}
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		switch e.Code {
		case "missing_scope", "not_allowed_token_type", "action_prohibited", "restricted_action", "ekm_access_denied":
			return true
		}
		return e.StatusCode == http.StatusForbidden && e.Code != "invalid_token"
	case ErrNotFound:
		return e.Code == "channel_not_found" || e.Code == "not_in_channel"
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests || e.Code == "ratelimited"
	}
	return false
}

// statusError reads a non-2xx answer: the Web API's JSON envelope, or the
// short plain-text code a webhook answers with.
func statusError(op string, status int, body []byte, retryAfter time.Duration) *Error {
	e := &Error{Op: op, StatusCode: status, RetryAfter: retryAfter}
	var env answer
	if json.Unmarshal(body, &env) == nil && env.Error != "" {
		e.Code = env.Error
	} else if code := strings.TrimSpace(string(body)); code != "" && len(code) <= 64 && !strings.ContainsAny(code, " <\n") {
		e.Code = code
	}
	if e.Code == "" {
		e.Code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	}
	return e
}
