package console

import "net/http"

// removeSource serves POST /ispm/sources/{name}/delete. Its open issues are
// resolved by the source service.
func (c *Console) removeSource(w http.ResponseWriter, r *http.Request) {
	if c.svc.Sources == nil {
		c.unavailable(w, r, "Sources")
		return
	}
	name := r.PathValue("name")
	if err := c.svc.Sources.RemoveSource(r.Context(), name, userName(r)); err != nil {
		c.fail(w, r, err, "/ispm/sources")
		return
	}
	c.redirect(w, r, "/ispm/sources", flashOK, "The source "+name+" is removed and its issues resolved.")
}
