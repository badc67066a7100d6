package console

import (
	"net/http"
)

// switchFlow serves POST /workflows/flows/{id}/state: the on/off switch.
// Turning on fails with the service's sentence when something the flow
// needs is missing (a connection, a variable).
func (c *Console) switchFlow(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	id := r.PathValue("id")
	if !c.readForm(w, r, "/workflows/flows/"+id) {
		return
	}
	back := cleanPath(r.PostFormValue("back"), "/workflows/flows/"+id)
	on := checked(r, "on")
	if err := c.svc.Flows.SetFlowOn(r.Context(), id, on); err != nil {
		c.fail(w, r, err, back)
		return
	}
	state := "off"
	if on {
		state = "on"
	}
	name := id
	if f, err := c.svc.Flows.Flow(r.Context(), id); err == nil {
		name = f.Title
	}
	c.redirect(w, r, back, flashOK, "The flow "+name+" is "+state+".")
}
