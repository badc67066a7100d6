package console

import (
	"net/http"
	"net/url"
	"strings"
)

// showEditConnectionForm serves GET /workflows/connections/{name}/edit:
// the connection's form filled with its non-secret values. Secret fields
// stay empty, saying a value is saved; left empty they keep it.
func (c *Console) showEditConnectionForm(w http.ResponseWriter, r *http.Request) {
	if c.svc.Connections == nil {
		c.unavailable(w, r, "Connections")
		return
	}
	cn, ft, ok := c.connectionToEdit(w, r, r.PathValue("name"))
	if !ok {
		return
	}
	f := connectionForm{Type: cn.Type, Name: cn.Name, DryRun: cn.DryRun, Edit: cn.Name, Fields: fieldViews(ft, cn.Values, true)}
	c.renderConnectionForm(w, r, f, http.StatusOK)
}

// editConnection serves POST /workflows/connections/{name}/edit. It makes
// the same service call as the API's partial update, so a secret left
// empty keeps its saved value and a moved host asks for it again; a
// refusal shows the form again with the values typed, secrets cleared.
func (c *Console) editConnection(w http.ResponseWriter, r *http.Request) {
	if c.svc.Connections == nil {
		c.unavailable(w, r, "Connections")
		return
	}
	name := r.PathValue("name")
	back := "/workflows/connections/" + url.PathEscape(name) + "/edit"
	if !c.readForm(w, r, back) {
		return
	}
	cn, ft, ok := c.connectionToEdit(w, r, name)
	if !ok {
		return
	}
	in := ConnectionInput{Type: cn.Type, Name: strings.TrimSpace(r.PostFormValue("name")), DryRun: checked(r, "dry_run"), Values: formValues(r, ft)}
	saved, err := c.svc.Connections.EditConnection(r.Context(), name, in)
	if err != nil {
		if msg, ok := userMessage(err); ok {
			f := connectionForm{Type: in.Type, Name: in.Name, DryRun: in.DryRun, Edit: name, Fields: fieldViews(ft, in.Values, true), Error: msg}
			c.renderConnectionForm(w, r, f, http.StatusUnprocessableEntity)
			return
		}
		c.fail(w, r, err, "/workflows/connections")
		return
	}
	c.redirect(w, r, "/workflows/connections", flashOK, "The connection "+saved.Name+" is saved.")
}

// connectionToEdit returns the connection named name and its form type,
// or answers the request (not found) and reports false.
func (c *Console) connectionToEdit(w http.ResponseWriter, r *http.Request, name string) (*Connection, FormType, bool) {
	cn, err := c.svc.Connections.Connection(r.Context(), name)
	if err != nil {
		c.fail(w, r, err, "/workflows/connections")
		return nil, FormType{}, false
	}
	ft, ok := formType(c.svc.Connections.ConnectionTypes(), cn.Type)
	if !ok {
		c.notFound(w, r)
		return nil, FormType{}, false
	}
	return cn, ft, true
}
