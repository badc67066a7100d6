package hooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/netguard/netguardtest"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
)

// loopback is the allowlist the tests' receivers need.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func newFakeClock() *clocktest.Clock {
	return clocktest.New(time.Time{})
}

// jobLog is a JobInserter that records the jobs instead of queueing them,
// so tests drive deliveries one attempt at a time.
type jobLog struct {
	mu   sync.Mutex
	jobs []DeliveryArgs
}

func (l *jobLog) InsertTx(_ context.Context, _ *store.Tx, args river.JobArgs, _ *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := args.(DeliveryArgs); ok {
		l.jobs = append(l.jobs, a)
	}
	return &rivertype.JobInsertResult{}, nil
}

// take returns the jobs recorded since the last call.
func (l *jobLog) take() []DeliveryArgs {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.jobs
	l.jobs = nil
	return out
}

// bundle is what most tests need.
type bundle struct {
	st    *store.Store
	svc   *Service
	clock *clocktest.Clock
	jobs  *jobLog
}

// setup builds a Service on st with a fake clock, no jitter, the loopback
// allowlist and a recording job inserter; mods adjust the config.
func setup(t testing.TB, st *store.Store, mods ...func(*Config)) *bundle {
	t.Helper()
	b := &bundle{st: st, clock: newFakeClock(), jobs: &jobLog{}}
	cfg := Config{
		Client:    netguard.NewClient(netguard.Config{Allow: loopback}),
		Allow:     loopback,
		Resolver:  netguardtest.Resolver{},
		Queue:     b.jobs,
		PublicURL: "https://vigil.example.com",
		Now:       b.clock.Now,
		Jitter:    func(d time.Duration) time.Duration { return d },
	}
	for _, m := range mods {
		m(&cfg)
	}
	b.svc = New(st, secrettest.Box(t), cfg)
	return b
}

// addHook creates an integration to url with an automation for all titles.
func (b *bundle) addHook(t testing.TB, name, url string, keys ...Key) (*Integration, string) {
	t.Helper()
	ctx := context.Background()
	in, whsec, err := b.svc.Create(ctx, Input{Name: name, URL: url, Keys: keys})
	if err != nil {
		t.Fatalf("Create(%s): %v", name, err)
	}
	if _, err := b.svc.SetAutomation(ctx, in.ID, AutomationInput{AllTitles: true}); err != nil {
		t.Fatalf("SetAutomation(%s): %v", name, err)
	}
	return in, whsec
}

// setupFailing sets up a bundle with one integration, "failing", whose
// receiver answers every request 500.
func setupFailing(t testing.TB, st *store.Store) (*bundle, *receiver) {
	b := setup(t, st)
	rc := newReceiver(t, status(500))
	b.addHook(t, "failing", rc.URL)
	return b, rc
}

// publish stores ev through the outbox in its own transaction.
func (b *bundle) publish(t testing.TB, ev event.Event) {
	t.Helper()
	err := b.st.InTx(context.Background(), func(tx *store.Tx) error { return b.svc.Publish(context.Background(), tx, ev) })
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

// publishRolledBack publishes an event in a transaction that rolls back,
// which must leave nothing to deliver.
func (b *bundle) publishRolledBack(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	boom := errors.New("boom")
	err := b.st.InTx(ctx, func(tx *store.Tx) error {
		if err := b.svc.Publish(ctx, tx, sampleEvent()); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rolled-back Publish: %v", err)
	}
}

// runJobs works every recorded job once and returns the snooze of each.
func (b *bundle) runJobs(t testing.TB) []time.Duration {
	t.Helper()
	var out []time.Duration
	for _, j := range b.jobs.take() {
		again, err := b.svc.deliver(context.Background(), j.DeliveryID, j.Generation)
		if err != nil {
			t.Fatalf("deliver %s: %v", j.DeliveryID, err)
		}
		out = append(out, again)
	}
	return out
}

// only returns the single delivery of the store, failing otherwise.
func (b *bundle) only(t testing.TB) *store.HookDelivery {
	t.Helper()
	ds, err := b.st.HookDeliveries(context.Background(), store.HookDeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	return ds[0]
}

var eventSeq struct {
	mu sync.Mutex
	n  int
}

// newEvent returns an issue event with a fresh id.
func newEvent(typ, title, severity, category, product string) event.Event {
	eventSeq.mu.Lock()
	eventSeq.n++
	n := eventSeq.n
	eventSeq.mu.Unlock()
	ev := event.Sample(fmt.Sprintf("00000000-0000-4000-8000-%012d", n), time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), "https://vigil.example.com")
	ev.Type = typ
	ev.EventData.ID = fmt.Sprintf("iss_%d", n)
	ev.EventData.Title, ev.EventData.Severity, ev.EventData.Category = title, severity, category
	ev.EventData.AffectedEntity.SourceProductName = product
	return ev
}

func sampleEvent() event.Event {
	return newEvent(event.TypeCreated, "Unused Admin Account", "High", "Least Privilege", event.ProductOkta)
}

// recorded is a request a receiver got.
type recorded struct {
	Header http.Header
	Query  string
	Path   string
	Body   []byte
}

// receiver is an HTTP server that records requests and answers with
// respond (200 "ok" when nil).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	respond func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t testing.TB, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 0, 1024)
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				break
			}
		}
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, recorded{Header: r.Header.Clone(), Query: r.URL.RawQuery, Path: r.URL.Path, Body: body})
		n := len(rc.reqs)
		respond := rc.respond
		rc.mu.Unlock()
		if respond == nil {
			w.Write([]byte("ok"))
			return
		}
		respond(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.reqs...)
}

func (rc *receiver) setRespond(f func(n int, w http.ResponseWriter, r *http.Request)) {
	rc.mu.Lock()
	rc.respond = f
	rc.mu.Unlock()
}

func status(code int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// verifySignature checks a Standard Webhooks v1 signature as the
// specification describes it, independently of the signature package:
// HMAC-SHA256 keyed with the base64-decoded part of whsec_…, over
// "{webhook-id}.{webhook-timestamp}.{body}", base64, sent as "v1,<sig>" among
// space-separated signatures.
func verifySignature(whsec string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(whsec, "whsec_"))
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	msgID, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if msgID == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing webhook headers: id=%q ts=%q sig=%q", msgID, ts, sigs)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %s from now", ts, d)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + ts + "."))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Split(sigs, " ") {
		if v, sig, ok := strings.Cut(s, ","); ok && v == "v1" && hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no v1 signature in %q matches", sigs)
}
