package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// folderNamed returns the folder whose id or name is in the path.
func (a *API) folderNamed(r *http.Request) (*flows.Folder, error) {
	ref := r.PathValue("id")
	f, err := a.svc.Flows.Folder(r.Context(), ref)
	if errors.Is(err, flows.ErrNotFound) {
		return nil, notFound("No folder has the id or name %q; GET /api/v1/folders lists them.", ref)
	}
	return f, err
}

// nameError gives the flows service's refusal of a folder name the field
// it is about; the service's errors say what but not where.
func nameError(err error) error {
	if errors.Is(err, flows.ErrInvalid) {
		return invalid("name", "%s", httpjson.Sentence(err.Error()))
	}
	return err
}

// stateError answers as a 409 the flows service's refusal of a change
// the current state forbids (deleting a flow that is on, or a folder that
// holds flows), which the service reports as bad input.
func stateError(err error) error {
	if errors.Is(err, flows.ErrInvalid) {
		return conflict("%s", httpjson.Sentence(err.Error()))
	}
	return err
}

// createFolder serves POST /api/v1/folders {"name", "description"}. A
// name another folder has is a 409.
func (a *API) createFolder(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	f, err := a.svc.Flows.CreateFolder(r.Context(), strings.TrimSpace(in.Name), in.Description)
	if err != nil {
		return nameError(err)
	}
	httpjson.Write(w, http.StatusCreated, f)
	return nil
}

// updateFolder serves PUT /api/v1/folders/{id} {"name", "description"}:
// a field left out keeps its value, so a rename need not repeat the
// description.
func (a *API) updateFolder(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Name == nil && in.Description == nil {
		return invalid("body", "Give the folder a new name or description, as {\"name\": …} or {\"description\": …}.")
	}
	f, err := a.folderNamed(r)
	if err != nil {
		return err
	}
	name, description := f.Name, f.Description
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
	}
	if in.Description != nil {
		description = *in.Description
	}
	f, err = a.svc.Flows.UpdateFolder(r.Context(), f.ID, name, description)
	if err != nil {
		return nameError(err)
	}
	httpjson.Write(w, http.StatusOK, f)
	return nil
}

// deleteFolder serves DELETE /api/v1/folders/{id}: an empty folder with
// its tables. A folder that still holds flows is refused with 409, so
// that deleting a folder never deletes a flow.
func (a *API) deleteFolder(w http.ResponseWriter, r *http.Request) error {
	f, err := a.folderNamed(r)
	if err != nil {
		return err
	}
	if err := stateError(a.svc.Flows.DeleteFolder(r.Context(), f.ID)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
