package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const saveAll = `  metadata:
    vigil:
      saveAllData: true`

func TestExecutionHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		ctx := b.ctx
		tasks := `use:
  secrets: [apiKey]
do:
  - greet:
      set:
        greeting: '${ "hello " + .name }'
  - note:
      call: execution.setResult
      with: {result: no matching route}
      output: {as: '${ $context + {result: .result} }'}
`
		for _, save := range []bool{true, false} {
			t.Run(fmt.Sprintf("saveAllData=%v", save), func(t *testing.T) {
				meta := ""
				name := "quiet"
				if save {
					meta, name = saveAll, "loud"
				}
				f := b.saveOn(t, flowDoc(name, meta, tasks))
				e := b.run(t, f.ID, map[string]any{"name": "ada"}, StartOptions{Test: true})
				if e.Status != StatusSucceeded || e.Output.(map[string]any)["result"] != "no matching route" {
					t.Fatalf("execution = %+v", e)
				}
				h, err := b.svc.Execution(ctx, e.ID)
				if err != nil {
					t.Fatal(err)
				}
				x := h.Execution
				if x.Version != 1 || !x.Test || x.Result != "no matching route" || x.Steps != 2 || x.StartedAt == nil ||
					x.EndedAt == nil || x.Attempts != 1 || x.FlowTitle != name {
					t.Errorf("history execution = %+v", x)
				}
				if len(h.Steps) != 2 || h.Steps[0].Name != "greet" || h.Steps[1].Name != "note" || h.Steps[0].Kind != "set" {
					t.Fatalf("steps = %+v", h.Steps)
				}
				if len(h.Notes) != 1 || h.Notes[0].Kind != catalog.NoteResult {
					t.Errorf("notes = %+v", h.Notes)
				}
				if save {
					if x.Input.(map[string]any)["name"] != "ada" || x.Output == nil {
						t.Errorf("saved execution data = %v / %v", x.Input, x.Output)
					}
					if h.Steps[0].Input.(map[string]any)["name"] != "ada" || h.Steps[0].Output.(map[string]any)["greeting"] != "hello ada" {
						t.Errorf("saved step data = %v / %v", h.Steps[0].Input, h.Steps[0].Output)
					}
				} else {
					if x.Input != nil || x.Output != nil || h.Steps[0].Input != nil || h.Steps[0].Output != nil {
						t.Errorf("data shown although the flow does not save it: %v %v %v %v", x.Input, x.Output, h.Steps[0].Input, h.Steps[0].Output)
					}
					raw, _ := json.Marshal(h)
					if strings.Contains(string(raw), "ada") {
						t.Errorf("history JSON shows the input: %s", raw)
					}
				}
			})
		}
	})
}

// secretSource gives every flow the secret apiKey.
type secretSource map[string]any

func (s secretSource) Secret(_ context.Context, name string) (any, error) {
	v, ok := s[name]
	if !ok {
		return nil, engine.ErrSecretNotFound
	}
	return v, nil
}

func TestExecutionRedactsAndSealsSecrets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{Secrets: secretSource{"apiKey": "s3cr3t-value"}})
		f := b.saveOn(t, flowDoc("secret", saveAll, `use:
  secrets: [apiKey]
do:
  - read:
      set:
        key: '${ $secret.apiKey }'
  - done:
      set:
        ok: true
        copy: '${ "key=" + .key }'
`))
		e := b.run(t, f.ID, map[string]any{}, StartOptions{})
		// The caller gets the output as the flow made it; history does not.
		if e.Status != StatusSucceeded || e.Output.(map[string]any)["copy"] != "key=s3cr3t-value" {
			t.Fatalf("execution = %+v", e)
		}
		h, err := b.svc.Execution(b.ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(h)
		if strings.Contains(string(raw), "s3cr3t-value") || !strings.Contains(string(raw), `"copy":"key=[redacted]"`) {
			t.Errorf("history shows the secret or no redaction: %s", raw)
		}
		steps, _ := st.FlowSteps(b.ctx, e.ID)
		for _, s := range steps {
			if strings.Contains(s.StateSealed+s.History+s.Fault, "s3cr3t-value") {
				t.Errorf("step %s stores the secret in clear", s.Key)
			}
		}
	})
}

