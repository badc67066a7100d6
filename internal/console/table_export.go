package console

import (
	"net/http"
	"regexp"
)

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// exportTable serves GET /workflows/tables/{id}/export: every row as CSV.
func (c *Console) exportTable(w http.ResponseWriter, r *http.Request) {
	t, ok := c.pathTable(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	name := unsafeFileChars.ReplaceAllString(t.Name, "-") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := c.svc.Tables.ExportCSV(ctx, t.ID, w); err != nil {
		// The header is gone; all that can be done is to log it.
		c.log.Error("table export failed", "table", t.ID, "error", err)
	}
}
