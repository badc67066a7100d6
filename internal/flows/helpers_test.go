package flows

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/queue/queuetest"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
)

// loopback is the allowlist tests' local servers need.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// testBundle is a Service with a running queue over one database.
type testBundle struct {
	ctx    context.Context
	st     *store.Store
	svc    *Service
	folder *Folder
}

// setup returns a service whose executions run on a started queue, with
// a folder called "Test". cfg's zero fields get test defaults.
func setup(t testing.TB, st *store.Store, cfg Config) *testBundle {
	t.Helper()
	ctx := context.Background()
	box := secrettest.Box(t)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = netguard.NewClient(netguard.Config{Allow: loopback})
	}
	svc := New(st, box, cfg)
	workers := river.NewWorkers()
	svc.Register(workers)
	q, err := queue.New(st, queue.Config{Workers: workers, FetchPollInterval: 10 * time.Millisecond,
		Queues: map[string]int{river.QueueDefault: 4}})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(q)
	queuetest.Start(t, q)
	f, err := svc.CreateFolder(ctx, "Test", "")
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{ctx: ctx, st: st, svc: svc, folder: f}
}

// save saves doc in the bundle's folder and fails the test on error.
func (b *testBundle) save(t testing.TB, doc string) *Flow {
	t.Helper()
	res, err := b.svc.SaveFlow(b.ctx, SaveParams{FolderID: b.folder.ID, Document: []byte(doc)})
	if err != nil {
		t.Fatalf("save flow: %v", err)
	}
	return res.Flow
}

// saveOn saves doc and turns the flow on.
func (b *testBundle) saveOn(t testing.TB, doc string) *Flow {
	t.Helper()
	f := b.save(t, doc)
	f, err := b.svc.SetOn(b.ctx, f.ID, true)
	if err != nil {
		t.Fatalf("turn on: %v", err)
	}
	return f
}

// run starts an execution of flowID and waits for it to end.
func (b *testBundle) run(t testing.TB, flowID string, input any, opts StartOptions) *Execution {
	t.Helper()
	execID, err := b.svc.Start(b.ctx, flowID, input, opts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	e, err := b.svc.Wait(ctx, execID)
	if err != nil {
		t.Fatalf("wait for %s: %v", execID, err)
	}
	return e
}

// flowDoc builds a flow document with the given name, metadata lines
// (indented under document) and task list.
func flowDoc(name, meta, tasks string) string {
	var b strings.Builder
	b.WriteString("document:\n  dsl: '1.0.0'\n  namespace: test\n  name: " + name + "\n  version: '1.0.0'\n")
	if meta != "" {
		b.WriteString(meta)
		if !strings.HasSuffix(meta, "\n") {
			b.WriteString("\n")
		}
	}
	b.WriteString(tasks)
	return b.String()
}