// A first task's input is the execution's: its step names it instead of
// holding a second copy, and history still shows it, run locally and
// from the queue. A later step's input is stored as before.
func TestHistoryNamesTheExecutionInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		f := b.saveOn(t, flowDoc("twice", saveAll, `do:
  - first:
      set:
        user: '${ .event.user }'
  - second:
      set:
        seen: '${ .user }'
`))
		input := map[string]any{"event": map[string]any{"user": "ann@example.com", "note": strings.Repeat("long event ", 50)}}
		for _, local := range []bool{false, true} {
			if local {
				b.svc.RunLocally(2)
				t.Cleanup(func() { b.svc.StopLocal(context.Background()) })
			}
			e := b.run(t, f.ID, input, StartOptions{})
			if e.Status != StatusSucceeded {
				t.Fatalf("local %v: execution = %+v", local, e)
			}
			steps, err := st.FlowSteps(b.ctx, e.ID)
			if err != nil || len(steps) != 2 {
				t.Fatalf("local %v: steps = %v, %v", local, steps, err)
			}
			if strings.Contains(steps[0].History, "long event") || !strings.Contains(steps[0].History, `"inputFrom":"execution"`) {
				t.Errorf("local %v: the first step stores %s; want the execution's input named, not copied", local, steps[0].History)
			}
			if !strings.Contains(steps[1].History, `"input":{"user":"ann@example.com"}`) {
				t.Errorf("local %v: the second step stores %s; want its own input", local, steps[1].History)
			}
			h, err := b.svc.Execution(b.ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			first, _ := json.Marshal(h.Steps[0].Input)
			want, _ := json.Marshal(input)
			if string(first) != string(want) || fmt.Sprint(h.Steps[0].Output) != "map[user:ann@example.com]" {
				t.Errorf("local %v: history of the first step: input %s, output %v; want input %s", local, first, h.Steps[0].Output, want)
			}
			if fmt.Sprint(h.Steps[1].Input) != "map[user:ann@example.com]" {
				t.Errorf("local %v: history of the second step: input %v", local, h.Steps[1].Input)
			}
		}
	})
}

func TestExecutionFaultsAndRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{Limits: engine.Limits{MaxSteps: 50}})
		ctx := b.ctx
		raise := b.saveOn(t, flowDoc("raise", "", `do:
  - ok: {set: {a: 1}}
  - boom:
      raise:
        error: {type: https://example.com/boom, status: 418, title: Boom, detail: it went boom}
`))
		e := b.run(t, raise.ID, map[string]any{}, StartOptions{})
		if e.Status != StatusFaulted || e.Error == nil || e.Error.Status != 418 || e.Error.Instance != "/do/1/boom" {
			t.Fatalf("faulted execution = %+v (error %+v)", e, e.Error)
		}
		loop := b.saveOn(t, flowDoc("loop", "", `do:
  - again:
      switch:
        - forever: {then: again}
`))
		e = b.run(t, loop.ID, map[string]any{}, StartOptions{})
		if e.Status != StatusFaulted || e.Error.Title != "Step limit exceeded" || !strings.Contains(e.Error.Detail, "50 tasks") {
			t.Fatalf("looping execution = %+v (error %+v)", e, e.Error)
		}

		off := b.save(t, flowDoc("off", "", helloTasks))
		if _, err := b.svc.Start(ctx, off.ID, map[string]any{}, StartOptions{}); !errors.Is(err, ErrFlowOff) {
			t.Errorf("start of an off flow: %v; want ErrFlowOff", err)
		}
		e = b.run(t, off.ID, map[string]any{"name": "x"}, StartOptions{AllowOff: true})
		if e.Status != StatusSucceeded {
			t.Errorf("manual run of an off flow: %+v", e)
		}
		if _, err := b.svc.Start(ctx, "flw_absent", nil, StartOptions{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("start of an unknown flow: %v", err)
		}
		big := map[string]any{"x": strings.Repeat("a", DefaultMaxInput)}
		if _, err := b.svc.Start(ctx, off.ID, big, StartOptions{AllowOff: true}); !errors.Is(err, ErrInvalid) {
			t.Errorf("start with a huge input: %v; want ErrInvalid", err)
		}

		list, err := b.svc.Executions(ctx, ExecutionFilter{FlowID: raise.ID})
		if err != nil || len(list) != 1 || list[0].Status != StatusFaulted {
			t.Errorf("executions of raise = %v, %v", list, err)
		}
		list, _ = b.svc.Executions(ctx, ExecutionFilter{Status: StatusFaulted})
		if len(list) != 2 {
			t.Errorf("faulted executions = %d; want 2", len(list))
		}
		list, _ = b.svc.Executions(ctx, ExecutionFilter{MinDuration: time.Hour})
		if len(list) != 0 {
			t.Errorf("executions over an hour = %d", len(list))
		}
		list, _ = b.svc.Executions(ctx, ExecutionFilter{Limit: 2})
		more, _ := b.svc.Executions(ctx, ExecutionFilter{Limit: 2, Before: list[1].ID})
		if len(list) != 2 || len(more) != 1 || more[0].ID >= list[1].ID {
			t.Errorf("paging: %d then %d", len(list), len(more))
		}
	})
}

