package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// WebhookConfig says where an incoming webhook is.
type WebhookConfig struct {
	// URL is the webhook URL Slack gave. Required. It is itself the secret:
	// it never appears in errors.
	URL string
	// HTTPClient sends the request. Required: callers pass Vigil's
	// SSRF-guarded client.
	HTTPClient *http.Client
	// MaxRetries, MaxRetryWait, Now and Sleep work as in Config.
	MaxRetries   int
	MaxRetryWait time.Duration
	Now          func() time.Time
	Sleep        func(ctx context.Context, d time.Duration) error
}

// Webhook posts to one incoming webhook. It is safe for concurrent use.
type Webhook struct {
	url string
	t   transport
}

// NewWebhook checks cfg and returns a webhook poster. It makes no request.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	switch {
	case cfg.URL == "":
		return nil, errors.New("slack: the connection needs a webhook URL")
	case cfg.HTTPClient == nil:
		return nil, errors.New("slack: the connection needs an HTTP client")
	}
	if err := checkURL("webhook URL", cfg.URL); err != nil {
		return nil, err
	}
	return &Webhook{url: cfg.URL, t: transport{http: cfg.HTTPClient,
		retry: retry{cfg.MaxRetries, cfg.MaxRetryWait, cfg.Now, cfg.Sleep}.withDefaults()}}, nil
}

// Post sends m's text and blocks; the webhook decides the channel. Slack
// answers "ok" as plain text on success and a short code such as
// "invalid_payload" or "no_service" on failure.
func (w *Webhook) Post(ctx context.Context, m Message) error {
	if m.Text == "" && len(m.Blocks) == 0 {
		return errors.New("slack: post to webhook: the message has neither text nor blocks")
	}
	if len(m.Blocks) > 0 && !json.Valid(m.Blocks) {
		return errors.New("slack: post to webhook: the blocks are not valid JSON")
	}
	payload, err := json.Marshal(struct {
		Text   string          `json:"text,omitempty"`
		Blocks json.RawMessage `json:"blocks,omitempty"`
	}{m.Text, m.Blocks})
	if err != nil {
		return fmt.Errorf("slack: post to webhook: encode request: %w", err)
	}
	status, body, err := w.t.do(ctx, "post to webhook", func() (*http.Request, error) {
		return newRequest(ctx, http.MethodPost, w.url, payload)
	})
	if err != nil {
		return err
	}
	if status != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		return statusError("post to webhook", status, body, 0)
	}
	return nil
}
