package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestRunStandalone(t *testing.T) {
	ctx := context.Background()
	helpers, err := ParseSource([]byte(`vigilBundle: 1
tables:
  - name: Log
    columns: [{name: N, type: number}, {name: Note, type: text}]
flows:
  - document: {dsl: '1.0.0', namespace: test, name: log, version: '1.0.0'}
    do:
      - add: {call: tables.createRow, with: {table: Log, row: {N: '${ .n }'}}}
`), "helpers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tables := catalog.NewMemoryTables(nil)
	doc := flowDoc("main", "", `do:
  - spawn:
      run:
        workflow: {namespace: test, name: log, version: '1.0.0', input: {n: '${ .n }'}}
        await: false
  - wait:
      run:
        workflow: {namespace: test, name: log, version: latest, input: {n: '${ .n + 1 }'}}
  - out: {set: {n: '${ .N }'}}
`)
	res, err := RunStandalone(ctx, []byte(doc), map[string]any{"n": 1}, StandaloneConfig{Helpers: helpers, Tables: tables})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Output) != "map[n:2]" || len(res.Children) != 1 || res.Children[0].Fault != nil {
		t.Errorf("result = %v, children %+v", res.Output, res.Children)
	}
	rows := tables.Rows("", "Log")
	if len(rows) != 2 {
		t.Errorf("rows = %v; want one from each helper run", rows)
	}

	// A row of the wrong type is refused: the bundle's columns hold.
	bad := flowDoc("bad", "", "do:\n  - add: {call: tables.createRow, with: {table: Log, row: {N: x}}}\n")
	_, err = RunStandalone(ctx, []byte(bad), nil, StandaloneConfig{Helpers: helpers, Tables: tables})
	var f *engine.Fault
	if !errors.As(err, &f) || !strings.Contains(f.Detail, `column "N": expected a number`) {
		t.Errorf("bad row: %v", err)
	}
	// Helpers are checked when called, not before the run.
	missing := flowDoc("missing", "", `do:
  - skip:
      if: '${ false }'
      run: {workflow: {namespace: test, name: absent, version: '1.0.0'}}
  - done: {set: {ok: true}}
`)
	if res, err := RunStandalone(ctx, []byte(missing), nil, StandaloneConfig{}); err != nil || fmt.Sprint(res.Output) != "map[ok:true]" {
		t.Errorf("flow with an unreached missing helper = %v, %v", res, err)
	}
	if _, err := RunStandalone(ctx, []byte("do: ["), nil, StandaloneConfig{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid document: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ctx := context.Background()
	cat := NewCatalog(catalog.NewMemoryTables(nil))
	helper, _ := dsl.Parse([]byte(flowDoc("helper", "", helloTasks)))
	caller := flowDoc("caller", "", `do:
  - a: {run: {workflow: {namespace: test, name: helper, version: '1.0.0'}}}
  - b: {run: {workflow: {namespace: test, name: other, version: '1.0.0'}}}
  - c: {run: {workflow: {namespace: test, name: helper, version: '2.0.0'}}}
`)
	v, err := Validate(ctx, []byte(caller), cat, []*dsl.Workflow{helper})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Warnings) != 2 || !strings.HasPrefix(v.Warnings[0], "do[1].b.run.workflow: helper flow test/other") ||
		!strings.HasPrefix(v.Warnings[1], "do[2].c.run.workflow: helper flow test/helper") {
		t.Errorf("warnings = %q", v.Warnings)
	}
	_, err = Validate(ctx, []byte(flowDoc("x", "", "do:\n  - a: {call: tables.getRow, with: {table: T}}\n")), cat, nil)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "do[0].a.with.id: required") {
		t.Errorf("missing argument: %v", err)
	}
}

func TestStartInTxRollsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		boom := errors.New("boom")
		_, err := b.svc.Start(b.ctx, f.ID, map[string]any{}, StartOptions{ExecutionID: "exe_rolled",
			InTx: func(context.Context, *store.Tx) error { return boom }})
		if !errors.Is(err, boom) {
			t.Fatalf("start = %v; want boom", err)
		}
		if _, err := b.svc.Execution(b.ctx, "exe_rolled"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the execution exists after a rollback: %v", err)
		}
		if n, _ := b.svc.Backlog(b.ctx, f.ID); n != 0 {
			t.Errorf("backlog = %d", n)
		}
	})
}

// jobLog records the jobs a service queues instead of running them.
type jobLog struct{ jobs []runArgs }

func (l *jobLog) InsertTx(_ context.Context, _ *store.Tx, args river.JobArgs, _ *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if a, ok := args.(runArgs); ok {
		l.jobs = append(l.jobs, a)
	}
	return &rivertype.JobInsertResult{}, nil
}

// TestLastAttemptCutShortIsQueuedAgain: when a shutdown interrupts the
// last attempt River allows, the execution gets a new job instead of
// staying pending for ever.
func TestLastAttemptCutShortIsQueuedAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		box := secrettest.Box(t)
		jobs := &jobLog{}
		svc := New(st, box, Config{Queue: jobs})
		folder, _ := svc.CreateFolder(ctx, "F", "")
		res, err := svc.SaveFlow(ctx, SaveParams{FolderID: folder.ID, Document: []byte(flowDoc("hello", "", helloTasks))})
		if err != nil {
			t.Fatal(err)
		}
		execID, err := svc.Start(ctx, res.Flow.ID, map[string]any{"name": "x"}, StartOptions{AllowOff: true})
		if err != nil {
			t.Fatal(err)
		}
		stopped, cancel := context.WithCancel(ctx)
		cancel()
		w := &runWorker{s: svc}
		job := &river.Job[runArgs]{JobRow: &rivertype.JobRow{Attempt: 10, MaxAttempts: 10}, Args: runArgs{ExecutionID: execID, Generation: 1}}
		if err := w.Work(stopped, job); err == nil {
			t.Fatal("an attempt cut short reported success")
		}
		e, _ := st.FlowExecution(ctx, execID)
		if e.Status != StatusPending || e.Generation != 2 || len(jobs.jobs) != 2 || jobs.jobs[1] != (runArgs{ExecutionID: execID, Generation: 2}) {
			t.Fatalf("after the last attempt: status %s, generation %d, jobs %v", e.Status, e.Generation, jobs.jobs)
		}
		// The new job runs it; the old generation's job finds nothing to do.
		if err := svc.run(ctx, execID, 1, svc.release); err != nil {
			t.Fatal(err)
		}
		if err := svc.run(ctx, execID, 2, svc.release); err != nil {
			t.Fatal(err)
		}
		got, err := svc.Wait(ctx, execID)
		if err != nil || got.Status != StatusSucceeded || got.Attempts != 1 {
			t.Errorf("execution = %+v, %v", got, err)
		}
	})
}
