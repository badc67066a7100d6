package flows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// approvalFlow asks for approval, then records a row only when approved.
const approvalFlow = `do:
  - ask:
      call: approval.request
      with:
        message: '${ "Suspend " + .eventData.affectedEntity.displayName + "?" }'
        approvers: [workflows_admin, 'user:carol']
        expiresAfter: PT1H
  - act:
      if: .approved
      call: okta.suspendUser
      with: {connection: Okta, user: '${ $workflow.input.eventData.affectedEntity.idInService }'}
`

// fakeNow is a clock tests move by hand.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeNow) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// node is one start of the flows service with its own queue over a shared
// database, as a server process would have.
type node struct {
	svc  *Service
	stop func()
}

// approvalWorld is a database, a master key, a clock and a catalog whose
// okta.suspendUser records whom it suspended.
type approvalWorld struct {
	ctx       context.Context
	st        *store.Store
	box       *secret.Box
	clock     *fakeNow
	mu        sync.Mutex
	suspended []string
}

func (w *approvalWorld) start(t *testing.T) *node {
	t.Helper()
	cat := catalog.New()
	if err := cat.Register("okta.suspendUser", catalog.Function{Connector: "okta",
		Args: []catalog.Arg{{Name: "connection", Type: catalog.String}, {Name: "user", Type: catalog.String}},
		Run: func(_ context.Context, args map[string]any, _ *engine.CallEnv) (any, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.suspended = append(w.suspended, args["user"].(string))
			return map[string]any{"status": "SUSPENDED"}, nil
		}}); err != nil {
		t.Fatal(err)
	}
	svc := New(w.st, w.box, Config{Catalog: cat, HTTPClient: netguard.NewClient(netguard.Config{Allow: loopback}), Now: w.clock.Now})
	workers := river.NewWorkers()
	svc.Register(workers)
	// One worker: a parked execution must not hold it.
	q, err := queue.New(w.st, queue.Config{Workers: workers, FetchPollInterval: 10 * time.Millisecond,
		Queues: map[string]int{river.QueueDefault: 1}})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(q)
	if err := q.Start(w.ctx); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		q.Stop(sctx)
	}
	t.Cleanup(stop)
	return &node{svc: svc, stop: stop}
}

func (w *approvalWorld) suspendedUsers() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.suspended...)
}

