package console

import "net/http"

// resendDeliveries serves POST /ispm/settings/integrations/{id}/resend: the
// delivery log's Resend for the checked deliveries.
func (c *Console) resendDeliveries(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	back := "/ispm/settings/integrations/" + r.PathValue("id")
	if !c.readForm(w, r, back) {
		return
	}
	ids := r.PostForm["delivery"]
	if len(ids) == 0 {
		c.redirect(w, r, back+"#deliveries", flashError, "Select at least one delivery to resend.")
		return
	}
	n, err := c.svc.Hooks.Resend(r.Context(), ids...)
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	c.redirect(w, r, back+"#deliveries", flashOK, itoa(n)+" "+plural(n, "delivery is", "deliveries are")+" queued again, with the same event id.")
}

// resendDeadLetters serves POST /ispm/settings/integrations/{id}/resend-dead:
// the dead-letter list's Resend all.
func (c *Console) resendDeadLetters(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	id := r.PathValue("id")
	back := "/ispm/settings/integrations/" + id
	n, err := c.svc.Hooks.ResendDead(r.Context(), id)
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	c.redirect(w, r, back+"#dead", flashOK, itoa(n)+" dead-lettered "+plural(n, "delivery is", "deliveries are")+" queued again.")
}
