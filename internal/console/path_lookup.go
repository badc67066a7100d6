package console

import "net/http"

// pathFlow returns the flow the URL's {id} names. When it cannot (no flows
// service, or the flow is missing) it has answered the request itself and
// returns false.
func (c *Console) pathFlow(w http.ResponseWriter, r *http.Request) (*Flow, bool) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return nil, false
	}
	return c.flow(w, r, r.PathValue("id"))
}

// flow returns the flow with id, or answers with its error (a missing
// flow goes back to the list of flows) and returns false.
func (c *Console) flow(w http.ResponseWriter, r *http.Request, id string) (*Flow, bool) {
	f, err := c.svc.Flows.Flow(r.Context(), id)
	if err != nil {
		c.fail(w, r, err, "/workflows/flows")
		return nil, false
	}
	return f, true
}

// pathTable returns the table the URL's {id} names, or answers the request
// itself and returns false, as pathFlow does.
func (c *Console) pathTable(w http.ResponseWriter, r *http.Request) (*Table, bool) {
	if c.svc.Tables == nil {
		c.unavailable(w, r, "Tables")
		return nil, false
	}
	t, err := c.svc.Tables.Table(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err, "/workflows/tables")
		return nil, false
	}
	return t, true
}
