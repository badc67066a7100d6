package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/signature"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestCrashHarness runs `vigil serve` as a child process under load —
// scans of a snapshot source that open and resolve issues, their events
// delivered to two integrations, a flow invoked synchronously and
// asynchronously — and kills it (SIGKILL) at random points during a scan,
// during deliveries and during executions, starting it again each time.
// When everything has drained it checks that nothing was lost and nothing
// was done twice where that matters:
//
//   - every issue event of the outbox reached each integration whose
//     automation matches it, at least once, and no other;
//   - every execution a caller was told of ended once, succeeded, each
//     step journalled once;
//   - no scan is left running, and every round's scan ran after the kills;
//   - issue statuses, seen through the API all along, never left what the
//     snapshot sequence allows: a resolved issue is open again only when a
//     later snapshot has it again;
//   - the database is intact (SQLite's integrity and foreign key checks,
//     no orphan rows between the main parents and children).
//
// VIGIL_CRASH_EVENTS (default 300) and VIGIL_CRASH_KILLS (default 3) set
// the size; VIGIL_CRASH_SEED replays the kill points a failed run logged.
func TestCrashHarness(t *testing.T) {
	cfg := crashConfigFromEnv(t)
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testCrashHarness(t, dialect, cfg) })
	}
}

// crashConfig is the size of a harness run.
type crashConfig struct {
	events int    // issue events to produce, at least
	kills  int    // kills -9
	seed   uint64 // of the random kill points
}

func crashConfigFromEnv(t *testing.T) crashConfig {
	t.Helper()
	cfg := crashConfig{events: 300, kills: 3, seed: uint64(time.Now().UnixNano())}
	for _, v := range []struct {
		name string
		to   *int
	}{{"VIGIL_CRASH_EVENTS", &cfg.events}, {"VIGIL_CRASH_KILLS", &cfg.kills}} {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				t.Fatalf("%s=%q is not a count", v.name, s)
			}
			*v.to = n
		}
	}
	if s := os.Getenv("VIGIL_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("VIGIL_CRASH_SEED=%q is not a number", s)
		}
		cfg.seed = n
	}
	return cfg
}

// The points at which the harness kills the server.
const (
	killDuringScan       = "scan"
	killDuringDeliveries = "deliveries"
	killDuringExecutions = "executions"
)

// seedsInTurn is how many synthetic organizations the snapshots cycle
// through: round r reads the organization of seed 1+r%seedsInTurn, so each
// scan resolves the issues the previous one had and the new one lacks,
// opens new ones, and reopens those an earlier organization had.
const seedsInTurn = 4

// crashHarness is one run: the server, its database, the receivers and
// what was seen.
type crashHarness struct {
	t      *testing.T
	ctx    context.Context
	cfg    crashConfig
	rng    *rand.Rand
	srv    *child
	st     *store.Store
	apiKey string
	snap   string    // the snapshot file
	now    time.Time // the synthetic organizations' date
	people int       // per organization
	subset map[string]bool
	all    *hookReceiver // automation: every title, every event type
	some   *hookReceiver // automation: subset titles, created and resolved
	load   *invokeLoad
	flow   invokedFlow
	round  atomic.Int64
	expect map[int64]synth.Expected // by seed
	seenMu sync.Mutex
	seen   map[issueSight]bool
	polls  atomic.Int64
	// failedScans counts scans that ended other than well.
	failedScans int
	killLog     []string
}

// issueSight is an issue status the API showed, with the rounds current
// when the listing began and ended.
type issueSight struct {
	id, status string
	from, to   int64
}

