package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// showExecution serves GET /workflows/executions/{id}: one execution with
// each task's input and output when the flow saves its data, and errors
// in red; a Cancel button while it is pending or running, for those who
// may manage flows.
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
	unfinished := e.Status == "pending" || e.Status == "running"
	c.view(w, r, "execution_show", "Execution of "+e.FlowTitle, "workflows").Set("tab", "history").Set("exec", e).
		Set("canCancel", unfinished && can(r, auth.PermManageFlows)).Render()
}
