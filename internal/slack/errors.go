package slack

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
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
// "channel_not_found" or "invalid_auth"; StatusCode is often 200, since the
// Web API reports most failures in the body; Message explains the codes an
// admin is most likely to meet.
type Error = vendorhttp.Error

// hints explain the errors an admin is most likely to meet.
var hints = map[string]string{ //nolint:gosec // explanations of error codes, not credentials
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

// vendor names Slack in errors. Slack reports most failures with status
// 200 and a code, which names the kind; a 404 alone is not a missing
// channel.
var vendor = vendorhttp.Vendor{Name: "slack", Service: "Slack",
	Unauthorized: ErrUnauthorized, Forbidden: ErrForbidden, RateLimited: ErrRateLimited,
	Codes: map[string]error{
		"invalid_auth": ErrUnauthorized, "not_authed": ErrUnauthorized, "token_revoked": ErrUnauthorized,
		"token_expired": ErrUnauthorized, "account_inactive": ErrUnauthorized, "invalid_token": ErrUnauthorized, "no_service": ErrUnauthorized,
		"missing_scope": ErrForbidden, "not_allowed_token_type": ErrForbidden, "action_prohibited": ErrForbidden,
		"restricted_action": ErrForbidden, "ekm_access_denied": ErrForbidden,
		"channel_not_found": ErrNotFound, "not_in_channel": ErrNotFound,
		"ratelimited": ErrRateLimited,
	}}

// newError builds an *Error for Slack's code, explained by its hint.
func newError(op string, status int, code string, retryAfter time.Duration) *Error {
	return vendor.Error(op, status, code, hints[code], retryAfter)
}

// statusError reads a non-2xx answer: the Web API's JSON envelope, or the
// short plain-text code a webhook answers with.
func statusError(op string, status int, body []byte, retryAfter time.Duration) *Error {
	var code string
	var env answer
	if json.Unmarshal(body, &env) == nil && env.Error != "" {
		code = env.Error
	} else if text := strings.TrimSpace(string(body)); text != "" && len(text) <= 64 && !strings.ContainsAny(text, " <\n") {
		code = text
	}
	if code == "" {
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	}
	return newError(op, status, code, retryAfter)
}
