package console

import (
	"net/http"
	"strings"
)

// connectionForm is the data of the Add connection form.
type connectionForm struct {
	Type   string
	Name   string
	DryRun bool
	// Edit is the saved name of the connection being edited; empty on
	// the Add form.
	Edit   string
	Types  []FormType
	Fields []fieldView
	Error  string
}

// showNewConnectionForm serves GET /workflows/connections/new?type=T&name=N.
func (c *Console) showNewConnectionForm(w http.ResponseWriter, r *http.Request) {
	if c.svc.Connections == nil {
		c.unavailable(w, r, "Connections")
		return
	}
	q := r.URL.Query()
	f := connectionForm{Type: q.Get("type"), Name: q.Get("name")}
	if ft, ok := formType(c.svc.Connections.ConnectionTypes(), f.Type); ok {
		f.Fields = fieldViews(ft, nil, false)
		if f.Name == "" {
			f.Name = ft.Label
		}
	} else {
		f.Type = ""
	}
	c.renderConnectionForm(w, r, f, http.StatusOK)
}

func (c *Console) renderConnectionForm(w http.ResponseWriter, r *http.Request, f connectionForm, status int) {
	f.Types = c.svc.Connections.ConnectionTypes()
	title := "Add a connection"
	if f.Edit != "" {
		title = "Edit the connection " + f.Edit
	}
	c.view(w, r, "connection_form", title, "workflows").Set("tab", "connections").Set("form", f).Status(status).Render()
}

// addConnection serves POST /workflows/connections.
func (c *Console) addConnection(w http.ResponseWriter, r *http.Request) {
	if c.svc.Connections == nil {
		c.unavailable(w, r, "Connections")
		return
	}
	if !c.readForm(w, r, "/workflows/connections") {
		return
	}
	in := ConnectionInput{Type: r.PostFormValue("type"), Name: strings.TrimSpace(r.PostFormValue("name")), DryRun: checked(r, "dry_run")}
	ft, ok := formType(c.svc.Connections.ConnectionTypes(), in.Type)
	if !ok {
		c.redirect(w, r, "/workflows/connections/new", flashError, "Choose the type of connection first.")
		return
	}
	in.Values = formValues(r, ft)
	cn, err := c.svc.Connections.AddConnection(r.Context(), in)
	if err != nil {
		if msg, ok := userMessage(err); ok {
			f := connectionForm{Type: in.Type, Name: in.Name, DryRun: in.DryRun, Fields: fieldViews(ft, in.Values, false), Error: msg}
			c.renderConnectionForm(w, r, f, http.StatusUnprocessableEntity)
			return
		}
		c.serverError(w, r, err)
		return
	}
	mode := ""
	if cn.DryRun {
		mode = " in dry-run mode: flows record the requests they would send without sending them"
	}
	c.redirect(w, r, "/workflows/connections", flashOK, "The connection "+cn.Name+" is saved"+mode+".")
}
