package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// showDelivery serves GET /ispm/settings/integrations/{id}/deliveries/{did}:
// one delivery with each attempt's answer or error.
func (c *Console) showDelivery(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	ctx := r.Context()
	d, err := c.svc.Hooks.Delivery(ctx, r.PathValue("did"))
	if err != nil {
		c.fail(w, r, err, "/ispm/settings/integrations")
		return
	}
	h, err := c.svc.Hooks.Get(ctx, r.PathValue("id"))
	if err != nil || h.ID != d.HookID {
		c.notFound(w, r)
		return
	}
	c.view(w, r, "delivery_show", "Delivery", "ispm").Set("tab", "integrations").
		Set("delivery", d).Set("hook", h).Set("canManage", can(r, auth.PermManageHooks)).
		Set("executions", c.startedExecutions(ctx, d)[d.ID]).Set("canFlows", can(r, auth.PermViewFlows)).Render()
}
