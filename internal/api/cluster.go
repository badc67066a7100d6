package api

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// getCluster serves GET /api/v1/cluster: the nodes, their role, version
// and running work, and the queue depth.
func (a *API) getCluster(w http.ResponseWriter, r *http.Request) error {
	if a.svc.Cluster == nil {
		return unavailable("The cluster status is not available on this server.")
	}
	s, err := a.svc.Cluster(r.Context())
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, s)
	return nil
}
