package console

import (
	"net/http"
)

// sourceForm is the data of the source form.
type sourceForm struct {
	Editing bool
	Name    string
	Kind    string
	Primary bool
	Kinds   []FormType
	Fields  []fieldView
	Result  *CheckResult
	Error   string
}

func (c *Console) renderSourceForm(w http.ResponseWriter, r *http.Request, f sourceForm, status int) {
	title := "Add a source"
	if f.Editing {
		title = "Edit source " + f.Name
	}
	f.Kinds = c.svc.Sources.SourceKinds()
	c.view(w, r, "source_form", title, "ispm").Set("tab", "sources").Set("form", f).Status(status).Render()
}

// showNewSourceForm serves GET /ispm/sources/new?kind=K: the kind picker
// and the fields of the chosen kind.
func (c *Console) showNewSourceForm(w http.ResponseWriter, r *http.Request) {
	if c.svc.Sources == nil {
		c.unavailable(w, r, "Sources")
		return
	}
	f := sourceForm{Kind: r.URL.Query().Get("kind")}
	if ft, ok := formType(c.svc.Sources.SourceKinds(), f.Kind); ok {
		f.Fields = fieldViews(ft, nil, false)
	} else {
		f.Kind = ""
	}
	c.renderSourceForm(w, r, f, http.StatusOK)
}

// showEditSourceForm serves GET /ispm/sources/{name}/edit.
func (c *Console) showEditSourceForm(w http.ResponseWriter, r *http.Request) {
	if c.svc.Sources == nil {
		c.unavailable(w, r, "Sources")
		return
	}
	s, err := c.svc.Sources.Source(r.Context(), r.PathValue("name"))
	if err != nil {
		c.fail(w, r, err, "/ispm/sources")
		return
	}
	ft, _ := formType(c.svc.Sources.SourceKinds(), string(s.Kind))
	c.renderSourceForm(w, r, sourceForm{Editing: true, Name: s.Name, Kind: string(s.Kind), Primary: s.Primary,
		Fields: fieldViews(ft, s.Values, true)}, http.StatusOK)
}
