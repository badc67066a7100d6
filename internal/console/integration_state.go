package console

import (
	"net/http"
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

// pauseIntegration serves POST /ispm/settings/integrations/{id}/pause.
func (c *Console) pauseIntegration(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	id := r.PathValue("id")
	back := "/ispm/settings/integrations/" + id
	_ = parseForm(w, r)
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		reason = "Paused by " + userName(r) + " in the console"
	}
	if err := c.svc.Hooks.Pause(r.Context(), id, reason); err != nil {
		c.fail(w, r, err, back)
		return
	}
	c.redirect(w, r, back, flashOK, "The integration is paused: new events are held until you resume it.")
}

// resumeIntegration serves POST /ispm/settings/integrations/{id}/resume.
func (c *Console) resumeIntegration(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	id := r.PathValue("id")
	back := "/ispm/settings/integrations/" + id
	n, err := c.svc.Hooks.Resume(r.Context(), id)
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	c.redirect(w, r, back, flashOK, "The integration is active again; "+itoa(n)+" held "+plural(n, "delivery is", "deliveries are")+" being sent.")
}

// removeIntegration serves POST /ispm/settings/integrations/{id}/delete.
func (c *Console) removeIntegration(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	if err := c.svc.Hooks.Delete(r.Context(), r.PathValue("id")); err != nil {
		c.fail(w, r, err, "/ispm/settings/integrations")
		return
	}
	c.redirect(w, r, "/ispm/settings/integrations", flashOK, "The integration is removed with its delivery history.")
}