func TestHelperFlows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		ctx := b.ctx
		b.saveOn(t, flowDoc("double", "", `do:
  - twice: {set: {n: '${ .n * 2 }'}}
`))
		parent := b.saveOn(t, flowDoc("parent", saveAll, `do:
  - call:
      run:
        workflow: {namespace: test, name: double, version: '1.0.0', input: {n: '${ .n }'}}
  - spawn:
      run:
        workflow: {namespace: test, name: double, version: latest, input: {n: 100}}
        await: false
`))
		e := b.run(t, parent.ID, map[string]any{"n": 21}, StartOptions{Test: true})
		if e.Status != StatusSucceeded || fmt.Sprint(e.Output) != "map[n:42]" {
			t.Fatalf("parent = %+v, output %v", e, e.Output)
		}
		h, err := b.svc.Execution(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Children) != 1 || !h.Children[0].Test || h.Children[0].ParentID != e.ID {
			t.Fatalf("children = %+v", h.Children)
		}
		child, err := b.svc.Wait(ctx, h.Children[0].ID)
		if err != nil || child.Status != StatusSucceeded || fmt.Sprint(child.Output) != "map[n:200]" {
			t.Fatalf("child = %+v, %v", child, err)
		}
		if len(h.Notes) != 1 || h.Notes[0].Kind != "spawn" {
			t.Errorf("notes = %+v", h.Notes)
		}

		// A helper flow that is off cannot be called.
		helper, _ := b.svc.FindFlow(ctx, "test/double", "")
		if _, err := b.svc.SetOn(ctx, helper.ID, false); err != nil {
			t.Fatal(err)
		}
		e = b.run(t, parent.ID, map[string]any{"n": 1}, StartOptions{})
		if e.Status != StatusFaulted || !strings.Contains(e.Error.Detail, "is off") {
			t.Errorf("call of an off helper = %+v (error %+v)", e, e.Error)
		}

		// Helpers are looked up in the caller's folder only.
		other, _ := b.svc.CreateFolder(ctx, "Other", "")
		res, err := b.svc.SaveFlow(ctx, SaveParams{FolderID: other.ID, Document: []byte(flowDoc("caller", "", `do:
  - call:
      run:
        workflow: {namespace: test, name: double, version: '1.0.0'}
`))})
		if !errors.Is(err, ErrInvalid) || res != nil {
			t.Errorf("saving a flow calling a helper of another folder: %v", err)
		}
	})
}

func TestWaitAndCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		release := make(chan struct{})
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		b := setup(t, st, Config{Lease: 300 * time.Millisecond})
		ctx := b.ctx
		f := b.saveOn(t, flowDoc("slow", "", `do:
  - before: {set: {started: true}}
  - block: {call: http, with: {method: get, endpoint: '`+srv.URL+`/block'}}
  - after: {set: {done: true}}
`))
		execID, err := b.svc.Start(ctx, f.ID, map[string]any{}, StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for hits.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		e, err := b.svc.Wait(wctx, execID)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || e == nil || e.Done() || e.Status != StatusRunning {
			t.Fatalf("wait with a short deadline = %+v, %v; want running and DeadlineExceeded", e, err)
		}
		if n, _ := b.svc.Backlog(ctx, f.ID); n != 1 {
			t.Errorf("backlog = %d; want 1", n)
		}
		if err := b.svc.Cancel(ctx, execID); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.Cancel(ctx, execID); !errors.Is(err, ErrInvalid) {
			t.Errorf("second cancel: %v; want ErrInvalid", err)
		}
		e, err = b.svc.Wait(ctx, execID)
		if err != nil || e.Status != StatusCancelled {
			t.Fatalf("after cancel = %+v, %v", e, err)
		}
		// The worker stops and records the step it had kept in memory;
		// the execution stays cancelled and the task after the blocked one
		// never runs.
		var h *History
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			if h, err = b.svc.Execution(ctx, execID); err != nil {
				t.Fatal(err)
			}
			if len(h.Steps) > 0 || time.Now().After(deadline) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
		h, _ = b.svc.Execution(ctx, execID)
		if h.Execution.Status != StatusCancelled || len(h.Steps) != 1 || h.Steps[0].Name != "before" {
			t.Errorf("cancelled execution = %+v, steps %+v; want the before step alone", h.Execution, h.Steps)
		}
		if n, _ := b.svc.Backlog(ctx, f.ID); n != 0 {
			t.Errorf("backlog = %d; want 0", n)
		}
	})
}

func TestRecoverAndPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC()
		clock := func() time.Time { return now }
		b := setup(t, st, Config{Now: clock, Retention: 24 * time.Hour})
		ctx := b.ctx
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))

		// An execution whose worker died: it is running under a lease
		// that ran out, and no job of its generation will run it.
		e := &store.FlowExecution{ID: "exe_dead", FlowID: f.ID, Version: 1, Status: StatusPending, CreatedAt: now, UpdatedAt: now}
		e.InputSealed, _, _ = b.svc.sealInput(map[string]any{"name": "bob"}, e.ID)
		if err := st.CreateFlowExecution(ctx, e); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.ClaimFlowExecution(ctx, e.ID, 1, now.Add(-2*time.Minute), now.Add(-time.Minute)); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		n, err := b.svc.Recover(ctx)
		if err != nil || n != 1 {
			t.Fatalf("recover = %d, %v; want 1", n, err)
		}
		got, err := b.svc.Wait(ctx, e.ID)
		if err != nil || got.Status != StatusSucceeded || got.Output.(map[string]any)["greeting"] != "hello bob" || got.Attempts != 2 {
			t.Fatalf("recovered execution = %+v, %v", got, err)
		}
		if n, _ := b.svc.Recover(ctx); n != 0 {
			t.Errorf("second recover queued %d", n)
		}

		// Retention: the execution ended "now"; a day later it is kept,
		// a day and a minute later it is gone with its steps.
		fresh := b.run(t, f.ID, map[string]any{"name": "x"}, StartOptions{})
		now = now.Add(24*time.Hour + time.Minute)
		keep := b.run(t, f.ID, map[string]any{"name": "y"}, StartOptions{})
		pruned, err := b.svc.Prune(ctx)
		if err != nil || pruned != 2 {
			t.Fatalf("prune = %d, %v; want 2", pruned, err)
		}
		if _, err := b.svc.Execution(ctx, fresh.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("old execution still there: %v", err)
		}
		if steps, _ := st.FlowSteps(ctx, fresh.ID); len(steps) != 0 {
			t.Errorf("old execution's steps still there: %d", len(steps))
		}
		if _, err := b.svc.Execution(ctx, keep.ID); err != nil {
			t.Errorf("recent execution pruned: %v", err)
		}
	})
}

// TestExecutionsByID reads the executions of the ids that exist, newest
// first and without their data, in one call.
func TestExecutionsByID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		var ids []string
		for _, name := range []string{"ana", "bo", "di"} {
			ids = append(ids, b.run(t, f.ID, map[string]any{"name": name}, StartOptions{}).ID)
		}
		got, err := b.svc.ExecutionsByID(b.ctx, []string{ids[0], "exe_missing", ids[2]})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[0] {
			t.Fatalf("ExecutionsByID = %+v; want %s then %s", got, ids[2], ids[0])
		}
		if e := got[0]; e.Status != StatusSucceeded || e.FlowTitle == "" || e.Output != nil {
			t.Errorf("execution = %+v; want its row, succeeded, without its data", e)
		}
		if got, err := b.svc.ExecutionsByID(b.ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("ExecutionsByID(nil) = %+v, %v", got, err)
		}
	})
}

// TestApprovalRedactsSecrets: an approval request's message and details
// are shown to its approvers and stored in clear, so a secret the flow
// uses is redacted from them, as from the history, whether or not the
// flow saves its data.
func TestApprovalRedactsSecrets(t *testing.T) {
	cfg := Config{Secrets: secretSource{"apiKey": "s3cr3t-value"}}
	t.Run("queue", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, st *store.Store) { approvalRedacts(t, setup(t, st, cfg)) })
	})
	t.Run("local", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, st *store.Store) {
			b, _ := setupLocal(t, st, cfg, 2)
			approvalRedacts(t, b)
		})
	})
}

func approvalRedacts(t *testing.T, b *testBundle) {
	t.Helper()
	f := b.saveOn(t, flowDoc("ask", "", `use:
  secrets: [apiKey]
do:
  - ask:
      call: approval.request
      with:
        message: '${ "Use key " + $secret.apiKey + "?" }'
        approvers: [workflows_admin]
        expiresAfter: PT1H
        action: '${ "rotate " + $secret.apiKey }'
`))
	execID, err := b.svc.Start(b.ctx, f.ID, map[string]any{}, StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var list []*Approval
	waitFor(t, func() bool {
		if list, err = b.svc.Approvals(b.ctx, ApprovalFilter{ExecutionID: execID}); err != nil {
			t.Fatal(err)
		}
		return len(list) == 1
	})
	raw, _ := json.Marshal(list[0])
	if strings.Contains(string(raw), "s3cr3t-value") || list[0].Message != "Use key [redacted]?" {
		t.Errorf("the approval request shows the secret or no redaction: %s", raw)
	}
	h, err := b.svc.Execution(b.ctx, execID)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := json.Marshal(h.Notes); strings.Contains(string(raw), "s3cr3t-value") {
		t.Errorf("the history's notes show the secret of a flow that does not save its data: %s", raw)
	}
}
