// Package crashtest re-executes a test binary as a small Vigil node that
// works on the parent test's database, so that the test can kill it
// (SIGKILL) mid-work and check what a restarted node recovers. The flows
// and hooks crash tests share it: what differs between them is only the
// work the child does and what the parent checks.
package crashtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/logtest"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// Harness is one test binary's crash child. Prefix starts the names of the
// environment variables that tell the child what to open, so that two
// packages' children never read each other's.
type Harness struct {
	Prefix string
}

func (h Harness) env(name string) string { return h.Prefix + "_" + name }

// Main is the test binary's TestMain. In a child started by Start it opens
// the database and the master key the parent passed and runs child, which
// works until the process is killed and returns only on failure; otherwise
// it runs the tests.
func (h Harness) Main(m *testing.M, child func(ctx context.Context, st *store.Store, box *secret.Box) error) {
	if os.Getenv(h.env("CHILD")) == "" {
		os.Exit(m.Run())
	}
	ctx := context.Background()
	err := func() error {
		st, err := store.Open(ctx, store.Config{URL: os.Getenv(h.env("DB")), Schema: os.Getenv(h.env("SCHEMA"))})
		if err != nil {
			return err
		}
		key, err := base64.StdEncoding.DecodeString(os.Getenv(h.env("KEY")))
		if err != nil {
			return err
		}
		box, err := secret.New(key)
		if err != nil {
			return err
		}
		return child(ctx, st, box)
	}()
	fmt.Fprintln(os.Stderr, "crash child:", err)
	os.Exit(1)
}

// Database returns a migrated database of dialect that a child process can
// open as well (SQLite in a file of the test's temporary directory), and
// its URL.
func Database(t *testing.T, dialect string) (*store.Store, string) {
	t.Helper()
	if dialect == "postgres" {
		return storetest.Postgres(t), storetest.PostgresURL(t)
	}
	ctx := context.Background()
	url := "sqlite://" + filepath.Join(t.TempDir(), "vigil.db")
	st, err := store.Open(ctx, store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st, url
}

// Run is one run of a crash test on one database: the store the
// children open too, the box that seals secrets with the key they are
// given, and Start to start a child.
type Run struct {
	St  *store.Store
	Box *secret.Box
	h   Harness
	url string
	key []byte
}

// Run opens a database of dialect (see Database) and a box for a crash
// test, whose children Run.Start starts.
func (h Harness) Run(t *testing.T, dialect string) *Run {
	t.Helper()
	st, url := Database(t, dialect)
	box, key := secrettest.BoxAndKey(t)
	return &Run{St: st, Box: box, h: h, url: url, key: key}
}

// Start starts a child on the run's database (see Harness.Start).
func (r *Run) Start(t *testing.T) (*exec.Cmd, *logtest.Buffer) {
	t.Helper()
	return r.h.Start(t, r.St, r.url, r.key)
}

// Kill kills a child at once (SIGKILL), as a crash would, and waits for
// it to end.
func Kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // it reports the kill ("signal: killed"), which is the point
}

// Start starts a child on st, whose URL is url, with the master key key. The
// child runs no test; what it writes to stderr is in the buffer returned.
func (h Harness) Start(t *testing.T, st *store.Store, url string, key []byte) (*exec.Cmd, *logtest.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$") //nolint:gosec // G204: the test binary itself, run again as the child
	stderr := &logtest.Buffer{}
	cmd.Stderr = stderr
	cmd.Env = append(os.Environ(), h.env("CHILD")+"=1", h.env("DB")+"="+url, h.env("SCHEMA")+"="+st.Schema(),
		h.env("KEY")+"="+base64.StdEncoding.EncodeToString(key))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stderr
}

// Node is the work of a child: a service whose jobs a queue works, with
// its maintenance run often, so that what a killed child leaves is taken
// over quickly.
type Node struct {
	// Register registers the service's workers.
	Register func(*river.Workers)
	// SetQueue hands the queue to the service before it starts, since
	// the jobs it works insert jobs too.
	SetQueue func(*queue.Queue)
	// Maintain is the service's maintenance (recovering what a dead
	// node left), run every 200 ms.
	Maintain func(context.Context) error
	// Queue configures the queue; its Workers are the service's.
	Queue queue.Config
}

// Run starts the node's queue on st and maintains the service until the
// child is killed; it returns only when the queue cannot start.
func (n Node) Run(ctx context.Context, st *store.Store) error {
	workers := river.NewWorkers()
	n.Register(workers)
	cfg := n.Queue
	cfg.Workers = workers
	q, err := queue.New(st, cfg)
	if err != nil {
		return err
	}
	n.SetQueue(q)
	if err := q.Start(ctx); err != nil {
		return err
	}
	for {
		if err := n.Maintain(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "crash child: maintenance:", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
