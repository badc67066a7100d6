package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// showFlowList serves GET /workflows/flows?folder=ID: the folders and the
// flows of the chosen one (all flows when none is chosen).
func (c *Console) showFlowList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	ctx := r.Context()
	folders, err := c.svc.Flows.Folders(ctx)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	folderID := r.URL.Query().Get("folder")
	var current *Folder
	for _, f := range folders {
		if f.ID == folderID {
			current = f
		}
	}
	if current == nil {
		folderID = ""
	}
	flows, err := c.svc.Flows.Flows(ctx, folderID)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	health, err := c.flowHealth(ctx)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	title := "Flows"
	if current != nil {
		title = current.Name
	}
	c.view(w, r, "flow_list", title, "workflows").Set("tab", "flows").
		Set("folders", folders).Set("folder", current).Set("flows", flows).
		Set("canManage", can(r, auth.PermManageFlows)).Set("health", health).Set("showHealth", health != nil).Set("alerts", c.svc.Alerts != nil).Render()
}
