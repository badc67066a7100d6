package console

import (
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// showTemplateList serves GET /workflows/templates: the search box, the
// template cards and, for the selected one (?t=name), its flows, the
// connections it needs and the Add template form.
func (c *Console) showTemplateList(w http.ResponseWriter, r *http.Request) {
	if c.svc.Templates == nil {
		c.unavailable(w, r, "Templates")
		return
	}
	c.renderTemplateList(w, r, r.URL.Query().Get("t"), templateAsk{})
}

// templateAsk is an Add template form sent for a folder that exists
// already: the page shows it again, filled in, with the folder to confirm.
type templateAsk struct {
	Folder  string
	Vars    map[string]string
	Present *Folder
}

func (c *Console) renderTemplateList(w http.ResponseWriter, r *http.Request, selectedName string, ask templateAsk) {
	all, err := c.svc.Templates.Templates(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	var list []Template
	var selected *Template
	for i := range all {
		if matchTemplate(&all[i], q) {
			list = append(list, all[i])
		}
		if all[i].Name == selectedName {
			selected = &all[i]
		}
	}
	if ask.Vars == nil {
		ask.Vars = map[string]string{}
	}
	c.view(w, r, "template_list", "Templates", "workflows").Set("tab", "templates").
		Set("templates", list).Set("q", q).Set("selected", selected).
		Set("vals", ask.Vars).Set("folderVal", ask.Folder).Set("present", ask.Present).
		Set("canAdd", can(r, auth.PermManageTemplates)).Render()
}

// matchTemplate reports whether every word of q appears in the template's
// title, description, keywords or flow titles, ignoring case.
func matchTemplate(t *Template, q string) bool {
	hay := strings.ToLower(t.Name + " " + t.Title + " " + t.Description + " " + strings.Join(t.Keywords, " ") + " " + strings.Join(t.FlowTitles, " "))
	for _, word := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(hay, word) {
			return false
		}
	}
	return true
}
