package console

import (
	"fmt"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// showScan serves GET /ispm/scans/{id}: the scan's live progress (the page
// polls scanProgress) and, once it ends, its result and errors.
func (c *Console) showScan(w http.ResponseWriter, r *http.Request) {
	if c.svc.Sources == nil {
		c.unavailable(w, r, "Sources")
		return
	}
	s, err := c.svc.Sources.Scan(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err, "/ispm/sources")
		return
	}
	c.view(w, r, "scan_show", "Scan", "ispm").Set("tab", "sources").Set("scan", s).Set("message", progressMessage(s)).Render()
}

// scanProgress serves GET /ispm/scans/{id}/progress: a small JSON document
// the scan page polls.
func (c *Console) scanProgress(w http.ResponseWriter, r *http.Request) {
	if c.svc.Sources == nil {
		httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"error": "Sources are not available on this server."})
		return
	}
	s, err := c.svc.Sources.Scan(r.Context(), r.PathValue("id"))
	if err != nil {
		if isNotFound(err) {
			httpjson.Write(w, http.StatusNotFound, map[string]string{"error": "No scan has this id."})
			return
		}
		c.log.Error("scan progress failed", "error", err)
		httpjson.Write(w, http.StatusInternalServerError, map[string]string{"error": "The scan's progress could not be read."})
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{
		"id": s.ID, "status": s.Status, "finished": s.Finished(), "done": s.Done, "total": s.Total,
		"message": progressMessage(s), "opened": s.Opened, "resolved": s.Resolved, "accounts": s.Accounts,
	})
}

// progressMessage says where a scan is, in one line.
func progressMessage(s *Scan) string {
	switch {
	case s.Finished():
		msg := fmt.Sprintf("Scan %s: %d accounts read, %d issues opened, %d resolved, %d unchanged.", s.Status, s.Accounts, s.Opened, s.Resolved, s.Unchanged)
		if s.Error != "" {
			msg += " " + httpjson.Sentence(s.Error)
		}
		return msg
	case s.Progress != "":
		return s.Progress
	case s.Status == "queued":
		return "Waiting for a worker to start the scan…"
	}
	return "Scanning…"
}
