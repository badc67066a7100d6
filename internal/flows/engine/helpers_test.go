package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

const docHeader = `document:
  dsl: '1.0.0'
  namespace: test
  name: flow
  version: '1.0.0'
`

// parse reads a flow, adding a document block when the text has none.
func parse(t testing.TB, doc string) *dsl.Workflow {
	t.Helper()
	if !strings.HasPrefix(strings.TrimSpace(doc), "document:") {
		doc = docHeader + doc
	}
	w, err := dsl.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return w
}

// newFakeClock returns the shared fake clock at a fixed instant: it
// advances only when the engine sleeps, so waits and retry backoffs take
// no real time, and it records each wait.
func newFakeClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

// fakeCatalog is a Catalog of test functions that records each call.
type fakeCatalog struct {
	mu    sync.Mutex
	funcs map[string]func(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error)
	calls []fakeCall
}

type fakeCall struct {
	name string
	args map[string]any
}

func newFakeCatalog() *fakeCatalog {
	return &fakeCatalog{funcs: map[string]func(context.Context, map[string]any, *engine.CallEnv) (any, error){}}
}

func (c *fakeCatalog) add(name string, f func(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error)) {
	c.funcs[name] = f
}

func (c *fakeCatalog) Lookup(name string) bool {
	_, ok := c.funcs[name]
	return ok
}

func (c *fakeCatalog) Call(ctx context.Context, name string, args map[string]any, env *engine.CallEnv) (any, error) {
	c.mu.Lock()
	c.calls = append(c.calls, fakeCall{name: name, args: args})
	f := c.funcs[name]
	c.mu.Unlock()
	return f(ctx, args, env)
}

func (c *fakeCatalog) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, call := range c.calls {
		if call.name == name {
			n++
		}
	}
	return n
}

// staticSecrets is a SecretSource backed by a map.
type staticSecrets map[string]any

func (s staticSecrets) Secret(_ context.Context, name string) (any, error) {
	v, ok := s[name]
	if !ok {
		return nil, engine.ErrSecretNotFound
	}
	return v, nil
}

// flowMap resolves helper flows by namespace/name.
type flowMap map[string]*dsl.Workflow

func (m flowMap) Resolve(_ context.Context, ref engine.FlowRef) (*dsl.Workflow, error) {
	w, ok := m[ref.Namespace+"/"+ref.Name]
	if !ok {
		return nil, errors.New("no such flow")
	}
	return w, nil
}

type runResult struct {
	out     any
	fault   *engine.Fault
	err     error
	journal *engine.MemoryJournal
	res     *engine.Result
}

func runFlow(t testing.TB, eng *engine.Engine, w *dsl.Workflow, input any) runResult {
	t.Helper()
	j := engine.NewMemoryJournal()
	res, err := eng.Run(context.Background(), w, input, engine.RunOptions{Journal: j})
	r := runResult{journal: j, res: res}
	if res != nil {
		r.out = res.Output
	}
	if !errors.As(err, &r.fault) {
		r.err = err
	}
	return r
}
