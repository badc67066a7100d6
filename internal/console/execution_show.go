package console

import "net/http"

// showExecution serves GET /workflows/executions/{id}: one execution with
// each task's input and output when the flow saves its data, and errors
// in red.
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
	c.view(w, r, "execution_show", "Execution of "+e.FlowTitle, "workflows").Set("tab", "history").Set("exec", e).Render()
}
