// Package slacktest runs an in-process fake of the Slack Web API methods
// chat.postMessage and auth.test, and of incoming webhooks. It checks the
// bearer token, content type and message shape the way Slack does, answers
// failures with HTTP 200 and {"ok": false, "error": …} like the Web API,
// records every request, and can be told to answer the next requests with
// 429 or 5xx.
package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-ispm/vigil/internal/slack"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

// Token is the bot token the fake accepts.
const Token = "xoxb-1111-2222-fakeBotToken"

// Request is one request the fake received.
type Request = vendorfake.Request

// Message is a message the fake accepted.
type Message struct {
	// Channel is the channel id; "" for a webhook post.
	Channel string
	Text    string
	Blocks  json.RawMessage
	TS      string
	// Webhook says the message came through the incoming webhook.
	Webhook bool
}

// Channel is a channel the fake knows.
type Channel struct {
	ID   string
	Name string
	// BotIsMember says whether the bot was invited; posting to a channel
	// it is not in fails with not_in_channel.
	BotIsMember bool
	Archived    bool
}

// Server is the fake. Call NewServer.
type Server struct {
	vendorfake.Base

	mu       sync.Mutex
	channels []Channel
	messages []Message
	faults   vendorfake.Faults
	hookPath string
	seq      int
}

// New starts a fake with channels #alerts (the bot is a member) and
// #private (it is not) that is closed when the test ends.
func New(t testing.TB) *Server { return vendorfake.ForTest(t, NewServer()) }

// NewServer starts a fake with channels #alerts (the bot is a member) and
// #private (it is not); the caller closes it.
func NewServer() *Server {
	s := &Server{
		channels: []Channel{{ID: "C0ALERTS01", Name: "alerts", BotIsMember: true},
			{ID: "C0PRIVAT01", Name: "private"}},
		hookPath: "/services/T0FAKE001/B0FAKE001/fakeWebhookSecret24chars",
	}
	s.Start(http.HandlerFunc(s.serve))
	return s
}

// Config returns a slack.Config for the fake with the accepted token.
func (s *Server) Config() slack.Config {
	return slack.Config{Token: Token, BaseURL: s.URL + "/api", HTTPClient: s.Client()}
}

// WebhookURL is the fake's incoming webhook.
func (s *Server) WebhookURL() string { return s.URL + s.hookPath }

// AddChannel adds a channel.
func (s *Server) AddChannel(c Channel) {
	vendorfake.Append(&s.mu, &s.channels, c)
}

// FailNext makes the next n requests answer status (429 or 5xx), with a
// Retry-After header when retryAfter is not empty.
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.faults.Fail(n, status, retryAfter)
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	return vendorfake.Copy(&s.mu, &s.messages)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body := s.Record(r)
	s.mu.Lock()
	defer s.mu.Unlock()

	if f, ok := s.faults.Take(w); ok {
		if f.Status == http.StatusTooManyRequests {
			writeJSON(w, f.Status, map[string]any{"ok": false, "error": "ratelimited"})
			return
		}
		http.Error(w, "upstream error", f.Status)
		return
	}
	switch {
	case r.URL.Path == s.hookPath:
		s.webhook(w, r, body)
	case strings.HasPrefix(r.URL.Path, "/services/"):
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "invalid_token")
	case r.URL.Path == "/api/auth.test":
		if e := s.auth(r); e != "" {
			fail(w, e)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "url": "https://fake-workspace.slack.com/",
			"team": "Fake Workspace", "user": "vigil", "team_id": "T0FAKE001", "user_id": "U0VIGIL01", "bot_id": "B0VIGIL01"})
	case r.URL.Path == "/api/chat.postMessage":
		s.postMessage(w, r, body)
	case strings.HasPrefix(r.URL.Path, "/api/"):
		fail(w, "unknown_method")
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) auth(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "not_authed"
	}
	if h != "Bearer "+Token {
		return "invalid_auth"
	}
	return ""
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		fail(w, "invalid_request")
		return
	}
	if e := s.auth(r); e != "" {
		fail(w, e)
		return
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/json") {
		fail(w, "invalid_form_data")
		return
	}
	var m struct {
		Channel string          `json:"channel"`
		Text    string          `json:"text"`
		Blocks  json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		fail(w, "invalid_json")
		return
	}
	ch := s.channel(m.Channel)
	switch {
	case ch == nil:
		fail(w, "channel_not_found")
		return
	case !ch.BotIsMember:
		fail(w, "not_in_channel")
		return
	case ch.Archived:
		fail(w, "is_archived")
		return
	case m.Text == "" && len(m.Blocks) == 0:
		fail(w, "no_text")
		return
	}
	if len(m.Blocks) > 0 {
		var blocks []map[string]any
		if json.Unmarshal(m.Blocks, &blocks) != nil {
			fail(w, "invalid_blocks")
			return
		}
	}
	s.seq++
	ts := fmt.Sprintf("1764324000.%06d", s.seq)
	s.messages = append(s.messages, Message{Channel: ch.ID, Text: m.Text, Blocks: m.Blocks, TS: ts})
	out := map[string]any{"ok": true, "channel": ch.ID, "ts": ts,
		"message": map[string]any{"type": "message", "text": m.Text, "bot_id": "B0VIGIL01", "ts": ts}}
	if !strings.Contains(strings.ToLower(ct), "charset") {
		out["warning"] = "missing_charset"
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) channel(ref string) *Channel {
	name := strings.TrimPrefix(ref, "#")
	for i := range s.channels {
		if s.channels[i].ID == ref || s.channels[i].Name == name {
			return &s.channels[i]
		}
	}
	return nil
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request, body []byte) {
	var m struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	switch {
	case r.Method != http.MethodPost:
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = io.WriteString(w, "invalid_request")
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &m) != nil:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "invalid_payload")
	case m.Text == "" && len(m.Blocks) == 0:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "no_text")
	default:
		s.seq++
		s.messages = append(s.messages, Message{Text: m.Text, Blocks: m.Blocks, Webhook: true,
			TS: fmt.Sprintf("1764324000.%06d", s.seq)})
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "ok")
	}
}

func fail(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	vendorfake.WriteJSON(w, status, "application/json; charset=utf-8", v)
}
