package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/time/rate"

	"github.com/vigil-ispm/vigil/internal/api"
	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/cluster"
	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/settings"
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
	// node registers this process in the cluster; jobs counts the jobs
	// it works now.
	node *cluster.Registry
	jobs *jobMetrics
	// draining is set when the server starts stopping: /readyz then
	// answers 503 so that load balancers send it nothing new.
	draining atomic.Bool
	// stopBeat ends the node's heartbeat once the drain is over: the
	// jobs that run on through the drain are this live node's, not for
	// other nodes to take over as a dead one's.
	stopBeat func()
	// nodeLock is the PostgreSQL node lock that tells other nodes this
	// one lives; nil on SQLite.
	nodeLock *store.NodeLock
	// table lists every route the server serves (Routes).
	table *auth.RouteTable
}

// NewServer prepares (but does not start) the server: it takes the data
// directory lock on SQLite (the node lock on PostgreSQL), registers every job kind and binds the listener,
// so that "address in use" is reported before anything starts.
func (a *App) NewServer(ctx context.Context) (*Server, error) {
	s := &Server{app: a, release: func() {}, stopBeat: func() {}}
	if a.Store.Dialect() == store.SQLite && a.Config.Role != cluster.RoleAll {
		return nil, fmt.Errorf("--role %s needs PostgreSQL, where other nodes take the rest of the work; on SQLite one node does everything (--role all)", a.Config.Role)
	}
	if a.Store.Dialect() == store.SQLite {
		release, err := lockDataDir(a.Config.DataDir)
		if err != nil {
			return nil, err
		}
		s.release = release
	} else {
		// Taken before any work starts, so that every lease this node
		// takes names it, and a lease left by this node's previous
		// process (whose lock died with it) is recovered at once.
		node, err := a.Store.HoldNodeLock(ctx)
		if err != nil {
			return nil, err
		}
		s.nodeLock = node
		s.release = func() { node.Release(context.Background()) }
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
	s.jobs = newJobMetrics(a.Metrics)
	s.node = cluster.NewRegistry(a.Store, cluster.Config{Role: a.Config.Role, Addr: ln.Addr().String(),
		Running: func() int { return svc.Flows.LocalRunning() + int(s.jobs.running.Load()) },
		Logger:  a.Logger.With("component", "cluster")})
	if !a.Config.Role.Works() {
		// A web node only inserts jobs; worker nodes work them and elect
		// the leader that schedules the periodic ones, once cluster-wide.
		workers, periodic = nil, nil
	}
	q, err := queue.New(a.Store, queue.Config{
		ID:           s.node.ID(),
		Workers:      workers,
		PeriodicJobs: periodic,
		Logger:       a.quiet.With("component", "queue"),
		Middleware:   []rivertype.Middleware{s.jobs},
		// Executions start in-process on the node that accepts them; jobs
		// (deliveries, overflow, recovery) wake the workers through River's
		// insert notifications on both databases, so the poll is only a
		// fallback and an idle server stays idle.
		FetchPollInterval: time.Second,
		FetchCooldown:     5 * time.Millisecond,
		// When the server's context ends the workers stop taking jobs at
		// once, but the running ones have the drain's grace to finish.
		SoftStop: drainGrace,
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

// NodeID is the id this server's node is registered under, which is also
// its job queue client's.
func (s *Server) NodeID() string { return s.node.ID() }

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
	defer func() { s.stopBeat() }() // start replaces it
	if err := s.start(ctx); err != nil {
		if ctx.Err() != nil {
			// Stopped while starting (a signal during a slow start): what
			// started is stopped as on any stop, and the node leaves the
			// cluster instead of staying listed until it goes stale.
			return s.drain(ctx, nil)
		}
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	s.app.Logger.Info("vigil is serving", "addr", s.Addr(), "public_url", s.app.Config.PublicURL,
		"database", s.app.Store.Dialect().String(), "node", s.node.ID(), "role", string(s.app.Config.Role))
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	return s.drain(ctx, serveErr)
}

// drainGrace is how long a stopping node lets running work finish before
// handing it back: executions stop at their next task boundary and are
// queued again, jobs are cancelled and retried by another node. The
// in-process pools and the job queue's workers (River's soft stop, from
// the moment the server's context ends) have it alike.
const drainGrace = 20 * time.Second

// drain stops the node: it takes no new work (/readyz answers 503, the
// listener closes, no job or in-process execution starts), lets what runs
// finish within drainGrace or hands it back, and leaves the cluster.
func (s *Server) drain(ctx context.Context, serveErr error) error {
	log := s.app.Logger
	log.Info("shutting down: draining", "node", s.node.ID(), "grace", drainGrace)
	s.draining.Store(true)
	bg := context.WithoutCancel(ctx)
	if err := s.node.Drain(bg); err != nil {
		log.Warn("cannot mark this node as draining", "error", err)
	}
	sctx, cancel := context.WithTimeout(bg, drainGrace)
	defer cancel()
	herr := s.http.Shutdown(sctx)
	lerr := s.svc.Flows.StopLocal(sctx)
	herr = errors.Join(herr, s.svc.Hooks.StopLocal(sctx))
	qerr := s.queue.Stop(sctx)
	s.stopBeat()
	lctx, lcancel := context.WithTimeout(bg, 5*time.Second)
	defer lcancel()
	if err := s.node.Leave(lctx); err != nil {
		log.Warn("cannot remove this node from the cluster; it shows as stale until forgotten", "error", err)
	}
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
	// every scan a job was running, every delivery and execution a worker
	// held and every job marked running died with the previous process
	// (before the workers start, so none of this process's work is
	// running yet): all of it is queued again now, not when a lease or a
	// timeout runs out.
	exclusive := s.app.Store.Dialect() == store.SQLite
	if _, err := s.svc.Sources.Recover(ctx, exclusive); err != nil {
		log.Error("cannot recover interrupted scans; the periodic schedule will try again", "error", err)
	}
	if _, err := s.svc.Hooks.RecoverAtStart(ctx, exclusive); err != nil {
		log.Error("cannot recover interrupted deliveries; the periodic maintenance will try again", "error", err)
	}
	if n, err := s.svc.Flows.RecoverAtStart(ctx, exclusive); err != nil {
		log.Error("cannot recover interrupted executions; the periodic recovery will try again", "error", err)
	} else if n > 0 {
		log.Info("queued interrupted executions again", "executions", n)
	}
	if exclusive {
		// What the recoveries above did not queue anew (an execution
		// whose job died before its worker claimed it, a periodic job)
		// River would hold as running until its stuck-job timeout.
		if n, err := s.app.Store.RescueRunningJobs(ctx); err != nil {
			log.Error("cannot hand back the jobs the previous process was running", "error", err)
		} else if n > 0 {
			log.Info("handed back the jobs the previous process was running", "jobs", n)
		}
	} else if n, err := cluster.RescueJobs(ctx, s.app.Store); err != nil {
		log.Error("cannot hand back the jobs of dead nodes; the periodic recovery will try again", "error", err)
	} else if n > 0 {
		log.Info("handed back the jobs of dead nodes", "jobs", n)
	}
	if err := s.nodeLock.OwnJobs(ctx, s.node.ID()); err != nil {
		return err
	}
	if err := s.node.Join(ctx); err != nil {
		return err
	}
	beat, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beaten := make(chan struct{})
	go func() {
		defer close(beaten)
		s.node.Run(beat)
	}()
	// It returns once the last beat is written, so that no beat in flight
	// lists the node again after Leave removed it.
	s.stopBeat = func() {
		stopBeat()
		<-beaten
	}
	if s.app.Config.Role.Works() {
		if err := s.queue.Start(ctx); err != nil {
			return fmt.Errorf("cannot start the job workers: %w", err)
		}
	}
	s.svc.Flows.RunLocally(s.app.Config.Workers)
	if err := s.svc.Flows.FollowCancels(ctx); err != nil {
		log.Error("cannot hear of cancels made on other nodes; an execution cancelled there stops here at its next lease renewal", "error", err)
	}
	// Deliveries start in-process as soon as their outbox commits. A
	// quarter of the execution slots: a delivery to this server's own
	// invoke URL becomes an execution, and more deliveries in flight than
	// executions can start only queue them up in the flows.
	s.svc.Hooks.RunLocally(max(1, s.app.Config.Workers/4))
	go s.recoverLoop(ctx)
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
	mux := auth.NewRouteTable()
	s.table = mux
	mux.Handle("GET /healthz", auth.OpenFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	mux.Handle("GET /readyz", auth.OpenFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.Store.Ping(ctx); err != nil {
			httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
			return
		}
		if ok, err := a.Store.Migrated(ctx); err != nil || !ok {
			httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "migrations pending"})
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ready"})
	}))
	mux.Handle("GET /metrics", auth.WithOwnCredential(metricsGuard(a.Config.MetricsToken, promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{}))))
	if !a.Config.Role.Serves() {
		// A worker node serves only its health and metrics.
		return newHTTPMetrics(a.Metrics).wrap(mux.ServeMux, mux.ServeMux), nil
	}

	// The JSON API: its handlers check the caller Authenticate resolved.
	// The API and the console keep Admin → Settings in one place.
	saved := settings.NewService(a.Store.Queries, a.Config.Now, settings.Values{PublicURL: a.Config.PublicURL})
	svc.Auth.Register(mux)
	svc.Hooks.RegisterAPI(mux, auth.GuardMethods(auth.PermViewHooks, auth.PermManageHooks))
	api.New(api.Config{Logger: a.Logger.With("component", "api"), Now: a.Config.Now, PublicURL: a.Config.PublicURL,
		PublicURLSetting: a.PublicURLNow},
		api.Services{Issues: svc.Issues, Sources: svc.Sources, Flows: svc.Flows, Templates: svc.Templates,
			Connections: svc.Connections, Endpoints: svc.Endpoints, Queue: s.queue, Settings: apiSettings{saved},
			Identities: identity.New(a.Store, a.Config.Now), Cluster: a.ClusterStatus,
			Audit: audit.NewLog(a.Store.Queries)}).Register(mux)

	// Invoke URLs carry their own credentials (client token, OAuth,
	// signature), never a session.
	mux.Handle(invoke.Pattern, auth.WithOwnCredential(invoke.NewHandler(invoke.Config{Now: a.Config.Now, Rate: rate.Limit(a.Config.InvokeRate),
		Burst: a.Config.InvokeBurst, MaxBacklog: a.Config.InvokeMaxBacklog, OAuth: a.Config.InvokeOAuth}, a.Store, svc.Endpoints, svc.Flows.Invoke(),
		a.Outbound, a.Logger.With("component", "invoke"))))
	if a.Config.Pprof {
		registerPprof(mux)
	}

	// The console authenticates each of its requests itself.
	cs := console.Services{
		Auth: svc.Auth, Users: svc.Auth, Issues: svc.Issues, Hooks: svc.Hooks, Endpoints: svc.Endpoints,
		Settings:   saved,
		Health:     a.Store.Queries,
		Identities: identity.New(a.Store, a.Config.Now),
		Cluster:    a.ClusterStatus,
		Audit:      audit.NewLog(a.Store.Queries),
	}
	cs.Adapt(console.Domain{Flows: svc.Flows, Templates: svc.Templates, Connections: svc.Connections, Sources: svc.Sources, Alerts: svc.Alerts})
	c, err := console.New(console.Config{PublicURL: a.Config.PublicURL, PublicURLSetting: a.PublicURLNow, Logger: a.Logger, Now: a.Config.Now, Box: a.Box}, cs)
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
	return cop.Handler(newHTTPMetrics(a.Metrics).wrap(mux.ServeMux, h)), nil
}

// Routes lists every route the server serves, the console's one by one,
// each with a handler whose auth.Requirement says who may call it.
func (s *Server) Routes() []auth.Route {
	var out []auth.Route
	for _, rt := range s.table.Routes() {
		if sub, ok := rt.Handler.(interface{ Routes() []auth.Route }); ok {
			out = append(out, sub.Routes()...)
			continue
		}
		out = append(out, rt)
	}
	return out
}
