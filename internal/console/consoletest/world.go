// Package consoletest runs the web console over a test world: the real
// services (auth, issues, hooks, sources, flows, connections, templates,
// alerts, with their River workers) on a fresh database, fitted to the
// console as the server fits them, and the real invoke handler, all behind
// one loopback HTTP server. Handler tests, the browser walk and the timing
// test use it; the browser walk can also be pointed at a fully wired server.
package consoletest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/alert"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/netguard/netguardtest"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/queue/queuetest"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/settings"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// Password is the password of every user World makes.
const Password = "correct horse battery staple"

// Users are the user names World makes, by role.
var Users = map[auth.Role]string{
	auth.RoleSuperAdmin:     "admin",
	auth.RoleWorkflowsAdmin: "builder",
	auth.RoleIssueResponder: "responder",
	auth.RoleIssueViewer:    "viewer",
}

// Options tune a World. The zero value runs on SQLite.
type Options struct {
	// Dialect is "sqlite" (default) or "postgres".
	Dialect string
	// Store, when set, is used instead of a fresh one.
	Store *store.Store
	// NoQueue runs no River workers (hook deliveries stay unsent, queued
	// executions and scans unrun), for tests that fill the database in
	// bulk.
	NoQueue bool
	// Logger receives the services' and console's logs. Default: discard.
	Logger *slog.Logger
	// Services, when set, may replace parts of the world's services before
	// the console is built.
	Services func(*console.Services)
	// Functions, when set, may register more functions on the flows
	// service's catalog, after the connectors'.
	Functions func(*catalog.Catalog)
}

// World is a running console with its services.
type World struct {
	Store       *store.Store
	Box         *secret.Box
	Auth        *auth.Service
	Issues      *issue.Service
	Hooks       *hooks.Service
	Flows       *flows.Service
	Connections *connection.Service
	Sources     *source.Service
	Templates   *template.Catalog
	Endpoints   *invoke.Endpoints
	// Alerts sends the failure notifications.
	Alerts  *alert.Service
	Console *console.Console
	Server  *httptest.Server
	// URL is the server's base URL.
	URL string
}

