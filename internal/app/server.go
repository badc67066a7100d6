package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Server is a running Vigil: HTTP server plus job workers.
type Server struct {
	app      *App
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
	workers := river.NewWorkers()
	river.AddWorker(workers, &housekeepingWorker{store: a.Store, now: a.Config.Now})
	periodic := []*river.PeriodicJob{housekeepingJob()}
	q, err := queue.New(a.Store, queue.Config{
		Workers:      workers,
		PeriodicJobs: periodic,
		Logger:       a.Logger.With("component", "queue"),
		Middleware:   []rivertype.Middleware{newJobMetrics(a.Metrics)},
	})
	if err != nil {
		s.release()
		return nil, err
	}
	s.queue = q
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		s.release()
		return nil, fmt.Errorf("cannot listen on %s: %w; choose another address with --addr", a.Config.Addr, unwrapOp(err))
	}
	s.listener = ln
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          nil,
	}
	return s, nil
}

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
	if err := s.queue.Start(ctx); err != nil {
		return fmt.Errorf("cannot start the job workers: %w", err)
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
	qerr := s.queue.Stop(sctx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return errors.Join(herr, qerr)
}

// routes is the one place that lists every URL Vigil serves.
func (s *Server) routes() http.Handler {
	a := s.app
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
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{}))

	cop := http.NewCrossOriginProtection()
	// Invoke URLs are called by other servers with their own credentials
	// (client token, OAuth, signatures), never with a browser session.
	cop.AddInsecureBypassPattern("/api/flo/")
	return cop.Handler(newHTTPMetrics(a.Metrics).wrap(mux))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
