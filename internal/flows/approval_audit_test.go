package flows

import (
	"errors"
	"testing"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/audit/audittest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestAuditApprovalDecide checks that a decision on an approval request is
// written to the audit log with the actor and address the context
// carries, the request, the outcome and the execution it let go on, and
// that a refused decision (not an approver, already decided) writes
// nothing.
func TestAuditApprovalDecide(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newApprovalWorld(t, st)
		n := w.start(t)
		execID, a := startApproval(t, n.svc)
		decide := func(user, role string, approve bool) error {
			ctx := audit.WithActor(w.ctx, audit.Actor{Kind: audit.ActorUser, ID: "usr_" + user, Name: user, Address: "203.0.113.7"})
			_, err := n.svc.Decide(ctx, a.ID, Decision{Approve: approve, User: user, Role: role, Comment: "service owner says no"})
			return err
		}
		if err := decide("vic", "issue_viewer", true); !errors.Is(err, ErrNotApprover) {
			t.Fatalf("a decision by a viewer: %v; want ErrNotApprover", err)
		}
		if err := decide("wanda", "workflows_admin", false); err != nil {
			t.Fatal(err)
		}
		if err := decide("wanda", "workflows_admin", true); !errors.Is(err, ErrDecided) {
			t.Fatalf("a second decision: %v; want ErrDecided", err)
		}
		audittest.Has(t, st.Queries, audittest.Want{Action: "approval.decide", ActorKind: "user", ActorName: "wanda",
			Address: "203.0.113.7", TargetKind: "approval", Outcome: "success",
			Details: []string{`"status":"denied"`, `"execution":"` + execID + `"`}})
		decisions := 0
		for _, e := range audittest.Rows(t, st.Queries) {
			if e.Action == "approval.decide" {
				decisions++
			}
		}
		if decisions != 1 {
			t.Errorf("%d approval.decide rows; want only the decision that was made", decisions)
		}
		if e := waitEnd(t, n.svc, execID); e.Result != "denied" {
			t.Errorf("execution result %q; want denied", e.Result)
		}
	})
}
