package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/logtest"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestDrainLetsRunningJobsFinish stops a server while a job of its queue
// is in the middle of a remediation's HTTP call: an approved execution,
// which its decision's job runs. The drain's grace applies to it as to
// the in-process pool: the call is not cut short when the server is told
// to stop, the execution ends before the server does, and the call is
// made once, not again after a restart.
func TestDrainLetsRunningJobsFinish(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		var calls atomic.Int32
		var cut atomic.Bool
		hold := make(chan struct{})
		var releaseOnce sync.Once
		release := func() { releaseOnce.Do(func() { close(hold) }) }
		defer release()
		effect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			select {
			case <-hold:
			case <-r.Context().Done():
				cut.Store(true)
				return
			}
			io.WriteString(w, `{"suspended":true}`)
		}))
		defer effect.Close()

		logs := &logtest.Buffer{}
		defer func() {
			if t.Failed() {
				t.Logf("server log:\n%s", logs.String())
			}
		}()
		a, srv := newServer(t, app.Config{DataDir: t.TempDir(), DatabaseURL: storetest.DatabaseURL(t, dialect), Addr: "127.0.0.1:0",
			AllowOutbound: "127.0.0.0/8", LogOutput: logs, MasterKey: secrettest.MasterKey(t)})
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- srv.Run(rctx) }()
		defer stop()
		waitFor(t, "the server to be ready", func() bool { return ready(srv.PublicURL()) })
		svc := srv.Services()
		folder, err := svc.Flows.CreateFolder(ctx, "Drain", "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: folder.ID, Document: []byte(fmt.Sprintf(`document:
  dsl: '1.0.0'
  namespace: drain
  name: remediate
  version: '1.0.0'
do:
  - ask:
      call: approval.request
      with: {message: 'Suspend Ada?', approvers: ['user:carol'], expiresAfter: PT1H}
  - suspend: {call: http, with: {method: post, endpoint: '%s/suspend'}}
`, effect.URL))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Flows.SetOn(ctx, res.Flow.ID, true); err != nil {
			t.Fatal(err)
		}
		execID, err := svc.Flows.Start(ctx, res.Flow.ID, map[string]any{}, flows.StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var asks []*flows.Approval
		waitFor(t, "the approval request", func() bool {
			asks, err = svc.Flows.Approvals(ctx, flows.ApprovalFilter{ExecutionID: execID})
			return err == nil && len(asks) == 1
		})
		if _, err := svc.Flows.Decide(ctx, asks[0].ID, flows.Decision{Approve: true, User: "carol", Role: "issue_responder"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the remediation's call", func() bool { return calls.Load() == 1 })

		stop()
		// The node is marked draining once its context has ended, which is
		// when River would cancel its jobs; a server that cut its job short
		// may even have stopped already.
		var runErr error
		stopped := false
		waitFor(t, "the node to drain", func() bool {
			select {
			case runErr = <-done:
				stopped = true
				return true
			default:
			}
			st, err := a.ClusterStatus(ctx)
			return err == nil && len(st.Nodes) == 1 && st.Nodes[0].Draining
		})
		release()
		if !stopped {
			select {
			case runErr = <-done:
			case <-time.After(2 * time.Minute):
				t.Fatal("the server did not drain within 2 minutes")
			}
		}
		if runErr != nil {
			t.Fatalf("Run after the stop: %v; want a clean drain", runErr)
		}
		if cut.Load() {
			t.Error("the remediation's call was cut short when the server was told to stop")
		}
		h, err := svc.Flows.Execution(ctx, execID)
		if err != nil {
			t.Fatal(err)
		}
		if h.Execution.Status != flows.StatusSucceeded {
			t.Errorf("after the drain the execution is %s; want it to have finished within the grace", h.Execution.Status)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("%d calls; want 1", n)
		}
	})
}
