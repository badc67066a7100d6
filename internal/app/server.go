package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/time/rate"

	"github.com/vigil-ispm/vigil/internal/api"
	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Server is a running Vigil: HTTP server plus job workers.
type Server struct {
	app      *App
	svc      *Services
	queue    *queue.Queue
	http     *http.Server
	listener net.Listener
	release  func()
}

// NewServer prepares (but does not start) the server: it takes the data
// directory lock on SQLite, registers every job kind and binds the listener,
// so that "address in use" is reported before anything starts.
func (a *App) NewServer(ctx context.Context) (*Server, error) {
	s := &Server{app: a, release: func() {}}
	if a.Store.Dialect() == store.SQLite {
		release, err := lockDataDir(a.Config.DataDir)
		if err != nil {
			return nil, err
		}
		s.release = release
	}
	srv, err := s.prepare(ctx)
	if err != nil {
		s.release()
		if s.listener != nil {
			s.listener.Close()
		}
		return nil, err
	}
	return srv, nil
}

func (s *Server) prepare(ctx context.Context) (*Server, error) {
	a := s.app
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w; choose another address with --addr", a.Config.Addr, unwrapOp(err))
	}
	s.listener = ln
	// With port 0 (tests, a second demo) the default public URL names the
	// port actually bound, so invoke URLs and links work.
	if a.Config.PublicURL == "http://"+a.Config.Addr && ln.Addr().String() != a.Config.Addr {
		a.Config.PublicURL = "http://" + ln.Addr().String()
	}
	if err := a.savePublicURL(ctx); err != nil {
		return nil, err
	}
	svc, err := a.NewServices()
	if err != nil {
		return nil, err
	}
	s.svc = svc
	if oc := a.Config.OIDC; oc.Issuer != "" {
		oc.HTTPClient = a.Outbound
		if err := svc.Auth.EnableOIDC(ctx, oc); err != nil {
			return nil, err
		}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &housekeepingWorker{auth: svc.Auth})
	periodic := append([]*river.PeriodicJob{housekeepingJob()}, svc.Register(workers)...)
	q, err := queue.New(a.Store, queue.Config{
		Workers:      workers,
		PeriodicJobs: periodic,
		Logger:       a.quiet.With("component", "queue"),
		Middleware:   []rivertype.Middleware{newJobMetrics(a.Metrics)},
		// Executions start in-process on the node that accepts them; jobs
		// (deliveries, overflow, recovery) wake the workers through River's
		// insert notifications on both databases, so the poll is only a
		// fallback and an idle server stays idle.
		FetchPollInterval: time.Second,
		FetchCooldown:     5 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	s.queue = q
	svc.SetQueue(q)
	handler, err := s.routes()
	if err != nil {
		return nil, err
	}
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       a.Config.ReadTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
	}
	return s, nil
}

// Close releases what NewServer took, for a server that will not Run.
func (s *Server) Close() error {
	defer s.release()
	return s.listener.Close()
}

// Services are the server's domain services (for the demo and tests,
// which prepare data through them).
func (s *Server) Services() *Services { return s.svc }

// PublicURL is the URL others reach the server at.
func (s *Server) PublicURL() string { return s.app.Config.PublicURL }

