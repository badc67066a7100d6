package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// addTemplate serves POST /workflows/templates/{name}: Add template, which
// creates a new folder with the template's flows (off) and tables, then
// lands in that folder. When the folder exists already it shows the form
// again, filled in, naming that folder and asking to confirm (again=1)
// before it makes a second copy with its own invoke URLs.
func (c *Console) addTemplate(w http.ResponseWriter, r *http.Request) {
	if c.svc.Templates == nil {
		c.unavailable(w, r, "Templates")
		return
	}
	name := r.PathValue("name")
	back := "/workflows/templates?t=" + url.QueryEscape(name)
	if !c.readForm(w, r, back) {
		return
	}
	vars := map[string]string{}
	for k, vs := range r.PostForm {
		if v, ok := strings.CutPrefix(k, "var_"); ok && len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
			vars[v] = strings.TrimSpace(vs[0])
		}
	}
	folderName := strings.TrimSpace(r.PostFormValue("folder"))
	folder, err := c.svc.Templates.AddTemplate(r.Context(), name, folderName, vars, r.PostFormValue("again") == "1")
	var present *TemplatePresentError
	if errors.As(err, &present) {
		c.renderTemplateList(w, r, name, templateAsk{Folder: folderName, Vars: vars, Present: present.Folder})
		return
	}
	if err != nil {
		c.fail(w, r, err, back)
		return
	}
	c.redirect(w, r, "/workflows/flows?folder="+url.QueryEscape(folder.ID), flashOK,
		"The template is added to the folder "+folder.Name+". Its flows are off: connect each helper flow's environment, then turn them on.")
}
