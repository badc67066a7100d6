package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows/alert"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Alerts keeps the failure notification rules: post to a Slack channel or
// a webhook when an execution of a flow, or of any flow of a folder,
// faults. AlertService adapts *alert.Service.
type Alerts interface {
	Rules(ctx context.Context) ([]*store.FlowAlert, error)
	// Add saves a rule; a refusal is an *InputError and saves nothing.
	Add(ctx context.Context, in alert.Input) (*store.FlowAlert, error)
	Remove(ctx context.Context, ruleID string) error
}

// alertChannels maps each channel to the connection type it sends through.
var alertChannels = map[string]string{"slack": "slack", "webhook": "http"}

// showAlertList serves GET /workflows/alerts: the failure notification
// rules and the form to add one.
func (c *Console) showAlertList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Alerts == nil || c.svc.Flows == nil {
		c.unavailable(w, r, "Failure notifications")
		return
	}
	ctx := r.Context()
	// The rules, and the folders and flows a new rule may watch.
	rules, err := c.svc.Alerts.Rules(ctx)
	folders, ferr := c.svc.Flows.Folders(ctx)
	flows, lerr := c.svc.Flows.Flows(ctx, "")
	if err := errors.Join(err, ferr, lerr); err != nil {
		c.serverError(w, r, err)
		return
	}
	var conns []Connection
	if c.svc.Connections != nil && can(r, auth.PermManageConnections) {
		list, err := c.svc.Connections.Connections(ctx)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		for _, cn := range list {
			if cn.Type == alertChannels["slack"] || cn.Type == alertChannels["webhook"] {
				conns = append(conns, cn)
			}
		}
	}
	c.view(w, r, "alert_list", "Failure notifications", "workflows").Set("tab", "flows").
		Set("rules", rules).Set("folders", folders).Set("flows", flows).Set("connections", conns).
		Set("scope", r.URL.Query().Get("scope")).Set("canManage", can(r, auth.PermManageFlows)).Render()
}

// addAlert serves POST /workflows/alerts.
func (c *Console) addAlert(w http.ResponseWriter, r *http.Request) {
	const back = "/workflows/alerts"
	if c.svc.Alerts == nil {
		c.unavailable(w, r, "Failure notifications")
		return
	}
	if !c.readForm(w, r, back) {
		return
	}
	in := alert.Input{Channel: r.PostFormValue("channel"), Connection: r.PostFormValue("connection"),
		Target: r.PostFormValue("target"), By: userName(r)}
	kind, scopeID, _ := strings.Cut(r.PostFormValue("scope"), ":")
	switch kind {
	case "folder":
		in.FolderID = scopeID
	case "flow":
		in.FlowID = scopeID
	}
	rule, err := c.svc.Alerts.Add(r.Context(), in)
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	what := rule.FolderName + " (every flow)"
	if rule.FlowTitle != "" {
		what = rule.FlowTitle
	}
	c.redirect(w, r, back, flashOK, "Failures of "+what+" are now sent through "+rule.Connection+".")
}

// removeAlert serves POST /workflows/alerts/{id}/delete.
func (c *Console) removeAlert(w http.ResponseWriter, r *http.Request) {
	const back = "/workflows/alerts"
	if c.svc.Alerts == nil {
		c.unavailable(w, r, "Failure notifications")
		return
	}
	if err := c.svc.Alerts.Remove(r.Context(), r.PathValue("id")); err != nil {
		c.fail(w, r, err, back)
		return
	}
	c.redirect(w, r, back, flashOK, "The failure notification is removed.")
}
