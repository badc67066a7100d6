// Package slack posts messages to Slack: through the Web API's
// chat.postMessage with a bot token, or through an incoming webhook URL. It
// also checks a bot token with auth.test, which is what "Test connection"
// runs.
//
// Slack answers most Web API failures with HTTP 200 and {"ok": false,
// "error": "..."}, so the client reads "ok" on every answer. It honours 429
// and Retry-After and retries 5xx with a bounded backoff.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// DefaultBaseURL is the Web API's base URL.
const DefaultBaseURL = "https://slack.com/api"

// Config says how to reach the Web API. Zero values mean the default named
// on each field.
type Config struct {
	// Token is a bot token (xoxb-…). Required. It is sent only in the
	// Authorization header and never appears in errors.
	Token string
	// BaseURL is the Web API's base URL. Default DefaultBaseURL.
	BaseURL string
	// HTTPClient sends every request. Required: callers pass Vigil's
	// SSRF-guarded client.
	HTTPClient *http.Client

	// Retry says how often and how long to wait before retrying a 429 or
	// a 5xx; a longer Retry-After than its MaxWait fails the call instead
	// of stalling a flow. Zero values mean vendorhttp's defaults.
	Retry vendorhttp.Retry
}

// Client calls the Web API with one bot token. It is safe for concurrent use.
type Client struct {
	token string
	base  string
	api   *vendorhttp.Client
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if err := vendorhttp.Missing("slack", "connection", vendorhttp.Need("bot token", cfg.Token != ""),
		vendorhttp.Need("HTTP client", cfg.HTTPClient != nil)); err != nil {
		return nil, err
	}
	if err := checkURL("API base URL", cfg.BaseURL); err != nil {
		return nil, err
	}
	return &Client{token: cfg.Token, base: strings.TrimRight(cfg.BaseURL, "/"), api: newTransport(cfg.HTTPClient, cfg.Retry)}, nil
}

// Message is what to post. Text is required by Slack for notifications and
// accessibility even when Blocks carry the layout.
type Message struct {
	// Channel is a channel id (C…) or name (#alerts). Ignored by webhooks,
	// which always post to the channel they were made for.
	Channel string `json:"channel,omitempty"`
	// Text is the message, or its fallback when Blocks are set.
	Text string `json:"text,omitempty"`
	// Blocks is a Block Kit array, passed through as given.
	Blocks json.RawMessage `json:"blocks,omitempty"`
}

// check refuses a message Slack would refuse whatever the channel: one
// with neither text nor blocks, or with blocks that are not JSON.
func (m Message) check(op string) error {
	if m.Text == "" && len(m.Blocks) == 0 {
		return fmt.Errorf("slack: %s: the message has neither text nor blocks", op)
	}
	if len(m.Blocks) > 0 && !json.Valid(m.Blocks) {
		return fmt.Errorf("slack: %s: the blocks are not valid JSON", op)
	}
	return nil
}

// Posted identifies a posted message.
type Posted struct {
	// Channel is the id of the channel the message landed in.
	Channel string `json:"channel"`
	// TS is the message's timestamp, Slack's id for it within the channel.
	TS string `json:"ts"`
}

// PostMessage posts m with chat.postMessage.
func (c *Client) PostMessage(ctx context.Context, m Message) (Posted, error) {
	if m.Channel == "" {
		return Posted{}, errors.New("slack: post message: the channel is empty")
	}
	if err := m.check("post message"); err != nil {
		return Posted{}, err
	}
	var out struct {
		answer
		Posted
	}
	err := c.call(ctx, "post message", "chat.postMessage", m, &out)
	return out.Posted, err
}

// Identity is who a token belongs to, from auth.test.
type Identity struct {
	URL    string `json:"url"`
	Team   string `json:"team"`
	User   string `json:"user"`
	TeamID string `json:"team_id"`
	UserID string `json:"user_id"`
	BotID  string `json:"bot_id"`
}

// AuthTest checks the token and says whose it is. It changes nothing, so it
// is the call behind "Test connection".
func (c *Client) AuthTest(ctx context.Context) (Identity, error) {
	var out struct {
		answer
		Identity
	}
	err := c.call(ctx, "test authentication", "auth.test", nil, &out)
	return out.Identity, err
}

// answer is the envelope of every Web API answer.
type answer struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

func (a *answer) envelope() *answer { return a }

type enveloped interface{ envelope() *answer }

func (c *Client) call(ctx context.Context, op, method string, body any, out enveloped) error {
	res, err := c.api.Do(ctx, vendorhttp.Request{Op: op, Method: http.MethodPost, URL: c.base + "/" + method, Body: body,
		Header: http.Header{"Authorization": {"Bearer " + c.token}, "Content-Type": {"application/json; charset=utf-8"}}})
	if err != nil {
		return err
	}
	status, data := res.Status, res.Body
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("slack: %s: Slack sent a body that is not the expected JSON: %w", op, err)
	}
	if env := out.envelope(); !env.OK {
		code := env.Error
		if code == "" {
			code = "unknown_error"
		}
		return newError(op, status, code, 0)
	}
	return nil
}

func checkURL(name, raw string) error {
	if _, ok := vendorhttp.HTTPURL(raw); !ok {
		return fmt.Errorf("slack: the %s is not an http(s) URL", name)
	}
	return nil
}
