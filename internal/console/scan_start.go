package console

import "net/http"

// startScan serves POST /ispm/scans: Scan now, for one source (form field
// source) or all, then the scan's progress page.
func (c *Console) startScan(w http.ResponseWriter, r *http.Request) {
	if c.svc.Sources == nil {
		c.unavailable(w, r, "Sources")
		return
	}
	if err := parseForm(w, r); err != nil {
		c.fail(w, r, &InputError{Message: "The form could not be read."}, "/ispm/sources")
		return
	}
	id, err := c.svc.Sources.StartScan(r.Context(), r.PostFormValue("source"))
	if err != nil {
		c.fail(w, r, err, "/ispm/sources")
		return
	}
	http.Redirect(w, r, "/ispm/scans/"+id, http.StatusSeeOther)
}