// New starts a World; everything stops when t ends.
func New(t testing.TB, opts Options) *World {
	t.Helper()
	ctx := context.Background()
	st := opts.Store
	if st == nil {
		dialect := opts.Dialect
		if dialect == "" {
			dialect = "sqlite"
		}
		st = storetest.Open(t, dialect)
	}
	box := secrettest.Box(t)
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	w := &World{Store: st, Box: box}

	mux := http.NewServeMux()
	// The listener exists before the server starts, so the services can be
	// told their public URL.
	srv := httptest.NewUnstartedServer(nil)
	w.Server, w.URL = srv, "http://"+srv.Listener.Addr().String()

	w.Auth = auth.New(st, auth.Config{Logger: logger, PublicURL: w.URL,
		Hash: auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	w.Hooks = hooks.New(st, box, hooks.Config{Client: netguard.NewClient(netguard.Config{Allow: loopback}), Allow: loopback,
		PublicURL: w.URL, Logger: logger, Schedule: []time.Duration{50 * time.Millisecond}})
	w.Issues = issue.New(st, w.Hooks, issue.Config{PublicURL: w.URL, Logger: logger})
	w.Endpoints = invoke.NewEndpoints(st, box, now)
	client := netguard.NewClient(netguard.Config{Allow: loopback})
	svc := console.Services{
		Auth: w.Auth, Users: w.Auth, Issues: w.Issues, Hooks: w.Hooks, Endpoints: w.Endpoints,
		Settings:   settings.NewService(st.Queries, nil, settings.Values{PublicURL: w.URL}),
		Health:     st.Queries,
		Identities: identity.New(st, now),
		Audit:      audit.NewLog(st.Queries),
	}
	workers := river.NewWorkers()
	w.Hooks.Register(workers)
	w.Connections = connection.New(st, box, connection.Config{Client: client, Allow: loopback, Logger: logger})
	cat := catalog.New()
	if err := connector.New(connector.Config{Connections: w.Connections, Client: client}).Register(cat); err != nil {
		t.Fatal(err)
	}
	if opts.Functions != nil {
		opts.Functions(cat)
	}
	w.Flows = flows.New(st, box, flows.Config{Catalog: cat, Checker: connector.Checker{Connections: w.Connections},
		HTTPClient: client, Logger: logger})
	w.Flows.Register(workers)
	w.Alerts = alert.New(st, alert.Config{Connections: w.Connections, PublicURL: w.URL, Logger: logger,
		Caller: connector.New(connector.Config{Connections: w.Connections, Client: client})})
	w.Flows.WatchFaults(w.Alerts)
	w.Alerts.Register(workers)
	w.Sources = source.New(st, box, w.Issues, source.Config{HTTPClient: client, Allow: loopback, Resolver: netguardtest.Resolver{},
		FileDir: os.TempDir(), Logger: logger})
	source.Register(workers, w.Sources)
	var err error
	if w.Templates, err = template.Load(); err != nil {
		t.Fatal(err)
	}
	svc.Adapt(console.Domain{Flows: w.Flows, Templates: w.Templates, Connections: w.Connections, Sources: w.Sources, Alerts: w.Alerts})

	if !opts.NoQueue {
		q, err := queue.New(st, queue.Config{Workers: workers, FetchPollInterval: 50 * time.Millisecond, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		w.Hooks.SetQueue(q)
		w.Flows.SetQueue(q)
		w.Alerts.SetQueue(q)
		w.Sources.SetQueue(q)
		queuetest.Start(t, q)
	}

	if opts.Services != nil {
		opts.Services(&svc)
	}
	w.Console, err = console.New(console.Config{PublicURL: w.URL, Logger: logger}, svc)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(invoke.Pattern, invoke.NewHandler(invoke.Config{}, st, w.Endpoints, w.Flows.Invoke(), client, logger))
	mux.Handle("/", w.Console)
	cop := http.NewCrossOriginProtection()
	cop.AddInsecureBypassPattern("/api/flo/")
	srv.Config.Handler = cop.Handler(mux)
	srv.Start()
	t.Cleanup(srv.Close)

	for role, name := range Users {
		if _, err := w.Auth.CreateUser(ctx, name, role, Password); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// Client returns an HTTP client signed in as the user of role. It does not
// follow redirects, so tests see the 303 of every POST.
func (w *World) Client(t testing.TB, role auth.Role) *http.Client {
	t.Helper()
	return w.SignIn(t, Users[role], Password)
}

// SignIn returns a client signed in as the user name, which keeps its
// cookies and does not follow redirects.
func (w *World) SignIn(t testing.TB, name, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"username": {name}, "password": {password}}
	resp, err := c.Post(w.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d", name, resp.StatusCode)
	}
	return c
}

// FlowByTitle returns the id of the flow titled title, failing t when there
// is none.
func (w *World) FlowByTitle(t testing.TB, title string) string {
	t.Helper()
	list, err := w.Flows.Flows(context.Background(), flows.ListFlowsParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range list {
		if f.Title == title {
			return f.ID
		}
	}
	t.Fatalf("no flow %s", title)
	return ""
}

// ScanSynthetic writes a synthetic organization of people people (made
// from seed) as a snapshot file, adds it as the source name and scans
// every source to the end, so that its issues are open when it returns.
func (w *World) ScanSynthetic(t testing.TB, name string, people int, seed int64) *source.ScanResult {
	t.Helper()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), name+".json")
	if err := synth.WriteSnapshotFile(file, people, seed, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Sources.Add(ctx, source.Input{Name: name, Kind: source.KindSnapshot, Settings: source.Settings{File: file}}); err != nil {
		t.Fatal(err)
	}
	res, err := w.Sources.Scan(ctx, source.ScanOptions{Trigger: source.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
