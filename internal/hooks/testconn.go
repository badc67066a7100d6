package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/store"
)

// TestResult is what Test Connection reports.
type TestResult struct {
	OK         bool          `json:"ok"`
	StatusCode int           `json:"statusCode,omitempty"`
	Latency    time.Duration `json:"-"`
	LatencyMS  int64         `json:"latencyMs"`
	// ResponseBody is the first 2 KB of the answer.
	ResponseBody string `json:"responseBody"`
	// ErrorKind is one of dns, connect_refused, connect, tls, timeout,
	// ssrf_blocked, non_2xx, redirect, connection_reset, read_body.
	ErrorKind string `json:"errorKind,omitempty"`
	Error     string `json:"error,omitempty"`
	// EventID is the webhook-id of the sample event sent.
	EventID string `json:"eventId"`
	// Signed says whether the request carried a webhook-signature: only a
	// saved integration has a signing secret.
	Signed bool `json:"signed"`
}

// Test sends the sample event (an "Unused Admin Account" issue, marked with
// the X-Vigil-Test header) to the configuration in, which need not be
// saved: the console tests before Save. When editing a saved integration,
// pass its id or name as hook: key entries left empty then use the saved
// values, and the request is signed with its secret. Invalid input is
// returned as an error; any network outcome is in the result.
func (s *Service) Test(ctx context.Context, hook string, in Input) (*TestResult, error) {
	var h *store.Hook
	if hook != "" {
		var err error
		if h, err = s.hook(ctx, hook); err != nil {
			return nil, err
		}
	}
	in, err := s.checkInput(ctx, in, h)
	if err != nil {
		return nil, err
	}
	t := target{URL: in.URL, Keys: in.Keys}
	if h != nil {
		if t.Secrets, err = s.secrets(h, s.now()); err != nil {
			return nil, err
		}
	}
	return s.test(ctx, t)
}

// TestSaved sends the sample event to a saved integration as configured.
func (s *Service) TestSaved(ctx context.Context, hook string) (*TestResult, error) {
	h, err := s.hook(ctx, hook)
	if err != nil {
		return nil, err
	}
	keys, err := s.openKeys(h)
	if err != nil {
		return nil, err
	}
	secrets, err := s.secrets(h, s.now())
	if err != nil {
		return nil, err
	}
	return s.test(ctx, target{URL: h.URL, Keys: keys, Secrets: secrets})
}

func (s *Service) test(ctx context.Context, t target) (*TestResult, error) {
	base := s.cfg.PublicURL
	if s.cfg.PublicURLSetting != nil {
		base = s.cfg.PublicURLSetting(ctx)
	}
	ev := event.Sample(uuid.NewString(), s.now(), base)
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode the sample event: %w", err)
	}
	res := s.send(ctx, t, ev.ID, body, true, DefaultTestResponse)
	return &TestResult{OK: res.OK(), StatusCode: res.StatusCode, Latency: res.Latency, LatencyMS: res.Latency.Milliseconds(),
		ResponseBody: printable(res.Body), ErrorKind: res.ErrKind, Error: res.Err, EventID: ev.ID, Signed: len(t.Secrets) > 0}, nil
}
