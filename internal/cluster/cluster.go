// Package cluster knows the nodes of a deployment: each 'vigil serve'
// process registers itself in the database, says it is alive every few
// seconds and leaves when it stops, so that an operator (the console, the
// API, 'vigil cluster status') sees which nodes are alive, what each one
// works and how deep the queue is. On SQLite there is one node; on
// PostgreSQL any number share the work.
package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Role says which work a node takes.
type Role string

const (
	// RoleAll serves HTTP (console, API, invoke URLs) and works jobs. The
	// default, and the only role that makes sense on SQLite.
	RoleAll Role = "all"
	// RoleWeb serves HTTP and runs in-process the executions it starts
	// (up to its worker limit), but works no queued job: deliveries,
	// scans, queued or recovered executions are left to worker nodes.
	RoleWeb Role = "web"
	// RoleWorker works every kind of job and serves only /healthz,
	// /readyz and /metrics.
	RoleWorker Role = "worker"
)

// ParseRole reads a role as the --role flag gives it; "" is RoleAll.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.TrimSpace(strings.ToLower(s))); r {
	case "":
		return RoleAll, nil
	case RoleAll, RoleWeb, RoleWorker:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q; use web, worker or all", s)
}

// Serves says whether the role serves the console, the API and invoke URLs.
func (r Role) Serves() bool { return r != RoleWorker }

// Works says whether the role works queued jobs.
func (r Role) Works() bool { return r != RoleWeb }

// HeartbeatEvery is how often a node says it is alive. A node is stale
// (presumed dead) after StaleAfter without a heartbeat, and its row is
// removed by the next node to start after ForgetAfter.
const (
	HeartbeatEvery = 3 * time.Second
	StaleAfter     = 4 * HeartbeatEvery
	ForgetAfter    = time.Hour
)

// Version is the version of this binary as the Go toolchain recorded it:
// the module version of a release, else the VCS revision, else "devel".
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return "devel"
}

// Config describes the node a Registry registers.
type Config struct {
	// Role is the node's role. Default RoleAll.
	Role Role
	// Addr is the address the node listens on, shown to operators.
	Addr string
	// Running reports what the node works right now. Default: nothing.
	Running func() int
	// Logger receives failed heartbeats. Default: discard.
	Logger *slog.Logger
}

// Registry keeps one node's row alive.
type Registry struct {
	st       *store.Store
	cfg      Config
	node     store.Node
	draining atomic.Bool
}

// NewRegistry returns the registry of a node with a new id; Join
// registers it.
func NewRegistry(st *store.Store, cfg Config) *Registry {
	if cfg.Role == "" {
		cfg.Role = RoleAll
	}
	if cfg.Running == nil {
		cfg.Running = func() int { return 0 }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	now := time.Now().UTC()
	return &Registry{st: st, cfg: cfg, node: store.Node{ID: id.NewAt("node", now), Role: string(cfg.Role), Version: Version(),
		Hostname: host, Addr: cfg.Addr, StartedAt: now}}
}

// ID is the node's id; River records it as the client that worked a job.
func (r *Registry) ID() string { return r.node.ID }

// Join registers the node and forgets nodes that have been dead for
// ForgetAfter.
func (r *Registry) Join(ctx context.Context) error {
	if _, err := r.st.DeleteStaleNodes(ctx, time.Now().Add(-ForgetAfter)); err != nil {
		return fmt.Errorf("cannot forget the nodes that died: %w", err)
	}
	if err := r.beat(ctx); err != nil {
		return fmt.Errorf("cannot register this node: %w", err)
	}
	return nil
}

func (r *Registry) beat(ctx context.Context) error {
	n := r.node
	n.HeartbeatAt = time.Now().UTC()
	n.Running = r.cfg.Running()
	n.Draining = r.draining.Load()
	return r.st.PutNode(ctx, n)
}

// Run says the node is alive every HeartbeatEvery until ctx ends. A
// heartbeat that fails is logged and tried again at the next tick.
func (r *Registry) Run(ctx context.Context) {
	Every(ctx, HeartbeatEvery, func() {
		if err := r.beat(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("cannot renew this node's heartbeat", "node", r.node.ID, "error", err)
		}
	})
}

// Every calls fn every d, the first time after d, until ctx ends: the
// periodic work a node does for as long as it runs, such as its heartbeat
// and the recovery of what dead nodes left.
func Every(ctx context.Context, d time.Duration, fn func()) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fn()
	}
}

// Drain marks the node as stopping, at once, so that operators see it.
func (r *Registry) Drain(ctx context.Context) error {
	r.draining.Store(true)
	return r.beat(ctx)
}

// Leave removes the node's row: it stopped cleanly.
func (r *Registry) Leave(ctx context.Context) error {
	return r.st.DeleteNode(ctx, r.node.ID)
}

// Node is a node as operators see it.
type Node struct {
	ID          string    `json:"id"`
	Role        Role      `json:"role"`
	Version     string    `json:"version"`
	Hostname    string    `json:"hostname"`
	Addr        string    `json:"addr"`
	StartedAt   time.Time `json:"startedAt"`
	HeartbeatAt time.Time `json:"heartbeatAt"`
	// Alive says the node's last heartbeat is recent (within StaleAfter).
	Alive bool `json:"alive"`
	// Draining says the node is stopping and takes no new work.
	Draining bool `json:"draining"`
	// Running is what the node worked at its last heartbeat: executions
	// in-process and jobs.
	Running int `json:"running"`
}

// Status is the deployment as operators see it.
type Status struct {
	Database string `json:"database"`
	Nodes    []Node `json:"nodes"`
	// Alive counts the nodes whose heartbeat is recent.
	Alive int `json:"alive"`
	// QueueDepth counts the jobs waiting to be worked, cluster-wide.
	QueueDepth int `json:"queueDepth"`
}

// Read returns the nodes and the queue depth as of now.
func Read(ctx context.Context, st *store.Store, now time.Time) (Status, error) {
	rows, err := st.Nodes(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("cannot read the nodes: %w", err)
	}
	depth, err := st.QueueDepth(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("cannot read the queue depth: %w", err)
	}
	s := Status{Database: st.Dialect().String(), Nodes: []Node{}, QueueDepth: depth}
	for _, n := range rows {
		alive := now.Sub(n.HeartbeatAt) < StaleAfter
		if alive {
			s.Alive++
		}
		s.Nodes = append(s.Nodes, Node{ID: n.ID, Role: Role(n.Role), Version: n.Version, Hostname: n.Hostname, Addr: n.Addr,
			StartedAt: n.StartedAt, HeartbeatAt: n.HeartbeatAt, Alive: alive, Draining: n.Draining, Running: n.Running})
	}
	return s, nil
}

// RescueJobs hands back to the queue the jobs of nodes whose heartbeat
// stopped StaleAfter ago (they died without draining), so that the other
// nodes take them over within seconds rather than after River's stuck-job
// timeout. Every node runs it with its other recoveries.
func RescueJobs(ctx context.Context, st *store.Store) (int64, error) {
	n, err := st.RescueJobsOfDeadNodes(ctx, time.Now().Add(-StaleAfter))
	if err != nil {
		return 0, fmt.Errorf("cannot hand back the jobs of dead nodes: %w", err)
	}
	return n, nil
}
