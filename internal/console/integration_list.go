package console

import (
	"net/http"
	"time"

	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/store"

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
	health, err := c.hookHealth(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.view(w, r, "integration_list", "Outbound integrations", "ispm").Set("tab", "integrations").
		Set("integrations", list).Set("canManage", can(r, auth.PermManageHooks)).
		Set("health", integrationHealth(list, health)).Set("showHealth", health != nil).Render()
}

// integrationRow is the health columns of one integration in the list.
type integrationRow struct {
	LastAt     time.Time
	LastFailed bool
	Failures   int
	Dead       int
}

// integrationHealth pairs each integration with its health: the last
// delivery attempt and whether it failed, the failed attempts of the last
// 24 hours and the dead letters.
func integrationHealth(list []*hooks.Integration, health map[string]*store.HookHealth) map[string]integrationRow {
	out := make(map[string]integrationRow, len(list))
	for _, in := range list {
		var row integrationRow
		if h := health[in.ID]; h != nil {
			row = integrationRow{LastAt: h.LastAttemptAt, Failures: h.Failures, Dead: h.Dead}
		}
		row.LastFailed = in.LastFailure != nil && (in.LastSuccess == nil || in.LastFailure.After(*in.LastSuccess))
		out[in.ID] = row
	}
	return out
}
