package console

import "net/http"

// switchDryRun serves POST /workflows/connections/{name}/dry-run: the
// dry-run switch.
func (c *Console) switchDryRun(w http.ResponseWriter, r *http.Request) {
	if c.svc.Connections == nil {
		c.unavailable(w, r, "Connections")
		return
	}
	if !c.readForm(w, r, "/workflows/connections") {
		return
	}
	name, on := r.PathValue("name"), checked(r, "dry_run")
	if err := c.svc.Connections.SetDryRun(r.Context(), name, on); err != nil {
		c.fail(w, r, err, "/workflows/connections")
		return
	}
	msg := name + " now sends real requests."
	if on {
		msg = name + " is in dry-run mode: requests are recorded in the flow history, not sent."
	}
	c.redirect(w, r, "/workflows/connections", flashOK, msg)
}

// removeConnection serves POST /workflows/connections/{name}/delete.
func (c *Console) removeConnection(w http.ResponseWriter, r *http.Request) {
	if c.svc.Connections == nil {
		c.unavailable(w, r, "Connections")
		return
	}
	name := r.PathValue("name")
	if err := c.svc.Connections.RemoveConnection(r.Context(), name); err != nil {
		c.fail(w, r, err, "/workflows/connections")
		return
	}
	c.redirect(w, r, "/workflows/connections", flashOK, "The connection "+name+" is removed.")
}
