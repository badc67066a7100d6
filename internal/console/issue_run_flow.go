package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-ispm/vigil/internal/posture/issue"
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

// runFlowOnIssues serves POST /ispm/issues/bulk/run-flow: the issue list's
// Run flow on the checked issues. Each issue gets its own execution of the
// chosen on-demand flow with the event an integration would be sent about
// it, exactly as the issue page's Run flow starts one; the answer goes to
// Flow history filtered to that flow, where each started run links to its
// execution and its issue, with a summary of what started and what did
// not.
func (c *Console) runFlowOnIssues(w http.ResponseWriter, r *http.Request) {
	if c.svc.Issues == nil || c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	if err := parseForm(w, r); err != nil {
		c.fail(w, r, &InputError{Message: "The form could not be read; try again."}, "/ispm/issues")
		return
	}
	back := cleanPath(r.PostFormValue("back"), "/ispm/issues")
	ids := r.PostForm["id"]
	flowID := strings.TrimSpace(r.PostFormValue("flow"))
	switch {
	case len(ids) == 0:
		c.redirect(w, r, back, flashError, "Select at least one issue first.")
		return
	case len(ids) > issue.MaxBulk:
		c.redirect(w, r, back, flashError, fmt.Sprintf("Select at most %d issues at once.", issue.MaxBulk))
		return
	case flowID == "":
		c.redirect(w, r, back, flashError, "Choose the flow to run on the selected issues.")
		return
	}
	ctx := r.Context()
	started := 0
	var failed []string
	for _, issueID := range ids {
		ev, err := c.svc.Issues.Event(ctx, issueID)
		if isNotFound(err) {
			failed = append(failed, issueID)
			continue
		}
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		if _, err := c.svc.Flows.StartOnDemand(ctx, flowID, ev); err != nil {
			// A refusal is about the flow (off, not on demand), the same
			// for every issue: say it once, with what started before.
			if msg, ok := userMessage(err); ok && started == 0 {
				c.redirect(w, r, back, flashError, "No run started: "+msg)
				return
			} else if ok {
				c.redirect(w, r, "/workflows/history?flow="+url.QueryEscape(flowID), flashError,
					fmt.Sprintf("Started %d %s, then: %s", started, plural(started, "run", "runs"), msg))
				return
			}
			c.fail(w, r, err, back)
			return
		}
		started++
	}
	if started == 0 {
		c.redirect(w, r, back, flashError, "No run started: none of the selected issues exists any more.")
		return
	}
	msg := fmt.Sprintf("Started %d %s on %d %s; %s listed first below.", started, plural(started, "run", "runs"),
		started, plural(started, "issue", "issues"), plural(started, "it is", "they are"))
	kind := flashOK
	if len(failed) > 0 {
		msg += fmt.Sprintf(" %d %s no longer %s: %s.", len(failed), plural(len(failed), "issue", "issues"),
			plural(len(failed), "exists", "exist"), strings.Join(failed, ", "))
		kind = flashError
	}
	c.redirect(w, r, "/workflows/history?flow="+url.QueryEscape(flowID), kind, msg)
}
