package api

import (
	"errors"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// listAudit serves GET /api/v1/audit: a page of the audit log, newest
// first, filtered by actor, action prefix and time, with "next" as the
// before cursor of the following page. With format=jsonl it streams every
// matching entry as JSON lines instead, for export; limit and before do
// not apply then.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	if a.svc.Audit == nil {
		return unavailable("The audit log is not available on this server.")
	}
	q := r.URL.Query()
	f, err := audit.ParseFilter(audit.FilterInput{Actor: q.Get("actor"), Action: q.Get("action"), Since: q.Get("since"),
		Until: q.Get("until"), Before: q.Get("before"), Limit: q.Get("limit")})
	if err != nil {
		var ie *audit.InvalidError
		if errors.As(err, &ie) {
			return invalid(ie.Field, "%s", ie.Message)
		}
		return err
	}
	switch q.Get("format") {
	case "", "json":
	case "jsonl":
		return a.exportAudit(w, r, f)
	default:
		return invalid("format", "The format must be json (the default) or jsonl.")
	}
	page, err := a.svc.Audit.List(r.Context(), f)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, page)
	return nil
}

// exportAudit streams the entries f selects as JSON lines, flushing after
// each batch so that a long log starts arriving at once. A failure after
// the first line can only end the stream: it is logged.
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, f audit.Filter) error {
	f.Before = ""
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="vigil-audit.jsonl"`)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	flush := func() { _ = rc.Flush() }
	if err := a.svc.Audit.Export(r.Context(), f, w, flush); err != nil {
		a.cfg.Logger.Error("audit export ended early", "error", err)
	}
	return nil
}
