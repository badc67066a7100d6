package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const askFlow = `document:
  dsl: '1.0.0'
  namespace: test
  name: ask
  version: '1.0.0'
  title: Ask First
do:
  - ask:
      call: approval.request
      with:
        message: Suspend ali@example.com?
        approvers: [workflows_admin, super_admin]
  - done:
      set: {approved: '${ .approved }'}
`

// TestApprovals lists a waiting execution's request and decides it: an
// issue viewer may not see or decide, an issue responder the request does
// not name may see but not decide, a workflows admin approves once and a
// second decision is a 409; a super admin denies another request, whose
// execution ends "denied".
func TestApprovals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		b.work()
		res, err := b.svc.Flows.SaveFlow(b.ctx, flows.SaveParams{FolderID: b.folder.ID, Document: []byte(askFlow)})
		if err != nil {
			t.Fatal(err)
		}
		start := func() string {
			id, err := b.svc.Flows.Start(b.ctx, res.Flow.ID, map[string]any{}, flows.StartOptions{AllowOff: true})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		first, second := start(), start()
		var list struct {
			Approvals []ApprovalItem `json:"approvals"`
		}
		for deadline := time.Now().Add(2 * time.Minute); len(list.Approvals) < 2; time.Sleep(20 * time.Millisecond) {
			r := b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/approvals", nil)
			want(t, "list", r, http.StatusOK, "")
			r.decode(t, &list)
			if time.Now().After(deadline) {
				t.Fatalf("pending approvals %+v", list.Approvals)
			}
		}
		byExec := map[string]ApprovalItem{}
		for _, a := range list.Approvals {
			if !a.MayDecide || a.Status != flows.ApprovalPending || a.Message != "Suspend ali@example.com?" {
				t.Errorf("request %+v", a)
			}
			byExec[a.ExecutionID] = a
		}
		a1, a2 := byExec[first], byExec[second]

		want(t, "viewer list", b.do(auth.RoleIssueViewer, "GET", "/api/v1/approvals", nil), http.StatusForbidden, "forbidden")
		want(t, "viewer approve", b.do(auth.RoleIssueViewer, "POST", "/api/v1/approvals/"+a1.ID+"/approve", nil), http.StatusForbidden, "forbidden")
		r := b.do(auth.RoleIssueResponder, "GET", "/api/v1/approvals", nil)
		want(t, "responder list", r, http.StatusOK, "")
		r.decode(t, &list)
		if len(list.Approvals) != 2 || list.Approvals[0].MayDecide {
			t.Errorf("a responder the requests do not name sees %+v", list.Approvals)
		}
		want(t, "responder approve", b.do(auth.RoleIssueResponder, "POST", "/api/v1/approvals/"+a1.ID+"/approve", nil), http.StatusForbidden, "forbidden")
		want(t, "unknown", b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/approvals/apr_nope/approve", nil), http.StatusNotFound, "not_found")
		want(t, "bad status", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/approvals?status=maybe", nil), http.StatusBadRequest, "invalid")

		r = b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/approvals/"+a1.ID+"/approve", map[string]any{"comment": "go ahead"})
		want(t, "approve", r, http.StatusOK, "")
		var got ApprovalItem
		r.decode(t, &got)
		if got.Status != flows.ApprovalApproved || got.DecidedBy != string(auth.RoleWorkflowsAdmin) || got.DecidedAt == nil ||
			!got.DecidedAt.Equal(testNow) || got.Comment != "go ahead" || got.MayDecide {
			t.Errorf("approved %+v", got)
		}
		want(t, "again", b.do(auth.RoleSuperAdmin, "POST", "/api/v1/approvals/"+a1.ID+"/deny", nil), http.StatusConflict, "conflict")
		want(t, "deny", b.do(auth.RoleSuperAdmin, "POST", "/api/v1/approvals/"+a2.ID+"/deny", map[string]any{"comment": "no"}), http.StatusOK, "")

		for id, wantApproved := range map[string]bool{first: true, second: false} {
			e, err := b.svc.Flows.Wait(b.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := e.Output.(map[string]any)
			if e.Status != flows.StatusSucceeded || out["approved"] != wantApproved || (e.Result == "denied") == wantApproved {
				t.Errorf("execution %s: %s, result %q, output %v", id, e.Status, e.Result, e.Output)
			}
		}
		r = b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/approvals?status=all", nil)
		want(t, "all", r, http.StatusOK, "")
		r.decode(t, &list)
		if len(list.Approvals) != 2 {
			t.Errorf("all requests %+v", list.Approvals)
		}
	})
}
