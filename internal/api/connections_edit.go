package api

import (
	"maps"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// createConnection serves POST /api/v1/connections {"name", "kind",
// "fields", "dryRun"}: fields holds the kind's fields, secret ones in
// clear. The answer shows secrets only masked; a taken name is a 409.
func (a *API) createConnection(w http.ResponseWriter, r *http.Request) error {
	var in connection.Input
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := a.svc.Connections.Create(r.Context(), in)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusCreated, c)
	return nil
}

// updateConnection serves PUT /api/v1/connections/{name} {"name",
// "fields", "dryRun"}. What the body leaves out keeps its value: a field
// not given, an empty secret, the name and the dry-run switch. So a
// script can rotate a token by sending that token alone, and never needs
// the secrets it cannot read back.
func (a *API) updateConnection(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name   *string           `json:"name"`
		Kind   string            `json:"kind"`
		Fields map[string]string `json:"fields"`
		DryRun *bool             `json:"dryRun"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := a.connectionNamed(r)
	if err != nil {
		return err
	}
	up := connection.Input{Name: c.Name, Kind: in.Kind, Fields: maps.Clone(c.Settings), DryRun: c.DryRun}
	if up.Fields == nil {
		up.Fields = map[string]string{}
	}
	maps.Copy(up.Fields, in.Fields)
	if in.Name != nil {
		up.Name = strings.TrimSpace(*in.Name)
	}
	if in.DryRun != nil {
		up.DryRun = *in.DryRun
	}
	c, err = a.svc.Connections.Update(r.Context(), c.ID, up)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, c)
	return nil
}

// deleteConnection serves DELETE /api/v1/connections/{name}. Flows that
// name it can no longer be turned on, and running ones fail at the action
// with an error that names it.
func (a *API) deleteConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := a.connectionNamed(r)
	if err != nil {
		return err
	}
	if err := a.svc.Connections.Delete(r.Context(), c.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
