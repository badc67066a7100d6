package console

import "net/http"

// cancelExecution serves POST /workflows/executions/{id}/cancel: the Cancel
// button of a pending or running execution. It goes back to the execution
// with a flash; an execution that has ended is left as it is, and the flash
// says so.
func (c *Console) cancelExecution(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	back := "/workflows/executions/" + r.PathValue("id")
	if err := c.svc.Flows.CancelExecution(r.Context(), r.PathValue("id")); err != nil {
		c.fail(w, r, err, back)
		return
	}
	c.redirect(w, r, back, flashOK, "The execution was cancelled.")
}
