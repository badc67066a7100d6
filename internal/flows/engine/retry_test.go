package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// TestRetry checks backoff kinds, limits and when/exceptWhen against a
// function that fails a given number of times. The fake clock records
// each delay.
func TestRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		retry     string
		failures  int
		wantSleep []time.Duration
		wantCalls int
		wantFault bool
	}{
		{"constant", "delay: {seconds: 1}\nbackoff: {constant: {}}\nlimit: {attempt: {count: 5}}", 3,
			[]time.Duration{time.Second, time.Second, time.Second}, 4, false},
		{"linear", "delay: {seconds: 1}\nbackoff: {linear: {}}\nlimit: {attempt: {count: 5}}", 3,
			[]time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, 4, false},
		{"exponential", "delay: {seconds: 1}\nbackoff: {exponential: {}}\nlimit: {attempt: {count: 5}}", 3,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, 4, false},
		{"attempt count exhausted", "delay: {seconds: 1}\nlimit: {attempt: {count: 2}}", 5,
			[]time.Duration{time.Second, time.Second}, 3, true},
		{"duration limit", "delay: {seconds: 10}\nlimit: {duration: {seconds: 25}}", 5,
			[]time.Duration{10 * time.Second, 10 * time.Second}, 3, true},
		{"jitter", "delay: {seconds: 1}\njitter: {from: {milliseconds: 200}, to: {milliseconds: 200}}\nlimit: {attempt: {count: 3}}", 1,
			[]time.Duration{1200 * time.Millisecond}, 2, false},
		{"when false does not retry", "when: .status == 500\ndelay: {seconds: 1}\nlimit: {attempt: {count: 3}}", 1,
			nil, 1, true},
		{"exceptWhen true does not retry", "exceptWhen: $error.status == 503\ndelay: {seconds: 1}\nlimit: {attempt: {count: 3}}", 1,
			nil, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := newFakeCatalog()
			calls := 0
			cat.add("test.flaky", func(context.Context, map[string]any, *engine.CallEnv) (any, error) {
				calls++
				if calls <= tt.failures {
					return nil, &engine.Fault{Type: engine.ErrCommunication, Status: 503, Title: "Unavailable"}
				}
				return map[string]any{"ok": true}, nil
			})
			clock := newFakeClock()
			eng := engine.New(engine.Config{Catalog: cat, Clock: clock})
			doc := fmt.Sprintf(`
do:
  - attempt:
      try:
        - flaky: {call: test.flaky}
      catch:
        errors:
          with: {type: https://serverlessworkflow.io/spec/1.0.0/errors/communication}
        retry:
%s
`, indent(tt.retry, "          "))
			r := runFlow(t, eng, parse(t, doc), nil)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if (r.fault != nil) != tt.wantFault {
				t.Fatalf("fault = %v, want fault %v", r.fault, tt.wantFault)
			}
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			got := clock.Waits()
			if fmt.Sprint(got) != fmt.Sprint(tt.wantSleep) && (len(got) != 0 || len(tt.wantSleep) != 0) {
				t.Errorf("sleeps = %v, want %v", got, tt.wantSleep)
			}
		})
	}
}

func TestRetryReusablePolicyAndJournalKeys(t *testing.T) {
	t.Parallel()
	cat := newFakeCatalog()
	calls := 0
	cat.add("test.flaky", func(context.Context, map[string]any, *engine.CallEnv) (any, error) {
		calls++
		if calls == 1 {
			return nil, &engine.Fault{Type: engine.ErrCommunication, Status: 503}
		}
		return "ok", nil
	})
	eng := engine.New(engine.Config{Catalog: cat, Clock: newFakeClock()})
	r := runFlow(t, eng, parse(t, `
use:
  retries:
    twice:
      delay: {seconds: 1}
      limit: {attempt: {count: 2}}
do:
  - attempt:
      try:
        - flaky: {call: test.flaky}
      catch:
        retry: twice
`), nil)
	if r.fault != nil || r.err != nil || r.out != "ok" {
		t.Fatalf("Run: %v %v %v", r.out, r.fault, r.err)
	}
	keys := map[string]bool{}
	for _, s := range r.journal.Steps() {
		keys[s.Key] = true
	}
	for _, k := range []string{"/do/0/attempt/try/0/flaky", "/do/0/attempt/try@2/0/flaky", "/do/0/attempt"} {
		if !keys[k] {
			t.Errorf("journal has no step %s (has %v)", k, keys)
		}
	}
}

func indent(s, prefix string) string {
	out := ""
	for _, line := range splitLines(s) {
		out += prefix + line + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			lines = append(lines, s[start:i])
			start = i + 1
		}
	}
	return append(lines, s[start:])
}
