package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/hooks"
)

// saveIntegration serves POST /ispm/settings/integrations/webhook (new) and
// POST /ispm/settings/integrations/{id} (edit). The Connect form's buttons
// choose what happens: "+" (action=add) lists the key being typed, Test
// Connection (action=test) sends the sample event to the configuration as
// typed and shows the result inline, Save (action=save) stores it.
func (c *Console) saveIntegration(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	if !c.readForm(w, r, "/ispm/settings/integrations") {
		return
	}
	ctx := r.Context()
	f, in := readIntegrationForm(r)
	f.ID = r.PathValue("id")
	if f.ID != "" {
		h, err := c.svc.Hooks.Get(ctx, f.ID)
		if err != nil {
			c.fail(w, r, err, "/ispm/settings/integrations")
			return
		}
		f.ID = h.ID
	}
	invalid := func(err error) bool {
		if msg, ok := userMessage(err); ok {
			f.Error = msg
			var ie *hooks.InvalidError
			if asInvalid(err, &ie) {
				f.Field = ie.Field
			}
			c.renderIntegrationForm(w, r, f, http.StatusUnprocessableEntity)
			return true
		}
		c.serverError(w, r, err)
		return true
	}
	switch r.PostFormValue("action") {
	case "add":
		c.renderIntegrationForm(w, r, f, http.StatusOK)
		return
	case "test":
		res, err := c.svc.Hooks.Test(ctx, f.ID, in)
		if err != nil {
			invalid(err)
			return
		}
		f.Result = res
		c.renderIntegrationForm(w, r, f, http.StatusOK)
		return
	}
	if f.ID != "" {
		h, err := c.svc.Hooks.Update(ctx, f.ID, in)
		if err != nil {
			invalid(err)
			return
		}
		c.redirect(w, r, "/ispm/settings/integrations/"+h.ID, flashOK, "The integration "+h.Name+" is saved.")
		return
	}
	h, secret, err := c.svc.Hooks.Create(ctx, in)
	if err != nil {
		invalid(err)
		return
	}
	// The signing secret is shown once, sealed for the integration's page,
	// never in the flash cookie.
	c.redirectRevealing(w, r, "/ispm/settings/integrations/"+h.ID, "The integration "+h.Name+" is saved. Now automate it: choose the issues that trigger it.",
		revealed{Kind: revealSigning, Name: h.Name, Value: secret})
}
