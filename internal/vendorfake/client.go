package vendorfake

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// Clock is a fake clock whose Sleep returns at once and records the wait,
// such as a *clocktest.Clock.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// Retry returns retry settings that wait on clock, without jitter, so that
// a test checks the waits a client chose without spending them.
func Retry(clock Clock) vendorhttp.Retry {
	return vendorhttp.Retry{Now: clock.Now, Sleep: clock.Sleep, Jitter: vendorhttp.NoJitter}
}

// RetryCase is one row of a vendor client's retry table: the fake fails the
// next N requests with Status (and Retry-After After, when not empty); the
// client must then have waited Waits between tries and, when Is is set,
// failed with an error matching it.
type RetryCase struct {
	Name   string
	Status int
	After  string
	N      int
	Waits  []time.Duration
	Is     error
}

// RunRetries runs each case as a subtest. try queues the case's failures on
// a fresh fake, makes the call and checks what a success must return; it
// gives back the waits the client's sleeper saw and the call's error.
// RunRetries checks those two, so that every vendor's retry rules are
// tested the same way.
func RunRetries(t *testing.T, cases []RetryCase, try func(t *testing.T, rc RetryCase) ([]time.Duration, error)) {
	t.Helper()
	for _, rc := range cases {
		t.Run(rc.Name, func(t *testing.T) {
			waits, err := try(t, rc)
			if rc.Is != nil && !errors.Is(err, rc.Is) {
				t.Fatalf("err = %v, want %v", err, rc.Is)
			}
			if !slices.Equal(waits, rc.Waits) {
				t.Errorf("waits = %v, want %v", waits, rc.Waits)
			}
		})
	}
}

// Flaky is a transport that drops the first N requests whose path starts
// with Prefix (every request when Prefix is empty) before any answer, with
// Err or, when Err is nil, "connection reset by peer"; every other request
// goes to Next. It tests how a client retries a network failure.
type Flaky struct {
	N      int
	Prefix string
	Err    error
	Next   http.RoundTripper

	mu sync.Mutex
}

// RoundTrip implements http.RoundTripper.
func (f *Flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	drop := f.N > 0 && strings.HasPrefix(r.URL.Path, f.Prefix)
	if drop {
		f.N--
	}
	f.mu.Unlock()
	if !drop {
		return f.Next.RoundTrip(r)
	}
	if f.Err != nil {
		return nil, f.Err
	}
	return nil, errors.New("connection reset by peer")
}
