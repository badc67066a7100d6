package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// checkConnection serves POST /workflows/connections/{name}/test: Test
// connection, one harmless read call, its result as the next page's message.
func (c *Console) checkConnection(w http.ResponseWriter, r *http.Request) {
	if c.svc.Connections == nil {
		c.unavailable(w, r, "Connections")
		return
	}
	name := r.PathValue("name")
	res, err := c.svc.Connections.TestConnection(r.Context(), name)
	if err != nil {
		c.fail(w, r, err, "/workflows/connections")
		return
	}
	kind := flashOK
	if !res.OK {
		kind = flashError
	}
	c.redirect(w, r, "/workflows/connections", kind, name+": "+httpjson.Sentence(res.Message))
}
