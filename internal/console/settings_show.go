package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-ispm/vigil/internal/settings"
)

// showSettings serves GET /admin/settings: public URL, outbound allowlist
// and retention.
func (c *Console) showSettings(w http.ResponseWriter, r *http.Request) {
	if c.svc.Settings == nil {
		c.unavailable(w, r, "Settings")
		return
	}
	v, err := c.svc.Settings.Settings(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	view := c.view(w, r, "settings_show", "Settings", "admin").Set("tab", "settings").Set("s", v)
	if c.svc.Cluster != nil {
		// The panel is an aid: a failed read shows as a notice in it,
		// never as a broken settings page.
		st, err := c.svc.Cluster(r.Context())
		if err != nil {
			c.log.Warn("cannot read the cluster status", "error", err)
			view.Set("clusterError", "The cluster status could not be read; try again in a moment.")
		} else {
			view.Set("cluster", st)
		}
	}
	view.Render()
}

// saveSettings serves POST /admin/settings.
func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request) {
	if c.svc.Settings == nil {
		c.unavailable(w, r, "Settings")
		return
	}
	if !c.readForm(w, r, "/admin/settings") {
		return
	}
	v := settings.Values{PublicURL: r.PostFormValue("public_url"), AllowOutbound: r.PostFormValue("allow_outbound")}
	v.HistoryDays, _ = strconv.Atoi(strings.TrimSpace(r.PostFormValue("history_days")))
	v.DeliveryDays, _ = strconv.Atoi(strings.TrimSpace(r.PostFormValue("delivery_days")))
	if err := c.svc.Settings.Save(r.Context(), v); err != nil {
		if msg, ok := userMessage(err); ok {
			c.view(w, r, "settings_show", "Settings", "admin").Set("tab", "settings").Set("s", v).Set("error", msg).
				Status(http.StatusUnprocessableEntity).Render()
			return
		}
		c.serverError(w, r, err)
		return
	}
	c.redirect(w, r, "/admin/settings", flashOK, "The settings are saved.")
}
