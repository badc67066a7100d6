package console

import "net/http"

// startScan serves POST /ispm/scans: Scan now, for one source (form field
// source) or all. The scan is a job like every other scan; the sources
// page lists it, with its progress, under Latest scans.
func (c *Console) startScan(w http.ResponseWriter, r *http.Request) {
	if c.svc.Sources == nil {
		c.unavailable(w, r, "Sources")
		return
	}
	if !c.readForm(w, r, "/ispm/sources") {
		return
	}
	if err := c.svc.Sources.QueueScan(r.Context(), r.PostFormValue("source")); err != nil {
		c.fail(w, r, err, "/ispm/sources")
		return
	}
	c.redirect(w, r, "/ispm/sources", flashOK, "The scan is queued; Latest scans shows its progress.")
}
