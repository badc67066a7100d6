package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// listTemplates serves GET /api/v1/templates (?q= searches the names,
// titles, keywords and descriptions), by title.
func (a *API) listTemplates(w http.ResponseWriter, r *http.Request) error {
	list := a.svc.Templates.Search(r.URL.Query().Get("q"))
	if list == nil {
		list = []*template.Template{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"templates": list})
	return nil
}

func (a *API) template(r *http.Request) (*template.Template, error) {
	name := r.PathValue("name")
	t, err := a.svc.Templates.Get(name)
	if errors.Is(err, template.ErrNotFound) {
		return nil, notFound("No template is named %q; GET /api/v1/templates lists them.", name)
	}
	return t, err
}

// getTemplate serves GET /api/v1/templates/{name}.
func (a *API) getTemplate(w http.ResponseWriter, r *http.Request) error {
	t, err := a.template(r)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, t)
	return nil
}

// TemplateAdded is the answer to POST /api/v1/templates/{name}/add.
type TemplateAdded struct {
	*template.Added
	// FolderID is the id of the folder created.
	FolderID string `json:"folderId"`
}

// addTemplate serves POST /api/v1/templates/{name}/add {"folder": …,
// "vars": {…}, "again": false}: the template's flows and tables in a new
// folder, flows off until their connections are set. When the folder
// exists already it is a 409 unless again is true, which adds a second
// copy as "… (2)".
func (a *API) addTemplate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Folder string            `json:"folder"`
		Vars   map[string]string `json:"vars"`
		Again  bool              `json:"again"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := a.template(r)
	if err != nil {
		return err
	}
	// Render is what Add does first; running it here tells a bad variable
	// from a failure of the install.
	if _, err := t.Render(in.Vars); err != nil {
		return invalid("vars", "%s", httpjson.Sentence(err.Error()))
	}
	ctx := r.Context()
	inst := template.FlowsInstaller{Flows: a.svc.Flows, By: userName(r)}
	if !in.Again {
		if err := a.svc.Templates.CheckNew(ctx, inst, t.Name, in.Folder); errors.Is(err, template.ErrPresent) {
			return conflict("%s", httpjson.Sentence(err.Error()+`; send "again": true to add it anyway`))
		} else if err != nil {
			return err
		}
	}
	added, err := a.svc.Templates.Add(ctx, inst, t.Name, strings.TrimSpace(in.Folder), in.Vars)
	if errors.Is(err, flows.ErrInvalid) {
		return invalid("folder", "%s", httpjson.Sentence(err.Error()))
	}
	if err != nil {
		return err
	}
	folder, err := a.svc.Flows.Folder(ctx, added.Folder)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusCreated, TemplateAdded{Added: added, FolderID: folder.ID})
	return nil
}
