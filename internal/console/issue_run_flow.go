package console

import (
	"net/http"
	"strings"
)

// runFlowOnIssue serves POST /ispm/issues/{id}/run-flow: the issue page's
// Run flow button. It starts the chosen flow, one marked callable on
// demand, with the event an integration would be sent about the issue now,
// and opens the execution. Like a test run it needs flows:manage, so that
// whoever starts it can follow it in Flow history.
func (c *Console) runFlowOnIssue(w http.ResponseWriter, r *http.Request) {
	if c.svc.Issues == nil || c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	issueID := r.PathValue("id")
	back := "/ispm/issues/" + issueID
	if err := parseForm(w, r); err != nil {
		c.fail(w, r, &InputError{Message: "The form could not be read; try again."}, back)
		return
	}
	flowID := strings.TrimSpace(r.PostFormValue("flow"))
	if flowID == "" {
		c.fail(w, r, &InputError{Message: "Choose the flow to run on this issue."}, back)
		return
	}
	ctx := r.Context()
	ev, err := c.svc.Issues.Event(ctx, issueID)
	if err != nil {
		c.fail(w, r, err, "/ispm/issues")
		return
	}
	execID, err := c.svc.Flows.StartOnDemand(ctx, flowID, ev)
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	c.redirect(w, r, "/workflows/executions/"+execID, flashOK, "The flow started on issue "+issueID+".")
}
