package connector_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

var testNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// sleeps records the waits of retries, which return at once. With a clock,
// each wait moves it forward by the time waited.
type sleeps struct {
	clock *clocktest.Clock

	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	if s.clock != nil {
		s.clock.Add(d)
	}
	return ctx.Err()
}

func (s *sleeps) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.d)
}

// waits returns the waits so far, in order.
func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// sent is a request as it left the connector, with its Authorization
// header, which some fakes leave out of what they record.
type sent struct {
	method, path, auth string
}

// wire records every request the guarded client sends.
type wire struct {
	next http.RoundTripper

	mu   sync.Mutex
	sent []sent
}

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	w.mu.Lock()
	w.sent = append(w.sent, sent{req.Method, req.URL.Path, req.Header.Get("Authorization")})
	w.mu.Unlock()
	return w.next.RoundTrip(req)
}

func (w *wire) requests() []sent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]sent(nil), w.sent...)
}

type bundle struct {
	conns  *connection.Service
	cons   *connector.Connectors
	sleeps *sleeps
	wire   *wire
}

// setup wires the connector actions to a fresh store, with the clock
// standing still at testNow.
func setup(t *testing.T) *bundle {
	t.Helper()
	return setupClock(t, nil)
}

// setupClock is setup with a clock that the retries' waits move forward;
// nil keeps it at testNow.
func setupClock(t *testing.T, clk *clocktest.Clock) *bundle {
	t.Helper()
	now := func() time.Time { return testNow }
	if clk != nil {
		now = clk.Now
	}
	st := storetest.SQLite(t)
	box := secrettest.Box(t)
	sl := &sleeps{clock: clk}
	client := netguard.NewClient(netguard.Config{Allow: loopback})
	wr := &wire{next: client.Transport}
	client.Transport = wr
	conns := connection.New(st, box, connection.Config{Client: client, Allow: loopback, Now: now, Sleep: sl.sleep})
	cons := connector.New(connector.Config{Connections: conns, Client: client, Now: now, Sleep: sl.sleep})
	return &bundle{conns: conns, cons: cons, sleeps: sl, wire: wr}
}

// add saves a connection.
func (b *bundle) add(t *testing.T, name, kind string, dryRun bool, fields map[string]string) {
	t.Helper()
	if _, err := b.conns.Create(context.Background(), connection.Input{Name: name, Kind: kind, DryRun: dryRun, Fields: fields}); err != nil {
		t.Fatal(err)
	}
}

// result is what running one call task gave.
type result struct {
	out   map[string]any
	fault *engine.Fault
	notes []*engine.Note
}

// run calls fn with args in a one-task flow through the engine, so that the
// history a dry run writes is the engine's. The flow is checked first, as
// the flows service does before it saves a flow.
func (b *bundle) run(t *testing.T, fn string, args map[string]any, dryRun bool) result {
	t.Helper()
	return b.exec(t, fn, args, dryRun, true)
}

// runUnchecked is run without the check, so that bad arguments reach the
// function at run time, as they do when written as expressions.
func (b *bundle) runUnchecked(t *testing.T, fn string, args map[string]any) result {
	t.Helper()
	return b.exec(t, fn, args, false, false)
}

func (b *bundle) exec(t *testing.T, fn string, args map[string]any, dryRun, check bool) result {
	t.Helper()
	doc := map[string]any{
		"document": map[string]any{"dsl": "1.0.0", "namespace": "test", "name": "call", "version": "1.0.0"},
		"do":       []any{map[string]any{"act": map[string]any{"call": fn, "with": args}}},
	}
	src, _ := json.Marshal(doc)
	w, err := dsl.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(engine.Config{Catalog: b.cons})
	if check {
		if err := eng.Check(context.Background(), w); err != nil {
			t.Fatalf("check: %v", err)
		}
	}
	j := engine.NewMemoryJournal()
	res, err := eng.Run(context.Background(), w, map[string]any{}, engine.RunOptions{Journal: j, DryRun: dryRun})
	r := result{notes: j.Notes()}
	if err != nil {
		if !errors.As(err, &r.fault) {
			t.Fatalf("run: %v", err)
		}
		return r
	}
	r.out, _ = res.Output.(map[string]any)
	return r
}

// dryRequests returns the requests a dry run recorded.
func (r result) dryRequests(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, n := range r.notes {
		if n.Kind != connector.NoteKind {
			continue
		}
		m, ok := n.Data.(map[string]any)
		if !ok {
			t.Fatalf("note data %T", n.Data)
		}
		out = append(out, m)
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// newRSAKey returns a private key and its PKCS #8 PEM form.
func newRSAKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