func testCrashHarness(t *testing.T, dialect string, cfg crashConfig) {
	t.Logf("seed %d (VIGIL_CRASH_SEED=%d replays the kill points), %d events, %d kills", cfg.seed, cfg.seed, cfg.events, cfg.kills)
	began := time.Now()
	ctx := context.Background()
	dataDir := t.TempDir()
	dbURL := storetest.DatabaseURL(t, dialect)
	h := &crashHarness{t: t, ctx: ctx, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x5eed)),
		now: time.Now().UTC(), expect: map[int64]synth.Expected{}, seen: map[issueSight]bool{},
		all: newHookReceiver(), some: newHookReceiver()}
	defer h.all.Close()
	defer h.some.Close()
	// Organizations of about a hundred people give some 50 events a scan;
	// bigger runs use bigger ones, so that they need fewer rounds.
	h.people = min(max(cfg.events/3, 100), 3000)
	effects := newEffects()
	defer effects.Close()

	h.setup(dataDir, dbURL, effects.URL)
	st, err := store.Open(ctx, store.Config{URL: storeURL(dataDir, dbURL)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h.st = st

	h.srv = newChild(t, dataDir, dbURL)
	h.srv.start()
	h.load = startInvokeLoad(ctx, 2, invoke.InvokeURL(h.srv.url, h.flow.alias), h.flow.token)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		h.watchIssues(watchCtx)
	}()

	phases := []string{killDuringScan, killDuringDeliveries, killDuringExecutions}
	order := h.rng.Perm(len(phases))
	kills, events := 0, 0
	for r := 0; events < cfg.events || kills < cfg.kills; r++ {
		kill := ""
		if kills < cfg.kills && r > 0 {
			// Spread the kills over the rounds the run is expected to need.
			left := max(1, (cfg.events-events)*r/max(events, 1))
			if h.rng.IntN(left) < cfg.kills-kills {
				kill = phases[order[kills%len(phases)]]
				kills++
			}
		}
		h.runRound(int64(r), kill)
		events = h.count(`SELECT COUNT(*) FROM vigil_hook_event`)
		t.Logf("round %d (seed %d, kill %q) done: %d events, %d executions accepted, %s", r, seedOf(int64(r)), kill, events,
			h.load.count(), time.Since(began).Round(time.Millisecond))
	}

	// Let everything drain, then stop the callers and the watcher.
	h.load.stop()
	stopWatch()
	<-watched
	h.srv.waitUntil("every execution to end", func() bool {
		n, err := st.UnfinishedFlowExecutions(ctx, h.flow.id)
		return err == nil && n == 0
	})
	// Every delivery a kill interrupted was queued again at the restart
	// (on SQLite, whatever recovery timer it had; on PostgreSQL once the
	// dead process's node lock or heartbeat was gone), so what is left is
	// only the tail of the load: the deadline is a safeguard.
	deliveriesDeadline := time.Now().Add(3 * time.Minute)
	for h.pendingDeliveries() > 0 {
		if time.Now().After(deliveriesDeadline) {
			t.Fatalf("gave up waiting for every delivery to be made: %s; server log:\n%s", h.undelivered(), h.srv.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A scan queued again after a kill (its job outlived the process that
	// ran it), or asked for again by waitForScan, may still be waiting or
	// running; it must end before the server stops, or stopping would
	// leave it for the next start, not stuck.
	scansDeadline := time.Now().Add(3 * time.Minute)
	for h.count(`SELECT COUNT(*) FROM vigil_posture_scan WHERE status = 'running'`) > 0 ||
		h.count(`SELECT COUNT(*) FROM vigil_posture_scan_lease`) > 0 ||
		h.count(`SELECT COUNT(*) FROM river_job WHERE kind = 'posture_scan'
			AND state IN ('available', 'pending', 'scheduled', 'retryable', 'running')`) > 0 {
		if time.Now().After(scansDeadline) {
			t.Fatalf("gave up waiting for every scan to end: %s; server log:\n%s", h.scanState(), h.srv.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.srv.stop()

	h.checkScans(h.srv.logs.String())
	h.checkSightings()
	deliveries, duplicates := h.checkDeliveries()
	stored := checkExecutions(ctx, t, st, h.flow.id, h.load.snapshot())
	h.checkIntegrity()
	for _, k := range h.killLog {
		t.Log(k)
	}
	t.Logf("%s: %d events, %d deliveries (%d duplicates), %d executions accepted (%d stored), %d kills, %d scans that did not end well, %d issue listings, %d effects calls, %s",
		dialect, events, deliveries, duplicates, h.load.count(), stored, kills, h.failedScans, h.polls.Load(), effects.calls.Load(),
		time.Since(began).Round(time.Second))
}

// setup stores, before the server first starts, the invoked flow, the two
// integrations and their automations, the snapshot source and an API
// token for the harness.
func (h *crashHarness) setup(dataDir, dbURL, effectsURL string) {
	t, ctx := h.t, h.ctx
	a, err := app.Open(ctx, app.Config{DataDir: dataDir, DatabaseURL: dbURL, LogOutput: io.Discard, AllowOutbound: "127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	svc, err := a.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	h.flow = newInvokedFlow(ctx, t, svc, effectsURL)

	// The subset integration gets every other title the organizations have.
	titles := map[string]bool{}
	for s := range int64(seedsInTurn) {
		for title := range h.expected(1 + s).Titles() {
			titles[title] = true
		}
	}
	sorted := slices.Sorted(maps.Keys(titles))
	h.subset = map[string]bool{}
	var subset []string
	for i, title := range sorted {
		if i%2 == 0 {
			h.subset[title] = true
			subset = append(subset, title)
		}
	}
	for _, in := range []struct {
		name string
		rcv  *hookReceiver
		auto hooks.AutomationInput
	}{
		{"all", h.all, hooks.AutomationInput{AllTitles: true, EventTypes: []string{event.TypeCreated, event.TypeUpdated, event.TypeResolved}}},
		{"some", h.some, hooks.AutomationInput{Titles: subset, EventTypes: []string{event.TypeCreated, event.TypeResolved}}},
	} {
		if _, _, err := svc.Hooks.Create(ctx, hooks.Input{Name: in.name, URL: in.rcv.URL, MaxInFlight: 16, RatePerSecond: 1000}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Hooks.SetAutomation(ctx, in.name, in.auto); err != nil {
			t.Fatal(err)
		}
	}

	dir := filepath.Join(dataDir, "snapshots")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	h.snap = filepath.Join(dir, "org.json")
	h.writeSnapshot(0)
	if _, err := svc.Sources.Add(ctx, source.Input{Name: "org", Kind: source.KindSnapshot, Settings: source.Settings{File: h.snap}, Schedule: -1}); err != nil {
		t.Fatal(err)
	}

	u, err := svc.Auth.CreateUser(ctx, "crash", auth.RoleSuperAdmin, "a long passphrase for the crash harness")
	if err != nil {
		t.Fatal(err)
	}
	if _, h.apiKey, err = svc.Auth.CreateToken(ctx, u.ID, "crash harness", 0); err != nil {
		t.Fatal(err)
	}
}

// seedOf is the organization round r reads.
func seedOf(r int64) int64 { return 1 + r%seedsInTurn }

// expected is the findings of the organization of seed.
func (h *crashHarness) expected(seed int64) synth.Expected {
	if e, ok := h.expect[seed]; ok {
		return e
	}
	_, e := synth.Generate(h.people, seed, h.now)
	h.expect[seed] = e
	return e
}

// writeSnapshot replaces the snapshot file with round r's organization,
// at once: a scan reads the old file or the new one, never a mix.
func (h *crashHarness) writeSnapshot(r int64) {
	t := h.t
	tmp := h.snap + ".new"
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteSnapshot(f, h.people, seedOf(r), h.now); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, h.snap); err != nil {
		t.Fatal(err)
	}
}

// runRound makes round r: the next snapshot, a scan of it, and, when kill
// names a point, a kill -9 there and a restart. It returns once a scan
// that started after the snapshot was written has ended well, and checks
// that the issues are then exactly those of the snapshot.
func (h *crashHarness) runRound(r int64, kill string) {
	t := h.t
	if r > 0 {
		h.round.Store(r)
		h.writeSnapshot(r)
	}
	written := time.Now()
	h.startScan()
	if kill != "" {
		h.killAt(r, kill, written)
		h.srv.start()
		// A scan asked for after the kill runs too: it is a duplicate of
		// the interrupted one, queued again, or one of its own.
		h.startScan()
	}
	h.waitForScan(r, written)
	if s := h.scanAfter(written); s != nil {
		t.Logf("round %d: the scan started %s after the snapshot was written and took %s", r,
			s.StartedAt.Sub(written).Round(time.Millisecond), s.FinishedAt.Sub(s.StartedAt).Round(time.Millisecond))
	}

	// The issues are now exactly those of the snapshot.
	want := maps.Clone(h.expected(seedOf(r)))
	for _, is := range h.issues() {
		_, open := want[is.key]
		if wantStatus := map[bool]string{true: "open", false: "resolved"}[open]; is.status != wantStatus {
			t.Errorf("round %d: issue %s (%s, %s) is %s; the snapshot of seed %d makes it %s",
				r, is.id, is.key.Title, is.key.Entity, is.status, seedOf(r), wantStatus)
		}
		delete(want, is.key)
	}
	if len(want) > 0 {
		t.Errorf("round %d: %d findings of the snapshot have no issue, e.g. %v", r, len(want), want.Keys()[0])
	}
}

// waitForScan waits until a scan that started after written ended well.
// While none runs it asks for one again every few seconds: a request made
// while an earlier scan's job was still running, or finishing, is answered
// by that job as its duplicate (as documented for POST /api/v1/scans), and
// that scan may have read the previous snapshot. A scan that ended
// otherwise is logged: it is the one a kill interrupted, which the server
// queues again itself, or one that failed on its own (a database timeout
// on an overloaded machine), which loses nothing.
func (h *crashHarness) waitForScan(r int64, written time.Time) {
	t := h.t
	reported := map[string]bool{}
	deadline := time.Now().Add(3 * time.Minute)
	asked := time.Now()
	for h.scanAfter(written) == nil {
		scans, err := h.st.PostureScans(h.ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		running := false
		for _, s := range scans {
			if !s.StartedAt.After(written) {
				continue
			}
			running = running || s.Status == source.ScanRunning
			if s.Status != source.ScanRunning && s.Status != source.ScanOK && !reported[s.ID] {
				reported[s.ID] = true
				t.Logf("round %d: scan %s ended %s: %s", r, s.ID, s.Status, s.Error)
				h.failedScans++
			}
		}
		if !running && time.Since(asked) > 3*time.Second {
			h.startScan()
			asked = time.Now()
		}
		if time.Now().After(deadline) {
			var jobs []string
			rows, err := h.st.DB().QueryContext(h.ctx, `SELECT id, state FROM river_job WHERE kind = 'posture_scan' ORDER BY id`)
			if err == nil {
				for rows.Next() {
					var id int64
					var state string
					rows.Scan(&id, &state)
					jobs = append(jobs, fmt.Sprintf("%d:%s", id, state))
				}
				rows.Close()
			}
			t.Fatalf("gave up waiting for round %d's scan to end well; scan jobs %v; server log:\n%s", r, jobs, h.srv.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killAt kills the server at the point named, after a random delay within
// it, and records what was in flight.
func (h *crashHarness) killAt(r int64, point string, written time.Time) {
	pause := func(maxMs int) { time.Sleep(time.Duration(h.rng.IntN(maxMs+1)) * time.Millisecond) }
	deadline := time.Now().Add(30 * time.Second)
	switch point {
	case killDuringScan:
		for !h.scanRunning() && !h.scanDone(written) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		pause(20)
	case killDuringDeliveries:
		for !h.scanDone(written) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		for h.pendingDeliveries() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		pause(50)
	case killDuringExecutions:
		start := h.load.count()
		n := 5 + h.rng.IntN(50)
		h.srv.waitUntil("more accepted executions", func() bool { return h.load.count() >= start+n })
	}
	h.srv.kill()
	h.killLog = append(h.killLog, fmt.Sprintf("round %d, kill during %s: %d scans running, %d deliveries pending, %d executions unfinished",
		r, point, h.count(`SELECT COUNT(*) FROM vigil_posture_scan WHERE status = 'running'`), h.pendingDeliveries(),
		h.count(`SELECT COUNT(*) FROM vigil_flow_execution WHERE ended_at IS NULL`)))
}

// api calls the JSON API with the harness's token and decodes the answer
// into out; it returns the status, 0 when the server did not answer.
func (h *crashHarness) api(method, path string, body, out any) int {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(h.ctx, method, h.srv.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+h.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return 0
		}
	}
	return resp.StatusCode
}

// startScan asks for a scan of every source, as "Scan now" does.
func (h *crashHarness) startScan() {
	h.srv.waitUntil("a scan to be queued", func() bool {
		return h.api(http.MethodPost, "/api/v1/scans", map[string]any{}, nil) == http.StatusAccepted
	})
}

// scanDone reports whether a scan that started after since ended well.
func (h *crashHarness) scanDone(since time.Time) bool { return h.scanAfter(since) != nil }

// scanAfter returns a scan that started after since and ended well, or nil.
func (h *crashHarness) scanAfter(since time.Time) *store.PostureScan {
	scans, err := h.st.PostureScans(h.ctx, 5)
	if err != nil {
		return nil
	}
	for _, s := range scans {
		if s.Status == source.ScanOK && s.StartedAt.After(since) {
			return s
		}
	}
	return nil
}

// scanState describes the scans, their leases and their jobs, for a
// failure.
func (h *crashHarness) scanState() string {
	var out []string
	for _, q := range []string{
		`SELECT id || ' ' || status || ' started ' || CAST(started_at AS TEXT) FROM vigil_posture_scan ORDER BY started_at`,
		`SELECT 'lease ' || scan_id || ' job ' || CAST(job_id AS TEXT) || ' until ' || CAST(leased_until AS TEXT) FROM vigil_posture_scan_lease`,
		`SELECT 'job ' || CAST(id AS TEXT) || ' ' || state || ' attempt ' || CAST(attempt AS TEXT) FROM river_job WHERE kind = 'posture_scan' ORDER BY id`,
	} {
		rows, err := h.st.DB().QueryContext(h.ctx, q)
		if err != nil {
			return err.Error()
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return err.Error()
			}
			out = append(out, line)
		}
		rows.Close()
	}
	return strings.Join(out, "; ")
}

func (h *crashHarness) scanRunning() bool {
	return h.count(`SELECT COUNT(*) FROM vigil_posture_scan WHERE status = 'running'`) > 0
}

func (h *crashHarness) pendingDeliveries() int {
	return h.count(`SELECT COUNT(*) FROM vigil_hook_delivery WHERE status <> 'delivered'`)
}

// undelivered describes the deliveries not yet made, for a failure.
func (h *crashHarness) undelivered() string {
	rows, err := h.st.DB().QueryContext(h.ctx, `SELECT id, status, generation, attempts, last_error FROM vigil_hook_delivery
		WHERE status <> 'delivered' ORDER BY id LIMIT 10`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, status, lastErr string
		var gen, attempts int
		if err := rows.Scan(&id, &status, &gen, &attempts, &lastErr); err != nil {
			return err.Error()
		}
		out = append(out, fmt.Sprintf("%s %s generation %d, %d attempts %q", id, status, gen, attempts, lastErr))
	}
	return fmt.Sprintf("%d left, e.g. %v", h.pendingDeliveries(), out)
}

// count runs a COUNT query on the database.
func (h *crashHarness) count(query string) int {
	h.t.Helper()
	var n int
	if err := h.st.DB().QueryRowContext(h.ctx, query).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// storedIssue is an issue as the database holds it.
type storedIssue struct {
	id, status string
	key        detect.Key
}

func (h *crashHarness) issues() []storedIssue {
	rows, err := h.st.DB().QueryContext(h.ctx, `SELECT id, status, title, entity_key FROM vigil_posture_issue`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []storedIssue
	for rows.Next() {
		var is storedIssue
		if err := rows.Scan(&is.id, &is.status, &is.key.Title, &is.key.Entity); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, is)
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// watchIssues lists every issue through the API, page by page, until ctx
// ends, and records each status seen with the rounds it was seen in.
func (h *crashHarness) watchIssues(ctx context.Context) {
	for ctx.Err() == nil {
		from := h.round.Load()
		var sights []issueSight
		cursor, ok := "", true
		for ok {
			var page struct {
				Issues []event.Issue `json:"issues"`
				Next   string        `json:"next"`
			}
			q := url.Values{"status": {"open", "resolved", "snoozed", "acknowledged", "false_positive"}, "limit": {"500"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			if h.api(http.MethodGet, "/api/v1/issues?"+q.Encode(), nil, &page) != http.StatusOK {
				ok = false // the server is down: start again
				sights = nil
				break
			}
			for _, is := range page.Issues {
				sights = append(sights, issueSight{id: is.ID, status: is.Status})
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		to := h.round.Load()
		h.seenMu.Lock()
		for _, s := range sights {
			s.from, s.to = from, to
			h.seen[s] = true
		}
		h.seenMu.Unlock()
		if ok {
			h.polls.Add(1)
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// checkSightings checks every status the API showed against the snapshot
// sequence: in the rounds a listing spanned, the issue was open where a
// snapshot had its finding, resolved where it did not after one had.
func (h *crashHarness) checkSightings() {
	t := h.t
	keys := map[string]detect.Key{}
	for _, is := range h.issues() {
		keys[is.id] = is.key
	}
	// status returns what the issue of key is once round r's scan ended;
	// "" when no scan so far found it.
	status := func(key detect.Key, r int64) string {
		if r < 0 {
			return ""
		}
		if _, ok := h.expected(seedOf(r))[key]; ok {
			return "open"
		}
		for k := r - 1; k >= 0; k-- {
			if _, ok := h.expected(seedOf(k))[key]; ok {
				return "resolved"
			}
		}
		return ""
	}
	h.seenMu.Lock()
	defer h.seenMu.Unlock()
	if len(h.seen) == 0 {
		t.Fatal("the API never listed an issue; the statuses were not watched")
	}
	for s := range h.seen {
		key, ok := keys[s.id]
		if !ok {
			t.Errorf("the API listed issue %s, which the database does not hold", s.id)
			continue
		}
		var allowed []string
		for r := s.from - 1; r <= s.to; r++ {
			allowed = append(allowed, status(key, r))
		}
		if !slices.Contains(allowed, s.status) {
			t.Errorf("issue %s (%s, %s) was %s between rounds %d and %d; the snapshots allow only %q",
				s.id, key.Title, key.Entity, s.status, s.from, s.to, allowed)
		}
	}
}

// checkScans checks that no scan is left running or holding its lease;
// logs is the server's log, for a failure.
func (h *crashHarness) checkScans(logs string) {
	running := h.count(`SELECT COUNT(*) FROM vigil_posture_scan WHERE status = 'running'`)
	leases := h.count(`SELECT COUNT(*) FROM vigil_posture_scan_lease`)
	if running != 0 || leases != 0 {
		h.t.Errorf("%d scans are left running and %d scan leases left: %s; server log:\n%s", running, leases, h.scanState(), logs)
	}
}

// checkDeliveries checks each event of the outbox against the receivers:
// seen by each integration whose automation matches it, by no other, and
// a delivery row for exactly those. It returns the deliveries and how
// many of them a receiver got more than once.
func (h *crashHarness) checkDeliveries() (deliveries, duplicates int) {
	t := h.t
	hookIDs := map[string]string{} // id → name
	rows, err := h.st.DB().QueryContext(h.ctx, `SELECT id, name FROM vigil_hook`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		hookIDs[id] = name
	}
	rows.Close()
	stored := map[[2]string]bool{} // event id, hook name
	rows, err = h.st.DB().QueryContext(h.ctx, `SELECT event_id, hook_id FROM vigil_hook_delivery`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ev, hook string
		if err := rows.Scan(&ev, &hook); err != nil {
			t.Fatal(err)
		}
		stored[[2]string{ev, hookIDs[hook]}] = true
	}
	rows.Close()

	rows, err = h.st.DB().QueryContext(h.ctx, `SELECT id, type, title FROM vigil_hook_event`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	events := map[string]bool{}
	for rows.Next() {
		var id, typ, title string
		if err := rows.Scan(&id, &typ, &title); err != nil {
			t.Fatal(err)
		}
		events[id] = true
		for _, rc := range []struct {
			name    string
			rcv     *hookReceiver
			matches bool
		}{
			{"all", h.all, true},
			{"some", h.some, h.subset[title] && typ != event.TypeUpdated},
		} {
			n := rc.rcv.times(id)
			switch {
			case rc.matches && n == 0:
				t.Errorf("%s event %s (%s) never reached integration %q", typ, id, title, rc.name)
			case !rc.matches && n > 0:
				t.Errorf("%s event %s (%s) reached integration %q, whose automation does not match it", typ, id, title, rc.name)
			}
			if stored[[2]string{id, rc.name}] != rc.matches {
				t.Errorf("%s event %s (%s): a delivery to %q is stored: %v, want %v", typ, id, title, rc.name, !rc.matches, rc.matches)
			}
			if n > 1 {
				duplicates++
			}
			if rc.matches {
				deliveries++
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, rcv := range []*hookReceiver{h.all, h.some} {
		for _, id := range rcv.ids() {
			if !events[id] {
				t.Errorf("a receiver got webhook-id %s, which is no event of the outbox", id)
			}
		}
	}
	return deliveries, duplicates
}

// orphanQueries count, for each main parent/child relation, the children
// whose parent is missing.
var orphanQueries = []string{
	`SELECT COUNT(*) FROM vigil_flow_step c WHERE NOT EXISTS (SELECT 1 FROM vigil_flow_execution p WHERE p.id = c.execution_id)`,
	`SELECT COUNT(*) FROM vigil_flow_execution c WHERE NOT EXISTS (SELECT 1 FROM vigil_flow p WHERE p.id = c.flow_id)`,
	`SELECT COUNT(*) FROM vigil_hook_delivery c WHERE NOT EXISTS (SELECT 1 FROM vigil_hook_event p WHERE p.id = c.event_id)`,
	`SELECT COUNT(*) FROM vigil_hook_delivery c WHERE NOT EXISTS (SELECT 1 FROM vigil_hook p WHERE p.id = c.hook_id)`,
	`SELECT COUNT(*) FROM vigil_hook_attempt c WHERE NOT EXISTS (SELECT 1 FROM vigil_hook_delivery p WHERE p.id = c.delivery_id)`,
	`SELECT COUNT(*) FROM vigil_hook_event c WHERE NOT EXISTS (SELECT 1 FROM vigil_posture_issue p WHERE p.id = c.issue_id)`,
	`SELECT COUNT(*) FROM vigil_posture_issue_history c WHERE NOT EXISTS (SELECT 1 FROM vigil_posture_issue p WHERE p.id = c.issue_id)`,
}

// checkIntegrity checks the database once the server has stopped.
func (h *crashHarness) checkIntegrity() {
	t := h.t
	if h.st.Dialect() == store.SQLite {
		var res string
		if err := h.st.DB().QueryRowContext(h.ctx, `PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
			t.Errorf("PRAGMA integrity_check: %q, %v", res, err)
		}
		rows, err := h.st.DB().QueryContext(h.ctx, `PRAGMA foreign_key_check`)
		if err != nil {
			t.Fatal(err)
		}
		if rows.Next() {
			t.Error("PRAGMA foreign_key_check found rows whose parent is missing")
		}
		rows.Close()
	}
	for _, q := range orphanQueries {
		if n := h.count(q); n != 0 {
			t.Errorf("%d orphans: %s", n, q)
		}
	}
}

// hookReceiver is an integration's receiver: it answers 200 and counts
// the requests of each webhook-id.
type hookReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

func newHookReceiver() *hookReceiver {
	rc := &hookReceiver{seen: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(time.Millisecond)
		rc.mu.Lock()
		rc.seen[r.Header.Get(signature.HeaderID)]++
		rc.mu.Unlock()
		io.WriteString(w, `{}`)
	}))
	return rc
}

func (rc *hookReceiver) times(id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.seen[id]
}

func (rc *hookReceiver) ids() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Collect(maps.Keys(rc.seen))
}
