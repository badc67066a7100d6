package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/slack"
	"github.com/vigil-ispm/vigil/internal/slack/slacktest"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

func setup(t *testing.T) (*slacktest.Server, *clocktest.Clock, *slack.Client) {
	t.Helper()
	fake := slacktest.New(t)
	sl := clocktest.Still(time.Time{})
	cfg := fake.Config()
	cfg.Retry = vendorfake.Retry(sl)
	c, err := slack.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fake, sl, c
}

func TestPostMessage(t *testing.T) {
	fake, _, c := setup(t)
	blocks := json.RawMessage(`[{"type":"section","text":{"type":"mrkdwn","text":"*Unused Admin Account*"}}]`)
	posted, err := c.PostMessage(context.Background(), slack.Message{Channel: "#alerts", Text: "Unused Admin Account", Blocks: blocks})
	if err != nil {
		t.Fatal(err)
	}
	if posted.Channel != "C0ALERTS01" || posted.TS == "" {
		t.Errorf("posted = %+v", posted)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].Text != "Unused Admin Account" || string(msgs[0].Blocks) != string(blocks) {
		t.Fatalf("messages = %+v", msgs)
	}
	r := fake.Requests()[0]
	if r.Method != http.MethodPost || r.Path != "/api/chat.postMessage" ||
		r.Header.Get("Authorization") != "Bearer "+slacktest.Token ||
		r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("request = %s %s %v", r.Method, r.Path, r.Header)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil || body["channel"] != "#alerts" || body["text"] != "Unused Admin Account" {
		t.Errorf("body = %s", r.Body)
	}
}

func TestPostMessageErrorsInOKFalse(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		channel  string
		wantCode string
		wantIs   error
	}{
		{"unknown channel", slacktest.Token, "#nope", "channel_not_found", slack.ErrNotFound},
		{"bot not invited", slacktest.Token, "#private", "not_in_channel", slack.ErrNotFound},
		{"wrong token", "xoxb-wrong", "#alerts", "invalid_auth", slack.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := slacktest.New(t)
			cfg := fake.Config()
			cfg.Token = tt.token
			c, err := slack.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.PostMessage(context.Background(), slack.Message{Channel: tt.channel, Text: "hi"})
			var e *slack.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode || e.StatusCode != 200 || !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want %s matching %v", err, tt.wantCode, tt.wantIs)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("token in message: %v", err)
			}
			if len(fake.Messages()) != 0 {
				t.Error("a message was accepted")
			}
		})
	}
}

func TestPostMessageRetries(t *testing.T) {
	vendorfake.RunRetries(t, []vendorfake.RetryCase{
		{Name: "429 then success", Status: http.StatusTooManyRequests, After: "3", N: 1, Waits: []time.Duration{3 * time.Second}},
		{Name: "502 then success", Status: http.StatusBadGateway, N: 1, Waits: []time.Duration{time.Second}},
		{Name: "429 past the bound", Status: http.StatusTooManyRequests, After: "1", N: 4, Waits: []time.Duration{time.Second, time.Second, time.Second}, Is: slack.ErrRateLimited},
	}, func(t *testing.T, rc vendorfake.RetryCase) ([]time.Duration, error) {
		fake, sl, c := setup(t)
		fake.FailNext(rc.N, rc.Status, rc.After)
		_, err := c.PostMessage(context.Background(), slack.Message{Channel: "C0ALERTS01", Text: "hi"})
		if rc.Is == nil && err != nil {
			t.Fatalf("err = %v", err)
		}
		wantMsgs := 1
		if rc.Is != nil {
			wantMsgs = 0
		}
		if got := len(fake.Messages()); got != wantMsgs {
			t.Errorf("messages = %d, want %d", got, wantMsgs)
		}
		return sl.Waits(), err
	})
}

func TestAuthTest(t *testing.T) {
	_, _, c := setup(t)
	id, err := c.AuthTest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if id.TeamID != "T0FAKE001" || id.BotID != "B0VIGIL01" || id.Team != "Fake Workspace" {
		t.Errorf("identity = %+v", id)
	}
}

func TestWebhook(t *testing.T) {
	fake := slacktest.New(t)
	sl := clocktest.Still(time.Time{})
	w, err := slack.NewWebhook(slack.WebhookConfig{URL: fake.WebhookURL(), HTTPClient: fake.Client(),
		Retry: vendorfake.Retry(sl)})
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(1, http.StatusTooManyRequests, "2")
	if err := w.Post(context.Background(), slack.Message{Channel: "#ignored", Text: "Unused Admin Account: Ali Lesch"}); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || !msgs[0].Webhook || msgs[0].Text != "Unused Admin Account: Ali Lesch" {
		t.Fatalf("messages = %+v", msgs)
	}
	reqs := fake.Requests()
	if last := reqs[len(reqs)-1]; string(last.Body) != `{"text":"Unused Admin Account: Ali Lesch"}` {
		t.Errorf("body = %s", last.Body)
	}
	if len(sl.Waits()) != 1 || sl.Waits()[0] != 2*time.Second {
		t.Errorf("waits = %v", sl.Waits())
	}

	bad, _ := slack.NewWebhook(slack.WebhookConfig{URL: fake.URL + "/services/T0FAKE001/B0FAKE001/revokedSecretValue",
		HTTPClient: fake.Client()})
	err = bad.Post(context.Background(), slack.Message{Text: "hi"})
	if !errors.Is(err, slack.ErrUnauthorized) || strings.Contains(err.Error(), "revokedSecretValue") {
		t.Fatalf("err = %v, want ErrUnauthorized without the URL", err)
	}
}

func TestWebhookUnreachableDoesNotLeakURL(t *testing.T) {
	w, err := slack.NewWebhook(slack.WebhookConfig{URL: "http://127.0.0.1:1/services/T1/B1/secretPart",
		HTTPClient: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Post(context.Background(), slack.Message{Text: "hi"})
	if err == nil || strings.Contains(err.Error(), "secretPart") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := slack.New(slack.Config{HTTPClient: http.DefaultClient}); err == nil {
		t.Error("no token accepted")
	}
	if _, err := slack.New(slack.Config{Token: "xoxb-1"}); err == nil {
		t.Error("no HTTP client accepted")
	}
	if _, err := slack.NewWebhook(slack.WebhookConfig{URL: "hooks.slack.com/x", HTTPClient: http.DefaultClient}); err == nil {
		t.Error("URL without scheme accepted")
	}
	_, _, c := setup(t)
	if _, err := c.PostMessage(context.Background(), slack.Message{Channel: "#alerts"}); err == nil {
		t.Error("empty message accepted")
	}
	if _, err := c.PostMessage(context.Background(), slack.Message{Channel: "#alerts", Blocks: json.RawMessage(`[{`)}); err == nil {
		t.Error("broken blocks accepted")
	}
	if _, err := slack.NewWebhook(slack.WebhookConfig{}); err == nil || !strings.Contains(err.Error(), "the webhook URL, the HTTP client") {
		t.Errorf("webhook without URL or HTTP client: err = %v", err)
	}
	fake := slacktest.New(t)
	w, err := slack.NewWebhook(slack.WebhookConfig{URL: fake.WebhookURL(), HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []slack.Message{{}, {Blocks: json.RawMessage(`[{`)}} {
		if err := w.Post(context.Background(), m); err == nil {
			t.Errorf("webhook message %+v accepted", m)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("refused webhook messages sent %d requests", n)
	}
}
