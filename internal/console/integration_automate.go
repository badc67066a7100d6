package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/hooks"
)

// saveAutomation serves POST /ispm/settings/integrations/{id}/automation:
// Automate Webhook's "Add automation" with the Auto-send notifications
// switch and the checked issue titles. With "Also send the issues open
// now" it also queues the open issues the automation matches and the
// integration was never sent: an automation otherwise hears only of
// issues found after it.
func (c *Console) saveAutomation(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	id := r.PathValue("id")
	back := "/ispm/settings/integrations/" + id
	if !c.readForm(w, r, back) {
		return
	}
	autoSend := checked(r, "auto_send")
	in := hooks.AutomationInput{AutoSend: &autoSend, AllTitles: checked(r, "all_titles"), Titles: r.PostForm["title"],
		EventTypes: r.PostForm["event_type"]}
	if !in.AllTitles && len(in.Titles) == 0 {
		c.redirect(w, r, back+"#automate", flashError, "Select at least one issue title, or all titles.")
		return
	}
	a, err := c.svc.Hooks.SetAutomation(r.Context(), id, in)
	if err != nil {
		c.fail(w, r, err, back+"#automate")
		return
	}
	sentNow := -1
	if checked(r, "send_open") && a.AutoSend {
		open, err := c.svc.Issues.OpenIssues(r.Context())
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		if sentNow, err = c.svc.Hooks.SendOpen(r.Context(), id, open); err != nil {
			c.fail(w, r, err, back+"#automate")
			return
		}
	}
	msg := "The automation is saved: "
	switch {
	case !a.AutoSend:
		msg += "auto-send is off, so no event is sent."
	case a.AllTitles:
		msg += "events of every issue title are sent."
	default:
		msg += "events of " + itoa(len(a.Titles)) + " issue " + plural(len(a.Titles), "title", "titles") + " are sent."
	}
	if sentNow >= 0 {
		msg += " " + itoa(sentNow) + " open " + plural(sentNow, "issue is", "issues are") + " queued to be sent now."
	}
	c.redirect(w, r, back, flashOK, msg)
}
