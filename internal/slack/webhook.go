package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// WebhookConfig says where an incoming webhook is.
type WebhookConfig struct {
	// URL is the webhook URL Slack gave. Required. It is itself the secret:
	// it never appears in errors.
	URL string
	// HTTPClient sends the request. Required: callers pass Vigil's
	// SSRF-guarded client.
	HTTPClient *http.Client
	// Retry works as in Config.
	Retry vendorhttp.Retry
}

// Webhook posts to one incoming webhook. It is safe for concurrent use.
type Webhook struct {
	url string
	api *vendorhttp.Client
}

// NewWebhook checks cfg and returns a webhook poster. It makes no request.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if err := vendorhttp.Missing("slack", "connection", vendorhttp.Need("webhook URL", cfg.URL != ""),
		vendorhttp.Need("HTTP client", cfg.HTTPClient != nil)); err != nil {
		return nil, err
	}
	if err := checkURL("webhook URL", cfg.URL); err != nil {
		return nil, err
	}
	return &Webhook{url: cfg.URL, api: newTransport(cfg.HTTPClient, cfg.Retry)}, nil
}

// Post sends m's text and blocks; the webhook decides the channel. Slack
// answers "ok" as plain text on success and a short code such as
// "invalid_payload" or "no_service" on failure.
func (w *Webhook) Post(ctx context.Context, m Message) error {
	if err := m.check("post to webhook"); err != nil {
		return err
	}
	payload, err := json.Marshal(struct {
		Text   string          `json:"text,omitempty"`
		Blocks json.RawMessage `json:"blocks,omitempty"`
	}{m.Text, m.Blocks})
	if err != nil {
		return fmt.Errorf("slack: post to webhook: encode request: %w", err)
	}
	// Slack answers a refused post with a short code in a 4xx body, which
	// statusError reads.
	res, err := w.api.Do(ctx, vendorhttp.Request{Op: "post to webhook", Method: http.MethodPost, URL: w.url, RawBody: payload,
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}})
	if err != nil {
		return err
	}
	status, body := res.Status, res.Body
	if status != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		return statusError("post to webhook", status, body, 0)
	}
	return nil
}
