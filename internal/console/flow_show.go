package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// flowPage is the data of the flow page beyond the flow itself.
type flowPage struct {
	// Text is the editor's content: the saved document, or what the user
	// tried to save.
	Text     string
	Problems []dsl.Problem
	// Endpoint is set when the Endpoint settings dialog is open.
	Endpoint *endpointView
	// Test is the Test flow form; its zero value shows the default input.
	Test testRunForm
}

// connState is one connection a flow uses and whether it exists.
type connState struct {
	Name   string
	Set    bool
	DryRun bool
}

// showFlow serves GET /workflows/flows/{id}: the flow as a column of cards
// beside its YAML editor, with the on/off switch.
func (c *Console) showFlow(w http.ResponseWriter, r *http.Request) {
	f, ok := c.pathFlow(w, r)
	if !ok {
		return
	}
	// A test run is a dry run unless the user turns it off: connectors
	// record what they would send instead of acting on identities.
	c.renderFlow(w, r, f, flowPage{Text: string(f.Document), Test: testRunForm{DryRun: true}}, http.StatusOK)
}

func (c *Console) renderFlow(w http.ResponseWriter, r *http.Request, f *Flow, p flowPage, status int) {
	ctx := r.Context()
	v := c.view(w, r, "flow_show", f.Title, "workflows").Set("tab", "flows")
	v.Set("flow", f).Set("page", p)
	bad := map[int]bool{}
	for _, pr := range p.Problems {
		if pr.Line > 0 {
			bad[pr.Line] = true
		}
	}
	v.Set("badLines", bad)
	if wf := f.Workflow; wf != nil {
		v.Set("cards", flowCards(wf.Do))
		if t := wf.Trigger(); t != nil && t.APIEndpoint != nil {
			v.Set("api", t.APIEndpoint)
		}
		v.Set("saveAll", wf.SaveAllData())
		if names := flowConnections(wf); len(names) > 0 {
			states := make([]connState, 0, len(names))
			known := map[string]Connection{}
			if c.svc.Connections != nil {
				list, err := c.svc.Connections.Connections(ctx)
				if err != nil {
					c.serverError(w, r, err)
					return
				}
				for _, cn := range list {
					known[cn.Name] = cn
				}
			}
			for _, n := range names {
				cn, ok := known[n]
				states = append(states, connState{Name: n, Set: ok, DryRun: cn.DryRun})
			}
			v.Set("connections", states)
			if can(r, auth.PermManageFlows) && c.svc.Connections != nil {
				list := make([]Connection, 0, len(known))
				for _, cn := range known {
					list = append(list, cn)
				}
				v.Set("picker", connectionPicker(connectionUses(wf), list))
			}
		}
	}
	v.Set("canManage", can(r, auth.PermManageFlows))
	v.Set("helperWarnings", c.helperWarnings(ctx, f))
	v.Set("canEndpoint", can(r, auth.PermManageEndpointTokens) && c.svc.Endpoints != nil)
	v.Set("canConnect", can(r, auth.PermManageConnections))
	v.Status(status).Render()
}
