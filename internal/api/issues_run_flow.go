package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// runFlowOnIssue serves POST /api/v1/issues/{id}/run-flow {"flowId"}: it
// starts a flow marked callable on demand with the issue's event as the
// request body, the event an integration would be sent about the issue
// now, and answers 202 with the execution's id. It needs flows:manage,
// not issues:respond: it acts through the flow's connections, and whoever
// runs it must be able to follow the execution it starts, which an issue
// responder cannot see.
func (a *API) runFlowOnIssue(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FlowID string `json:"flowId"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	in.FlowID = strings.TrimSpace(in.FlowID)
	if in.FlowID == "" {
		return invalid("flowId", "Give the id of the flow to run, as \"flowId\": \"flw_…\".")
	}
	ctx := r.Context()
	issueID := r.PathValue("id")
	ev, err := a.svc.Issues.Event(ctx, issueID)
	if errors.Is(err, issue.ErrNotFound) {
		return notFound("No issue has the id %s.", issueID)
	}
	if err != nil {
		return err
	}
	f, err := a.findFlow(ctx, r, in.FlowID)
	if err != nil {
		return err
	}
	execID, err := a.svc.Flows.StartOnDemand(ctx, f.ID, ev)
	switch {
	case errors.Is(err, flows.ErrNotOnDemand):
		return conflict("Flow %q is not callable on demand; set document.metadata.vigil.onDemand to true in the flow to run it on issues.", f.Title)
	case errors.Is(err, flows.ErrFlowOff):
		return conflict("Flow %q is off; turn it on to run it on issues.", f.Title)
	case errors.Is(err, flows.ErrNoQueue):
		return unavailable("Flows cannot run on this server: it has no job queue.")
	case errors.Is(err, flows.ErrInvalid):
		return invalid("", "%s", httpjson.Sentence(err.Error()))
	case err != nil:
		return err
	}
	w.Header().Set("Location", "/api/v1/executions/"+execID)
	httpjson.Write(w, http.StatusAccepted, RunStarted{ExecutionID: execID, Status: flows.StatusPending})
	return nil
}
