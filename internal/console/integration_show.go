package console

import (
	"errors"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/hooks"
)

// showIntegration serves GET /ispm/settings/integrations/{id}: the
// integration, Automate Webhook, the delivery log and the dead letters.
func (c *Console) showIntegration(w http.ResponseWriter, r *http.Request) {
	if c.svc.Hooks == nil {
		c.unavailable(w, r, "Outbound integrations")
		return
	}
	secret := ""
	if rv, ok := c.takeReveal(w, r); ok && rv.Kind == revealSigning {
		secret = rv.Value
	}
	c.renderIntegration(w, r, r.PathValue("id"), secret, "")
}

// titleOption is one line of the automation's title checklist.
type titleOption struct {
	Title    string
	Category string
	Severity string
	Checked  bool
}

func (c *Console) renderIntegration(w http.ResponseWriter, r *http.Request, idOrName, secret, notice string) {
	ctx := r.Context()
	h, err := c.svc.Hooks.Get(ctx, idOrName)
	if err != nil {
		c.fail(w, r, err, "/ispm/settings/integrations")
		return
	}
	status := r.URL.Query().Get("status")
	ds, err := c.svc.Hooks.Deliveries(ctx, hooks.DeliveryFilter{Hook: h.ID, Status: status, BeforeID: r.URL.Query().Get("before"), Limit: pageSize})
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	dead, err := c.svc.Hooks.DeadLetters(ctx, h.ID)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	a := h.Automation
	var titles []titleOption
	for _, d := range c.svc.Titles() {
		titles = append(titles, titleOption{Title: d.Title, Category: string(d.Category), Severity: string(d.Severity),
			Checked: a != nil && (a.AllTitles || contains(a.Titles, d.Title))})
	}
	types := []string{event.TypeCreated}
	if a != nil && len(a.EventTypes) > 0 {
		types = a.EventTypes
	}
	v := c.view(w, r, "integration_show", h.Name, "ispm").Set("tab", "integrations")
	v.Set("hook", h).Set("automation", a).Set("titles", titles).Set("eventTypes", types)
	v.Set("allEventTypes", []string{event.TypeCreated, event.TypeUpdated, event.TypeResolved})
	v.Set("deliveries", ds).Set("dead", dead).Set("status", status)
	v.Set("statuses", []string{hooks.StatusPending, hooks.StatusDelivered, hooks.StatusHeld, hooks.StatusDead})
	v.Set("canManage", can(r, auth.PermManageHooks))
	v.Set("secret", secret).Set("notice", notice)
	if n := len(ds); n == pageSize {
		v.Set("older", queryWith(r, "before", ds[n-1].ID))
	}
	v.Render()
}

func asInvalid(err error, target **hooks.InvalidError) bool { return errors.As(err, target) }