// waitStatus waits until the execution has the status.
func waitStatus(t *testing.T, svc *Service, execID, status string) *Execution {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // a safety net only
	for {
		h, err := svc.Execution(context.Background(), execID)
		if err != nil {
			t.Fatal(err)
		}
		if h.Execution.Status == status {
			return h.Execution
		}
		if h.Execution.Done() || time.Now().After(deadline) {
			t.Fatalf("execution %s is %s (%v), want %s", execID, h.Execution.Status, h.Execution.Error, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitEnd(t *testing.T, svc *Service, execID string) *Execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := svc.Wait(ctx, execID)
	if err != nil {
		t.Fatalf("wait for %s: %v", execID, err)
	}
	return e
}

var approvalInput = map[string]any{"eventData": map[string]any{"id": "iss_1", "title": "Unused Admin Account", "severity": "High",
	"affectedEntity": map[string]any{"displayName": "Ali Lesch", "idInService": "00u1", "identifierInService": "ali@example.com",
		"sourceProductName": "Okta"}}}

// startApproval saves the approval flow, starts it and waits until it
// waits for a decision; it returns the execution id and the request.
func startApproval(t *testing.T, svc *Service) (string, *Approval) {
	t.Helper()
	ctx := context.Background()
	folder, err := svc.CreateFolder(ctx, "Approvals", "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.SaveFlow(ctx, SaveParams{FolderID: folder.ID, Document: []byte(flowDoc("guarded", saveAll, approvalFlow))})
	if err != nil {
		t.Fatal(err)
	}
	execID, err := svc.Start(ctx, res.Flow.ID, approvalInput, StartOptions{AllowOff: true})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, svc, execID, StatusWaiting)
	list, err := svc.Approvals(ctx, ApprovalFilter{Status: ApprovalPending})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ExecutionID != execID {
		t.Fatalf("pending approvals %+v, want the execution's", list)
	}
	return execID, list[0]
}

func newApprovalWorld(t *testing.T, st *store.Store) *approvalWorld {
	box := secrettest.Box(t)
	return &approvalWorld{ctx: context.Background(), st: st, box: box, clock: &fakeNow{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}}
}

// TestApprovalSurvivesRestart parks an execution at an approval, stops
// its node and starts another on the same database, where a listed
// approver approves: the execution goes on and suspends the user. People
// who are not approvers cannot decide, and a decided request cannot be
// decided again.
func TestApprovalSurvivesRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newApprovalWorld(t, st)
		first := w.start(t)
		execID, a := startApproval(t, first.svc)
		if a.Message != "Suspend Ali Lesch?" || len(a.Approvers) != 2 || a.Approvers[0] != "role:workflows_admin" || a.Approvers[1] != "user:carol" {
			t.Errorf("request %+v", a)
		}
		if a.Issue["title"] != "Unused Admin Account" || a.AffectedEntity["identifierInService"] != "ali@example.com" ||
			a.Action["function"] != "okta.suspendUser" || !a.ExpiresAt.Equal(w.clock.Now().Add(time.Hour)) {
			t.Errorf("request details: issue %v, entity %v, action %v, expires %v", a.Issue, a.AffectedEntity, a.Action, a.ExpiresAt)
		}

		// The parked execution holds no worker: with one worker, another
		// execution still runs.
		other, err := first.svc.SaveFlow(w.ctx, SaveParams{FolderID: a.FolderID, Document: []byte(flowDoc("other", "", "do:\n  - x: {set: {ok: true}}\n"))})
		if err != nil {
			t.Fatal(err)
		}
		otherID, err := first.svc.Start(w.ctx, other.Flow.ID, map[string]any{}, StartOptions{AllowOff: true})
		if err != nil {
			t.Fatal(err)
		}
		if e := waitEnd(t, first.svc, otherID); e.Status != StatusSucceeded {
			t.Fatalf("the other execution is %s", e.Status)
		}

		first.stop()
		second := w.start(t)
		if n, err := second.svc.PendingApprovals(w.ctx); err != nil || n != 1 {
			t.Fatalf("pending after restart = %d, %v", n, err)
		}
		for _, d := range []Decision{
			{Approve: true, User: "vic", Role: "issue_viewer"},
			{Approve: true, User: "rita", Role: "issue_responder"},
			{Approve: true, User: "carol", Role: "issue_viewer"},
		} {
			if _, err := second.svc.Decide(w.ctx, a.ID, d); !errors.Is(err, ErrNotApprover) {
				t.Errorf("%s (%s) decided: %v", d.User, d.Role, err)
			}
		}
		if got := waitStatus(t, second.svc, execID, StatusWaiting); got == nil || len(w.suspendedUsers()) != 0 {
			t.Fatal("the execution went on without a decision")
		}
		w.clock.add(10 * time.Minute)
		decided, err := second.svc.Decide(w.ctx, a.ID, Decision{Approve: true, User: "carol", Role: "issue_responder", Comment: "ok, unused"})
		if err != nil {
			t.Fatal(err)
		}
		if decided.Status != ApprovalApproved || decided.DecidedBy != "carol" || decided.DecidedAt == nil ||
			!decided.DecidedAt.Equal(w.clock.Now()) || decided.Comment != "ok, unused" {
			t.Errorf("decided %+v", decided)
		}
		e := waitEnd(t, second.svc, execID)
		if e.Status != StatusSucceeded || e.Result != "" {
			t.Fatalf("execution %s, result %q (%v)", e.Status, e.Result, e.Error)
		}
		if got := w.suspendedUsers(); len(got) != 1 || got[0] != "00u1" {
			t.Errorf("suspended %v, want 00u1 once", got)
		}
		h, err := second.svc.Execution(w.ctx, execID)
		if err != nil {
			t.Fatal(err)
		}
		ask := h.Steps[0]
		if out, _ := ask.Output.(map[string]any); ask.Name != "ask" || out["approved"] != true || out["decidedBy"] != "carol" ||
			out["comment"] != "ok, unused" || out["status"] != "approved" || out["decidedAt"] != w.clock.Now().Format(time.RFC3339) {
			t.Errorf("first step %s output %v", ask.Name, ask.Output)
		}
		if _, err := second.svc.Decide(w.ctx, a.ID, Decision{Approve: false, User: "carol", Role: "issue_responder"}); !errors.Is(err, ErrDecided) {
			t.Errorf("second decision: %v, want ErrDecided", err)
		}
		if n, _ := second.svc.PendingApprovals(w.ctx); n != 0 {
			t.Errorf("pending after the decision = %d", n)
		}
	})
}

