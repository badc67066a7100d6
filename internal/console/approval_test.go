package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// guardedFlow asks a workflows admin before it "suspends".
const guardedFlow = `document:
  dsl: '1.0.0'
  namespace: tests
  name: guarded
  version: '1.0.0'
  title: Guarded Suspend
do:
  - ask:
      call: approval.request
      with:
        message: '${ "Suspend " + .eventData.affectedEntity.identifierInService + "?" }'
        approvers: [workflows_admin]
  - done:
      set: {approved: '${ .approved }'}
`

// TestApprovalsPage shows a waiting execution's request on the Approvals
// page, with the count in the header, to a workflows admin it names; an
// issue responder it does not name sees it without buttons and cannot
// decide, an issue viewer cannot open the page; the workflows admin
// approves once, and the execution page shows who decided, when and why.
func TestApprovalsPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setupTestRun(t, st, false)
		f := b.flow(t, guardedFlow)
		input := map[string]any{"eventData": map[string]any{"title": "Unused Admin Account", "severity": "High",
			"affectedEntity": map[string]any{"displayName": "Ali Lesch", "identifierInService": "ali@example.com", "sourceProductName": "Okta"}}}
		execID, err := b.w.Flows.Start(ctx, f.ID, input, flows.StartOptions{AllowOff: true})
		if err != nil {
			t.Fatal(err)
		}
		var list []*flows.Approval
		for deadline := time.Now().Add(2 * time.Minute); len(list) == 0; time.Sleep(20 * time.Millisecond) {
			if list, err = b.w.Flows.Approvals(ctx, flows.ApprovalFilter{Status: flows.ApprovalPending}); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatal("no approval request after 2 minutes")
			}
		}
		id := list[0].ID

		pg := get(t, b.builder, b.w.URL+"/workflows/approvals")
		for _, want := range []string{"Suspend ali@example.com?", `data-approval-id="` + id + `"`, "Ali Lesch · ali@example.com · Okta",
			"Unused Admin Account", `data-testid="approve"`, `data-testid="pending-approvals-count" aria-label="1 pending">1<`} {
			if !strings.Contains(pg.Body, want) {
				t.Errorf("the Approvals page lacks %q", want)
			}
		}
		responder := b.w.Client(t, auth.RoleIssueResponder)
		pg = get(t, responder, b.w.URL+"/workflows/approvals")
		if pg.Status != http.StatusOK || !strings.Contains(pg.Body, "You are not one of this request's approvers") || strings.Contains(pg.Body, `data-testid="approve"`) {
			t.Errorf("the responder's page: %d %s", pg.Status, pg.Body)
		}
		pg = post(t, responder, b.w.URL+"/workflows/approvals/"+id+"/approve", nil)
		if msg := flashOf(get(t, responder, b.w.URL+pg.Location).Body); !strings.Contains(msg, "is not an approver") {
			t.Errorf("the responder's approval says %q", msg)
		}
		viewer := b.w.Client(t, auth.RoleIssueViewer)
		if pg := get(t, viewer, b.w.URL+"/workflows/approvals"); pg.Status != http.StatusForbidden {
			t.Errorf("viewer page: %d", pg.Status)
		}
		if pg := post(t, viewer, b.w.URL+"/workflows/approvals/"+id+"/deny", nil); pg.Status != http.StatusForbidden {
			t.Errorf("viewer deny: %d", pg.Status)
		}
		if a, _ := b.w.Flows.Approval(ctx, id); a.Status != flows.ApprovalPending {
			t.Fatalf("after refused decisions the request is %s", a.Status)
		}

		pg = post(t, b.builder, b.w.URL+"/workflows/approvals/"+id+"/approve", url.Values{"comment": {"owner agreed"}})
		if pg.Status != http.StatusSeeOther {
			t.Fatalf("approve: %d", pg.Status)
		}
		if msg := flashOf(get(t, b.builder, b.w.URL+pg.Location).Body); msg != "Approved: Guarded Suspend goes on with the action." {
			t.Errorf("approve flash %q", msg)
		}
		e := b.wait(t, execID)
		if e.Status != flows.StatusSucceeded {
			t.Errorf("execution %s", e.Status)
		}
		pg = get(t, b.builder, b.w.URL+"/workflows/executions/"+execID)
		for _, want := range []string{`data-testid="execution-approvals"`, "Approved", ">builder<", "owner agreed"} {
			if !strings.Contains(pg.Body, want) {
				t.Errorf("the execution page lacks %q", want)
			}
		}
		if strings.Contains(pg.Body, `data-testid="pending-approvals-count"`) {
			t.Error("the header still counts a pending request")
		}
		pg = post(t, b.builder, b.w.URL+"/workflows/approvals/"+id+"/deny", nil)
		if msg := flashOf(get(t, b.builder, b.w.URL+pg.Location).Body); !strings.Contains(msg, "already approved by builder") {
			t.Errorf("a second decision says %q", msg)
		}
	})
}
