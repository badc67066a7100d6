package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
)

// approvalStatuses are the statuses the Approvals page filters on;
// pending is the default.
var approvalStatuses = []string{flows.ApprovalPending, flows.ApprovalApproved, flows.ApprovalDenied, flows.ApprovalExpired,
	flows.ApprovalCancelled, "all"}

// approvalRow is a request with whether the signed-in user may decide it.
type approvalRow struct {
	*flows.Approval
	MayDecide bool
}

// showApprovalList serves GET /workflows/approvals: the requests flows
// wait on, the next to expire first, each with the issue, the identity
// and the action it guards, and Approve and Deny for the approvers it
// names; ?status= shows decided ones instead.
func (c *Console) showApprovalList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Approvals == nil {
		c.unavailable(w, r, "Approvals")
		return
	}
	status := r.URL.Query().Get("status")
	if !contains(approvalStatuses, status) {
		status = flows.ApprovalPending
	}
	f := flows.ApprovalFilter{Status: status, Limit: 200}
	if status == "all" {
		f.Status = ""
	}
	list, err := c.svc.Approvals.Approvals(r.Context(), f)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	u, _ := auth.UserFrom(r.Context())
	rows := make([]approvalRow, len(list))
	for i, a := range list {
		rows[i] = approvalRow{Approval: a, MayDecide: a.Status == flows.ApprovalPending && a.MayDecide(u.Name, string(u.Role))}
	}
	c.view(w, r, "approval_list", "Approvals", "approvals").Set("approvals", rows).Set("status", status).
		Set("statuses", approvalStatuses).Render()
}
