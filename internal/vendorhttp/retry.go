package vendorhttp

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of Retry, chosen so that a throttled scan slows down rather than
// fails, but a vendor asking for a long pause fails the call instead of
// holding a worker.
const (
	DefaultMaxRetries = 3
	DefaultMaxWait    = 60 * time.Second
)

// Retry says how often and how long a client waits before it repeats a
// request. Zero values mean the defaults named on each field, filled by
// WithDefaults.
type Retry struct {
	// MaxRetries bounds the retries of one request. Default
	// DefaultMaxRetries; negative means never retry.
	MaxRetries int
	// MaxWait is the longest single wait accepted. An answer asking for a
	// longer one fails the call; a backoff is capped at it. Default
	// DefaultMaxWait.
	MaxWait time.Duration
	// Now tells the time, to read waits given as dates. Default time.Now.
	Now func() time.Time
	// Sleep waits, returning early with ctx's error when ctx ends. Default
	// Sleep; tests pass a recorder so they run instantly.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter spreads a computed backoff, so that many clients throttled at
	// once do not retry in step. Default EqualJitter; tests that check the
	// waits pass NoJitter. Waits a vendor asks for are never jittered.
	Jitter func(d time.Duration) time.Duration
}

// WithDefaults returns r with its zero fields set to their defaults.
func (r Retry) WithDefaults() Retry {
	if r.MaxRetries == 0 {
		r.MaxRetries = DefaultMaxRetries
	}
	r.MaxRetries = max(r.MaxRetries, 0)
	if r.MaxWait <= 0 {
		r.MaxWait = DefaultMaxWait
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Sleep == nil {
		r.Sleep = Sleep
	}
	if r.Jitter == nil {
		r.Jitter = EqualJitter
	}
	return r
}

// Backoff is the wait before retry number attempt+1 when the vendor named
// none: 1 s, 2 s, 4 s, … capped at MaxWait, then jittered.
func (r Retry) Backoff(attempt int) time.Duration {
	return r.Jitter(min(time.Second<<min(attempt, 16), r.MaxWait))
}

// Sleep waits for d or until ctx ends, whichever comes first; an ended
// ctx gives its cause.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// EqualJitter returns a random wait between half of d and d: never much
// shorter than the backoff asked for, yet spread out.
func EqualJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1) //nolint:gosec // spreading retries needs no unpredictability
}

// NoJitter returns d unchanged, for tests that check the waits.
func NoJitter(d time.Duration) time.Duration { return d }

// RetryAfter reads the Retry-After header as delay-seconds or as an HTTP
// date; 0 when it is missing, malformed or in the past.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// UnixHeader reads a header holding epoch seconds, such as Okta's
// X-Rate-Limit-Reset.
func UnixHeader(h http.Header, name string) (time.Time, bool) {
	n, err := strconv.ParseInt(h.Get(name), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// Idempotent reports whether a request may be repeated after it got no
// answer without risk of doing its work twice. PATCH and POST are not.
func Idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete
}
