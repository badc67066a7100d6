package console

import "net/http"

// showSourceList serves GET /ispm/sources: each source with its last
// result and error, and Scan now.
func (c *Console) showSourceList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Sources == nil {
		c.unavailable(w, r, "Sources")
		return
	}
	ctx := r.Context()
	list, err := c.svc.Sources.Sources(ctx)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	scans, err := c.svc.Sources.Scans(ctx, 10)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	labels := map[string]string{}
	for _, k := range c.svc.Sources.SourceKinds() {
		labels[k.Type] = k.Label
	}
	c.view(w, r, "source_list", "Sources", "ispm").Set("tab", "sources").
		Set("sources", list).Set("scans", scans).Set("kindLabels", labels).Render()
}