// TestApprovalDeniedOrExpired ends an execution "denied", without the
// guarded action, when an approver denies and when the request expires
// (the clock moves past the expiry; maintenance expires it).
func TestApprovalDeniedOrExpired(t *testing.T) {
	for _, tc := range []string{"deny", "expire"} {
		t.Run(tc, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				w := newApprovalWorld(t, st)
				n := w.start(t)
				execID, a := startApproval(t, n.svc)
				want := ApprovalDenied
				if tc == "deny" {
					if _, err := n.svc.Decide(w.ctx, a.ID, Decision{User: "wanda", Role: "workflows_admin", Comment: "service owner says no"}); err != nil {
						t.Fatal(err)
					}
				} else {
					want = ApprovalExpired
					w.clock.add(59 * time.Minute)
					if k, err := n.svc.ExpireApprovals(w.ctx); err != nil || k != 0 {
						t.Fatalf("expired %d before the hour (%v)", k, err)
					}
					w.clock.add(time.Minute)
					if k, err := n.svc.ExpireApprovals(w.ctx); err != nil || k != 1 {
						t.Fatalf("expired %d, %v; want 1", k, err)
					}
					if _, err := n.svc.Decide(w.ctx, a.ID, Decision{Approve: true, User: "wanda", Role: "workflows_admin"}); !errors.Is(err, ErrDecided) {
						t.Errorf("decision after expiry: %v, want ErrDecided", err)
					}
				}
				e := waitEnd(t, n.svc, execID)
				if e.Status != StatusSucceeded || e.Result != "denied" {
					t.Fatalf("execution %s, result %q (%v); want result denied", e.Status, e.Result, e.Error)
				}
				if got := w.suspendedUsers(); len(got) != 0 {
					t.Errorf("suspended %v after a %s", got, tc)
				}
				got, err := n.svc.Approval(w.ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != want || (tc == "expire" && (got.DecidedBy != "" || !got.DecidedAt.Equal(a.ExpiresAt))) {
					t.Errorf("request %+v, want %s", got, want)
				}
			})
		})
	}
}

// TestApprovalOfCancelledExecution closes the request of an execution
// cancelled while it waits: nothing is left pending or to decide.
func TestApprovalOfCancelledExecution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newApprovalWorld(t, st)
		n := w.start(t)
		execID, a := startApproval(t, n.svc)
		if err := n.svc.Cancel(w.ctx, execID); err != nil {
			t.Fatal(err)
		}
		if e := waitEnd(t, n.svc, execID); e.Status != StatusCancelled {
			t.Fatalf("execution %s", e.Status)
		}
		if k, err := n.svc.PendingApprovals(w.ctx); err != nil || k != 0 {
			t.Errorf("pending = %d, %v", k, err)
		}
		if _, err := n.svc.Decide(w.ctx, a.ID, Decision{Approve: true, User: "wanda", Role: "workflows_admin"}); !errors.Is(err, ErrDecided) {
			t.Errorf("decision on a cancelled execution: %v, want ErrDecided", err)
		}
		if got, _ := n.svc.Approval(w.ctx, a.ID); got.Status != ApprovalCancelled || len(w.suspendedUsers()) != 0 {
			t.Errorf("request %s, suspended %v", got.Status, w.suspendedUsers())
		}
	})
}

// TestDecisionAndParkDoNotCross holds a decision's transaction open after
// its wake found the execution still running (PostgreSQL; SQLite runs
// write transactions one at a time), and parks the execution meanwhile:
// the park waits for the decision, so that its read of the requests
// still pending sees it decided.
func TestDecisionAndParkDoNotCross(t *testing.T) {
	st := storetest.Postgres(t)
	w := newApprovalWorld(t, st)
	n := w.start(t)
	execID, a := startApproval(t, n.svc)
	// Back to the moment before the worker parked it.
	if _, err := st.DB().ExecContext(w.ctx, `UPDATE vigil_flow_execution SET status = 'running' WHERE id = $1`, execID); err != nil {
		t.Fatal(err)
	}
	e, err := st.FlowExecution(w.ctx, execID)
	if err != nil {
		t.Fatal(err)
	}
	woke, release, decided := make(chan int, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		decided <- st.InTx(w.ctx, func(tx *store.Tx) error {
			if ok, err := tx.DecideFlowApproval(w.ctx, a.ID, ApprovalApproved, "wanda", "", w.clock.Now()); err != nil || !ok {
				return fmt.Errorf("decide: %v, %w", ok, err)
			}
			gen, err := tx.WakeFlowExecution(w.ctx, execID, w.clock.Now())
			woke <- gen
			<-release
			return err
		})
	}()
	if gen := <-woke; gen != 0 {
		t.Fatalf("the wake found the execution waiting (generation %d); the test needs it running", gen)
	}
	parked := make(chan error, 1)
	go func() {
		_, err := st.ParkFlowExecution(w.ctx, execID, e.Generation, e.Steps, w.clock.Now())
		parked <- err
	}()
	// The park either waits for the decision's lock, or (the bug) is done
	// before the decision commits.
	for waiting, deadline := false, time.Now().Add(time.Minute); !waiting; { // the deadline is a safety net only
		select {
		case err := <-parked:
			close(release)
			t.Fatalf("the park (%v) did not wait for the decision's transaction", err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("a minute on, the park neither ended nor waited on a lock")
		}
		err := st.DB().QueryRowContext(w.ctx, `SELECT count(*) > 0 FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE vigil_flow_execution SET status = ''waiting''%'`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	if err := <-decided; err != nil {
		t.Fatal(err)
	}
	if err := <-parked; err != nil {
		t.Fatal(err)
	}
	pending, err := st.FlowApprovals(w.ctx, store.FlowApprovalFilter{ExecutionID: execID, Status: ApprovalPending, Limit: 1})
	if err != nil || len(pending) != 0 {
		t.Fatalf("after the park the requests still pending are %v (%v): the park's read would miss the decision", pending, err)
	}
}
