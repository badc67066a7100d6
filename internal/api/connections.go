package api

import (
	"errors"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// connectionNamed returns the connection named (or with the id) in the
// path, secrets masked.
func (a *API) connectionNamed(r *http.Request) (*connection.Connection, error) {
	name := r.PathValue("name")
	c, err := a.svc.Connections.Get(r.Context(), name)
	if errors.Is(err, connection.ErrNotFound) {
		return nil, notFound("No connection is named %q; GET /api/v1/connections lists them.", name)
	}
	return c, err
}

// listConnections serves GET /api/v1/connections, by name. Secret fields
// appear masked to their last four characters, never in clear.
func (a *API) listConnections(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Connections.List(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []*connection.Connection{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"connections": list})
	return nil
}

// getConnection serves GET /api/v1/connections/{name}.
func (a *API) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := a.connectionNamed(r)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, c)
	return nil
}

// testConnection serves POST /api/v1/connections/{name}/test: one
// harmless read call with the connection's credentials. A refused call is
// a 200 answer with ok false and the reason; the outcome is also recorded
// on the connection (lastTest).
func (a *API) testConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := a.connectionNamed(r)
	if err != nil {
		return err
	}
	res, err := a.svc.Connections.Test(r.Context(), c.ID)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

// setDryRun serves PUT /api/v1/connections/{name}/dry-run {"on": bool}:
// in dry run, every action through the connection records the request it
// would send instead of sending it.
func (a *API) setDryRun(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		On *bool `json:"on"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.On == nil {
		return invalid("on", "Say whether dry run is on, as {\"on\": true} or {\"on\": false}.")
	}
	c, err := a.connectionNamed(r)
	if err != nil {
		return err
	}
	c, err = a.svc.Connections.SetDryRun(r.Context(), c.ID, *in.On)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, c)
	return nil
}
