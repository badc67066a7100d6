package console

import (
	"net/http"
)

// showNewFlowPage serves GET /workflows/flows/new?folder=ID: the builder's
// first card (Add event → Built-in triggers → API Endpoint → security →
// Close) and Save with name, description and "Save all data that passes
// through the Flow?".
func (c *Console) showNewFlowPage(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	folders, err := c.svc.Flows.Folders(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.view(w, r, "flow_new", "New flow", "workflows").Set("tab", "flows").
		Set("folders", folders).Set("folder", r.URL.Query().Get("folder")).Render()
}
