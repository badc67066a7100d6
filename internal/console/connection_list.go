package console

import "net/http"

// showConnectionList serves GET /workflows/connections: each connection
// with Test and the dry-run switch, and the types to add.
func (c *Console) showConnectionList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Connections == nil {
		c.unavailable(w, r, "Connections")
		return
	}
	list, err := c.svc.Connections.Connections(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	labels := map[string]string{}
	for _, t := range c.svc.Connections.ConnectionTypes() {
		labels[t.Type] = t.Label
	}
	c.view(w, r, "connection_list", "Connections", "workflows").Set("tab", "connections").
		Set("connections", list).Set("types", c.svc.Connections.ConnectionTypes()).Set("typeLabels", labels).Render()
}
