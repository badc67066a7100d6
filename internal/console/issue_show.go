package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// showIssue serves GET /ispm/issues/{id}: the affected entity, the
// descriptions, remediation, risk, the history, for those who manage flows
// the flows that can be run on it, and for those who may see hooks, the
// deliveries of the issue's events.
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
	if c.svc.Hooks != nil && can(r, auth.PermViewHooks) {
		ds, err := c.svc.Hooks.Deliveries(ctx, hooks.DeliveryFilter{IssueID: is.ID, Limit: 100})
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
	}
	v.Render()
}
