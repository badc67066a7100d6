package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// showIssue serves GET /ispm/issues/{id}: the affected entity, the
// descriptions, remediation, risk, the history, for those who manage flows
// the flows that can be run on it, for those who may see flows the runs
// started on it by hand, and for those who may see hooks, the deliveries
// of the issue's events with the executions each one started: the trail
// from an issue to what was done about it.
func (c *Console) showIssue(w http.ResponseWriter, r *http.Request) {
	if c.svc.Issues == nil {
		c.unavailable(w, r, "Issues")
		return
	}
	ctx := r.Context()
	is, err := c.svc.Issues.Get(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err, "/ispm/issues")
		return
	}
	v := c.view(w, r, "issue_show", is.Data.Title, "ispm").Set("tab", "issues")
	v.Set("issue", is).Set("entity", is.Data.AffectedEntity)
	v.Set("canRespond", can(r, auth.PermRespondIssues))
	v.Set("offered", issue.Offered(is.Status))
	if c.svc.Flows != nil && can(r, auth.PermManageFlows) {
		fs, err := c.svc.Flows.OnDemandFlows(ctx)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		v.Set("onDemandFlows", fs).Set("canRunFlows", true)
	}
	canFlows := c.svc.Flows != nil && can(r, auth.PermViewFlows)
	if canFlows {
		runs, err := c.svc.Flows.IssueRuns(ctx, is.ID)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		v.Set("runs", runs).Set("showRuns", true)
	}
	if c.svc.Hooks != nil && can(r, auth.PermViewHooks) {
		ds, err := c.svc.Hooks.Deliveries(ctx, hooks.DeliveryFilter{IssueID: is.ID, Limit: 100, Attempts: canFlows})
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		names := map[string]string{}
		if list, err := c.svc.Hooks.List(ctx); err == nil {
			for _, h := range list {
				names[h.ID] = h.Name
			}
		}
		v.Set("deliveries", ds).Set("hookNames", names).Set("showDeliveries", true)
		if canFlows {
			// The executions each delivery started, read from its
			// attempts' answers.
			v.Set("started", c.startedExecutions(ctx, ds...)).Set("canFlows", true)
		}
	}
	v.Render()
}
