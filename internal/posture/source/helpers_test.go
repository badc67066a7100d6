package source

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/netguard/netguardtest"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/store"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// sleeps records the waits vendor clients ask for and returns at once.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waits)
}

// memOutbox keeps the events of committed transactions only: it writes
// them to a table in the caller's transaction.
type memOutbox struct{ seq atomic.Int64 }

func (o *memOutbox) Publish(ctx context.Context, tx *store.Tx, ev event.Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = tx.SQL().ExecContext(ctx, `INSERT INTO test_outbox (id, type, issue_id, payload, seq) VALUES ($1, $2, $3, $4, $5)`,
		ev.ID, ev.Type, ev.EventData.ID, string(b), o.seq.Add(1))
	return err
}

// sent is one request as the recording transport saw it.
type sent struct {
	Method string
	Host   string
	Path   string
	Query  string
	// Auth is the Authorization header's scheme ("SSWS", "Bearer",
	// "AWS4-HMAC-SHA256"), never the credential.
	Auth string
}

// recorder records every request the service sends, below the counting
// transport and above the SSRF guard.
type recorder struct {
	mu   sync.Mutex
	next http.RoundTripper
	reqs []sent
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	scheme, _, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	r.mu.Lock()
	r.reqs = append(r.reqs, sent{Method: req.Method, Host: req.URL.Host, Path: req.URL.Path, Query: req.URL.RawQuery, Auth: scheme})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) sent() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.reqs...)
}

// count returns how many requests had this method and path.
func (r *recorder) count(method, path string) int {
	n := 0
	for _, s := range r.sent() {
		if s.Method == method && s.Path == path {
			n++
		}
	}
	return n
}

type testBundle struct {
	st     *store.Store
	svc    *Service
	issues *issue.Service
	clock  *clocktest.Clock
	sleeps *sleeps
	rec    *recorder
	logs   *bytes.Buffer
}

// setup returns a Service over st whose HTTP client is the SSRF guard
// opened for loopback (where the fakes listen), with a recorder in front.
func setup(t testing.TB, st *store.Store, edit func(*Config)) *testBundle {
	t.Helper()
	if _, err := st.DB().ExecContext(context.Background(), `CREATE TABLE test_outbox (id TEXT PRIMARY KEY, type TEXT NOT NULL,
		issue_id TEXT NOT NULL, payload TEXT NOT NULL, seq INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	guard := netguard.NewClient(netguard.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	rec := &recorder{next: guard.Transport}
	client := *guard
	client.Transport = rec
	c := clocktest.New(t0)
	sl := &sleeps{}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil))
	is := issue.New(st, &memOutbox{}, issue.Config{PublicURL: "https://vigil.example.com", Now: c.Now, Logger: logger})
	cfg := Config{HTTPClient: &client, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Resolver: netguardtest.Resolver{}, FileDir: os.TempDir(), Now: c.Now, Sleep: sl.Sleep, Logger: logger}
	if edit != nil {
		edit(&cfg)
	}
	return &testBundle{st: st, svc: New(st, box, is, cfg), issues: is, clock: c, sleeps: sl, rec: rec, logs: logs}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// eventTypes returns the types of the events committed so far, by issue id.
func (b *testBundle) eventCount(t testing.TB, typ string) int {
	t.Helper()
	var n int
	if err := b.st.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM test_outbox WHERE type = $1`, typ).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// issues returns every issue by fingerprint.
func (b *testBundle) allIssues(t testing.TB) map[string]*issue.Issue {
	t.Helper()
	page, err := b.issues.List(context.Background(), issue.Filter{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*issue.Issue{}
	for _, is := range page.Issues {
		out[is.Fingerprint] = is
	}
	return out
}

// writeSnapshot writes sources as a snapshot file and returns its path.
func writeSnapshot(t testing.TB, dir, name string, snap *graph.Snapshot) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := graph.WriteSnapshot(f, snap); err != nil {
		t.Fatal(err)
	}
	return path
}

func ptr[T any](v T) *T { return &v }
