package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// showIntegrationList serves GET /ispm/settings/integrations: the Webhook
// tile and the saved integrations.
func (c *Console) showIntegrationList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	list, err := c.svc.Hooks.List(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.view(w, r, "integration_list", "Outbound integrations", "ispm").Set("tab", "integrations").
		Set("integrations", list).Set("canManage", can(r, auth.PermManageHooks)).Render()
}
