package source

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// Reader reads one configured source into graph accounts. Each kind has
// one; Read makes no change anywhere.
type Reader interface {
	// Read returns what the source holds now, reporting progress as it
	// goes. It fails as a whole: a partial read is an error, never a
	// smaller result, because a smaller result would resolve issues.
	Read(ctx context.Context, progress ProgressFunc) (*Result, error)
}

// Result is what one read of a source produced.
type Result struct {
	// Parts are the graph sources read: one for a vendor source, named
	// after the configured source; one per source of a snapshot file.
	Parts []graph.Source `json:"parts"`
	// Primary names the part that defines people when this source is the
	// primary identity provider. Empty means the first Okta part, or else
	// the first part.
	Primary string `json:"primary,omitempty"`
	// Warnings say what the read could not see (a permission missing for
	// one kind of data) without failing: the affected checks raise
	// nothing rather than guess.
	Warnings []string `json:"warnings,omitempty"`
}

// Accounts counts the accounts of every part.
func (r *Result) Accounts() int {
	n := 0
	for _, p := range r.Parts {
		n += len(p.Accounts)
	}
	return n
}

// primaryPart returns the part that defines people if this source is the
// primary one.
func (r *Result) primaryPart() string {
	if r.Primary != "" {
		return r.Primary
	}
	for _, p := range r.Parts {
		if p.Product == graph.ProductOkta {
			return p.Name
		}
	}
	if len(r.Parts) > 0 {
		return r.Parts[0].Name
	}
	return ""
}

// Progress is how far the read of one source got.
type Progress struct {
	// Source is the configured source's name.
	Source string
	// Step says what is being read: "users", "factors", "roles", …
	Step string
	// Requests is the number of API requests answered so far (pages and
	// per-user reads), or of files read.
	Requests int
	// Accounts is the number of accounts read so far.
	Accounts int
	// Done is set on the last report of a source.
	Done bool
}

// ProgressFunc receives progress reports. It is called from the reading
// goroutines, one report at a time, and must return quickly.
type ProgressFunc func(Progress)

// meter counts requests and reports progress for one source.
type meter struct {
	mu       sync.Mutex
	fn       ProgressFunc
	source   string
	step     string
	requests atomic.Int64
	accounts int
}

func newMeter(source string, fn ProgressFunc) *meter {
	return &meter{fn: fn, source: source}
}

func (m *meter) report(done bool) {
	if m == nil || m.fn == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fn(Progress{Source: m.source, Step: m.step, Requests: int(m.requests.Load()), Accounts: m.accounts, Done: done})
}

// stepTo starts a step.
func (m *meter) stepTo(step string) {
	m.mu.Lock()
	m.step = step
	m.mu.Unlock()
	m.report(false)
}

func (m *meter) setAccounts(n int) {
	m.mu.Lock()
	m.accounts = n
	m.mu.Unlock()
	m.report(false)
}

func (m *meter) request() {
	m.requests.Add(1)
	m.report(false)
}

// client returns a copy of base whose transport counts answered requests.
func (m *meter) client(base *http.Client) *http.Client {
	c := *base
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = countingTransport{next: rt, m: m}
	return &c
}

type countingTransport struct {
	next http.RoundTripper
	m    *meter
}

// RoundTrip sends req and counts it, answered or not, for the scan's figures.
func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	t.m.request()
	return resp, err
}

// hostOf returns the host of a URL, for tenant names.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
