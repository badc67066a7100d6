// Package consoletest runs the web console over a test world: real auth,
// issue and hooks services (with a River queue) on a fresh database, the
// real invoke handler, and in-memory workflows and sources, all behind one
// loopback HTTP server. Handler tests, the browser walk and the timing test
// use it; the browser walk can also be pointed at a fully wired server.
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
	// NoQueue leaves hook deliveries unsent (no River workers), for tests
	// that fill the database in bulk.
	NoQueue bool
	// Real wires the real flows, templates, connections and sources
	// services (with their River workers) in place of the in-memory ones,
	// through the console's adapters.
	Real bool
	// Logger receives the services' and console's logs. Default: discard.
	Logger *slog.Logger
	// Services, when set, may replace parts of the world's services before
	// the console is built.
	Services func(*console.Services)
	// Functions, when set, may register more functions on the real flows
	// service's catalog (Real only), after the connectors'.
	Functions func(*catalog.Catalog)
}

// World is a running console with its services.
type World struct {
	Store  *store.Store
	Box    *secret.Box
	Auth   *auth.Service
	Issues *issue.Service
	Hooks  *hooks.Service
	// Workflows and Sources are the in-memory services (nil when Real).
	Workflows *Workflows
	Sources   *Sources
	// Flows, Connections and SourceService are the real services (nil
	// unless Real).
	Flows         *flows.Service
	Connections   *connection.Service
	SourceService *source.Service
	Endpoints     *invoke.Endpoints
	// Alerts sends the failure notifications (nil unless Real).
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
	var invokeFlows invoke.Flows
	workers := river.NewWorkers()
	w.Hooks.Register(workers)
	if opts.Real {
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
		svc.Alerts = console.AlertService{Service: w.Alerts}
		w.SourceService = source.New(st, box, w.Issues, source.Config{HTTPClient: client, Allow: loopback, Resolver: netguardtest.Resolver{}, FileDir: os.TempDir(), Logger: logger})
		source.Register(workers, w.SourceService)
		templates, err := template.Load()
		if err != nil {
			t.Fatal(err)
		}
		fs := console.FlowService{Service: w.Flows}
		svc.Flows, svc.Tables = fs, fs
		svc.Templates = console.TemplateService{Catalog: templates, Flows: w.Flows}
		svc.Connections = console.ConnectionService{Service: w.Connections}
		svc.Sources = console.NewSourceService(w.SourceService)
		svc.Approvals = w.Flows
		invokeFlows = w.Flows.Invoke()
	} else {
		w.Workflows = NewWorkflows(st, now)
		w.Sources = NewSources(st, w.Issues, now)
		t.Cleanup(w.Sources.Wait)
		svc.Flows, svc.Tables, svc.Templates, svc.Connections = w.Workflows, w.Workflows, w.Workflows, w.Workflows
		svc.Sources = w.Sources
		svc.Alerts = NewAlerts(w.Workflows, now)
		invokeFlows = w.Workflows
	}

	if svc.Approvals == nil {
		// The in-memory workflows keep no approval requests; the real
		// service over the same database lists none and decides none.
		svc.Approvals = flows.New(st, box, flows.Config{Logger: logger})
	}

	if !opts.NoQueue {
		q, err := queue.New(st, queue.Config{Workers: workers, FetchPollInterval: 50 * time.Millisecond, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		w.Hooks.SetQueue(q)
		if w.Flows != nil {
			w.Flows.SetQueue(q)
			w.Alerts.SetQueue(q)
			w.SourceService.SetQueue(q)
		}
		queuetest.Start(t, q)
	}

	if opts.Services != nil {
		opts.Services(&svc)
	}
	var err error
	w.Console, err = console.New(console.Config{PublicURL: w.URL, Logger: logger}, svc)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(invoke.Pattern, invoke.NewHandler(invoke.Config{}, st, w.Endpoints, invokeFlows, client, logger))
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
