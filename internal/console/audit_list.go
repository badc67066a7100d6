package console

import (
	"net/http"
	"net/url"

	"github.com/vigil-ispm/vigil/internal/audit"
)

// showAuditLog serves GET /admin/audit: the audit log, newest first,
// filtered by actor, action and time, a page at a time, with a link that
// exports the same selection as JSON lines. Super admins only.
func (c *Console) showAuditLog(w http.ResponseWriter, r *http.Request) {
	if c.svc.Audit == nil {
		c.errorPage(w, r, http.StatusServiceUnavailable, "The audit log is not available on this server.")
		return
	}
	q := r.URL.Query()
	in := audit.FilterInput{Actor: q.Get("actor"), Action: q.Get("action"), Since: q.Get("since"), Until: q.Get("until"),
		Before: q.Get("before")}
	v := c.view(w, r, "audit_list", "Audit log", "admin").Set("tab", "audit").Set("in", in)
	f, err := audit.ParseFilter(in)
	if err != nil {
		v.Set("error", err.Error()).Set("page", &audit.Page{}).Status(http.StatusBadRequest).Render()
		return
	}
	page, err := c.svc.Audit.List(r.Context(), f)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	export := url.Values{"format": {"jsonl"}}
	for k, val := range map[string]string{"actor": in.Actor, "action": in.Action, "since": in.Since, "until": in.Until} {
		if val != "" {
			export.Set(k, val)
		}
	}
	v.Set("page", page).Set("export", "/api/v1/audit?"+export.Encode())
	if page.Next != "" {
		v.Set("older", queryWith(r, "before", page.Next))
	}
	if in.Before != "" {
		v.Set("newest", queryWith(r, "before", ""))
	}
	v.Render()
}
