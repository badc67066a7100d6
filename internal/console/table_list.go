package console

import "net/http"

// showTableList serves GET /workflows/tables?folder=ID.
func (c *Console) showTableList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Tables == nil {
		c.unavailable(w, r, "Tables")
		return
	}
	list, err := c.svc.Tables.Tables(r.Context(), r.URL.Query().Get("folder"))
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.view(w, r, "table_list", "Tables", "workflows").Set("tab", "tables").Set("tables", list).Render()
}