func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting connections, lets requests in flight finish, lets running jobs
// finish (or hands them back to the queue after a grace period), and returns
// nil.
func (s *Server) Run(ctx context.Context) error {
	defer s.release()
	if err := s.start(ctx); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	s.app.Logger.Info("vigil is serving", "addr", s.Addr(), "public_url", s.app.Config.PublicURL, "database", s.app.Store.Dialect().String())
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.app.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	herr := s.http.Shutdown(sctx)
	lerr := s.svc.Flows.StopLocal(sctx)
	qerr := s.queue.Stop(sctx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return errors.Join(herr, lerr, qerr)
}

// start brings the background work up: the first administrator when there
// is none (its password is logged once), the job workers, and the recovery
// of what a crash left half done (executions whose worker died, deliveries
// whose job was lost). The periodic jobs do the same later, but run only on
// the elected leader, which after a crash may take a while to be elected.
func (s *Server) start(ctx context.Context) error {
	log := s.app.Logger
	pw, err := s.svc.Auth.Bootstrap(ctx)
	if err != nil {
		return err
	}
	if pw != "" {
		log.Warn("created the first administrator; sign in and change this password now, it is not shown again",
			"user", auth.BootstrapName, "password", pw, "sign_in", s.app.Config.PublicURL+auth.LoginPath)
	}
	// On SQLite the data directory lock makes this the only server, so
	// every scan a job was running and every delivery lease died with the
	// previous process (before the workers start, so none of this
	// process's scans or deliveries is running yet).
	exclusive := s.app.Store.Dialect() == store.SQLite
	if _, err := s.svc.Sources.Recover(ctx, exclusive); err != nil {
		log.Error("cannot recover interrupted scans; the periodic schedule will try again", "error", err)
	}
	if _, err := s.svc.Hooks.RecoverAtStart(ctx, exclusive); err != nil {
		log.Error("cannot recover interrupted deliveries; the periodic maintenance will try again", "error", err)
	}
	if err := s.queue.Start(ctx); err != nil {
		return fmt.Errorf("cannot start the job workers: %w", err)
	}
	s.svc.Flows.RunLocally(s.app.Config.Workers)
	go s.recoverLoop(ctx)
	if n, err := s.svc.Flows.Recover(ctx); err != nil {
		log.Error("cannot recover interrupted executions; the periodic recovery will try again", "error", err)
	} else if n > 0 {
		log.Info("queued interrupted executions again", "executions", n)
	}
	if paused, requeued, err := s.svc.Hooks.Maintain(ctx); err != nil {
		log.Error("cannot recover interrupted deliveries; the periodic maintenance will try again", "error", err)
	} else if paused+requeued > 0 {
		log.Info("hook maintenance at start", "paused", paused, "requeued", requeued)
	}
	return nil
}

// routes is the one place that lists every URL Vigil serves.
func (s *Server) routes() (http.Handler, error) {
	a := s.app
	svc := s.svc
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.Store.Ping(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
			return
		}
		if ok, err := a.Store.Migrated(ctx); err != nil || !ok {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "migrations pending"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", metricsGuard(a.Config.MetricsToken, promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{})))

	// The JSON API: its handlers check the caller Authenticate resolved.
	// The API and the console keep Admin → Settings in one place.
	settings := &console.StoreSettings{Queries: a.Store.Queries, Now: a.Config.Now,
		Defaults: console.SettingsValues{PublicURL: a.Config.PublicURL}}
	svc.Auth.Register(mux)
	svc.Hooks.RegisterAPI(mux, auth.GuardMethods(auth.PermViewHooks, auth.PermManageHooks))
	api.New(api.Config{Logger: a.Logger.With("component", "api"), Now: a.Config.Now, PublicURL: a.Config.PublicURL,
		PublicURLSetting: a.PublicURLNow},
		api.Services{Issues: svc.Issues, Sources: svc.Sources, Flows: svc.Flows, Templates: svc.Templates,
			Connections: svc.Connections, Endpoints: svc.Endpoints, Queue: s.queue, Settings: apiSettings{store: settings},
			Identities: identity.New(a.Store, a.Config.Now), Audit: audit.NewLog(a.Store.Queries)}).Register(mux)

	// Invoke URLs carry their own credentials (client token, OAuth,
	// signature), never a session.
	mux.Handle(invoke.Pattern, invoke.NewHandler(invoke.Config{Now: a.Config.Now, Rate: rate.Limit(a.Config.InvokeRate),
		Burst: a.Config.InvokeBurst, MaxBacklog: a.Config.InvokeMaxBacklog}, a.Store, a.Box, svc.Flows.Invoke(),
		a.Outbound, a.Logger.With("component", "invoke")))
	if a.Config.Pprof {
		registerPprof(mux)
	}

	// The console authenticates each of its requests itself.
	c, err := console.New(console.Config{PublicURL: a.Config.PublicURL, PublicURLSetting: a.PublicURLNow, Logger: a.Logger, Now: a.Config.Now},
		console.Services{
			Auth: svc.Auth, Users: svc.Auth, Issues: svc.Issues, Hooks: svc.Hooks, Endpoints: svc.Endpoints,
			Flows: console.FlowService{Service: svc.Flows}, Tables: console.FlowService{Service: svc.Flows},
			Approvals:   svc.Flows,
			Templates:   console.TemplateService{Catalog: svc.Templates, Flows: svc.Flows},
			Connections: console.ConnectionService{Service: svc.Connections},
			Sources:     console.NewSourceService(svc.Sources, a.Config.Now),
			Settings:    settings,
			Health:      a.Store.Queries,
			Alerts:      console.AlertService{Service: svc.Alerts},
			Identities:  identity.New(a.Store, a.Config.Now),
			Audit:       audit.NewLog(a.Store.Queries),
		})
	if err != nil {
		return nil, fmt.Errorf("build the console: %w", err)
	}
	mux.Handle("/", c)

	cop := http.NewCrossOriginProtection()
	// Invoke URLs are called by other servers with their own credentials
	// (client token, OAuth, signatures), never with a browser session.
	cop.AddInsecureBypassPattern("/api/flo/")
	limited := newAnonymousLimit(a.Config.MaxAnonymous).wrap(mux)
	authed := svc.Auth.Authenticate(limited)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/flo/") {
			limited.ServeHTTP(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	})
	return cop.Handler(newHTTPMetrics(a.Metrics).wrap(mux, h)), nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
