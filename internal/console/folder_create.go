package console

import (
	"net/http"
	"net/url"
	"strings"
)

// createFolder serves POST /workflows/folders.
func (c *Console) createFolder(w http.ResponseWriter, r *http.Request) {
	if c.svc.Flows == nil {
		c.unavailable(w, r, "Flows")
		return
	}
	if !c.readForm(w, r, "/workflows/flows") {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		c.redirect(w, r, "/workflows/flows", flashError, "Give the folder a name.")
		return
	}
	f, err := c.svc.Flows.CreateFolder(r.Context(), name)
	if err != nil {
		c.fail(w, r, err, "/workflows/flows")
		return
	}
	c.redirect(w, r, "/workflows/flows?folder="+url.QueryEscape(f.ID), flashOK, "The folder "+f.Name+" is created.")
}
