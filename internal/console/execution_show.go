package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
)

// showExecution serves GET /workflows/executions/{id}: one execution with
// each task's input and output when the flow saves its data, and errors
// in red; the approval requests it made, with who decided and when; a
// Cancel button while it is unfinished, for those who may manage flows.
func (c *Console) showExecution(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	e, err := c.svc.Flows.Execution(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err, "/workflows/history")
		return
	}
	unfinished := e.Status == "pending" || e.Status == "running" || e.Status == "waiting"
	v := c.view(w, r, "execution_show", "Execution of "+e.FlowTitle, "workflows").Set("tab", "history").Set("exec", e).
		Set("canCancel", unfinished && can(r, auth.PermManageFlows))
	if c.svc.Approvals != nil {
		// Who decided what, and when: the approval requests the
		// execution made.
		list, err := c.svc.Approvals.Approvals(r.Context(), flows.ApprovalFilter{ExecutionID: e.ID, Limit: 100})
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		v.Set("approvals", list)
	}
	v.Render()
}
