package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestSourcesAndScans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		var list struct{ Sources []Source }
		r := b.do(auth.RoleSuperAdmin, "GET", "/api/v1/sources", nil)
		want(t, "list sources", r, http.StatusOK, "")
		r.decode(t, &list)
		if len(list.Sources) != 1 || list.Sources[0].Name != "org" || list.Sources[0].Kind != "snapshot" || !list.Sources[0].LastScanOK {
			t.Fatalf("sources %+v; want the scanned snapshot source org", list.Sources)
		}
		var one Source
		b.do(auth.RoleSuperAdmin, "GET", "/api/v1/sources/org", nil).decode(t, &one)
		if one.ID != list.Sources[0].ID || one.Settings.File == "" {
			t.Errorf("source org: %+v", one)
		}
		want(t, "unknown source", b.do(auth.RoleSuperAdmin, "GET", "/api/v1/sources/nope", nil), http.StatusNotFound, "not_found")
		want(t, "workflows admin lists sources", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/sources", nil), http.StatusForbidden, "forbidden")

		var scans struct {
			Scans []struct{ ID, Status, Trigger string }
		}
		b.do(auth.RoleSuperAdmin, "GET", "/api/v1/scans", nil).decode(t, &scans)
		if len(scans.Scans) != 1 || scans.Scans[0].Status != "ok" || scans.Scans[0].Trigger != "cli" {
			t.Fatalf("scans %+v; want the one scan of setup", scans.Scans)
		}
		want(t, "scans limit", b.do(auth.RoleSuperAdmin, "GET", "/api/v1/scans?limit=0", nil), http.StatusBadRequest, "invalid")

		// Bad requests queue nothing: the first good one is not a duplicate.
		for _, body := range []any{
			map[string]any{"sources": []string{"nope"}},
			map[string]any{"sources": []string{"org", "nope"}},
			map[string]any{"source": "org"},
			`{"sources": "org"}`,
		} {
			r := b.do(auth.RoleSuperAdmin, "POST", "/api/v1/scans", body)
			want(t, "bad scan request", r, http.StatusBadRequest, "invalid")
		}
		want(t, "viewer scans", b.do(auth.RoleIssueViewer, "POST", "/api/v1/scans", nil), http.StatusForbidden, "forbidden")
		want(t, "responder scans", b.do(auth.RoleIssueResponder, "POST", "/api/v1/scans", nil), http.StatusForbidden, "forbidden")

		var first, again, named ScanQueued
		r = b.do(auth.RoleSuperAdmin, "POST", "/api/v1/scans", nil)
		want(t, "scan all", r, http.StatusAccepted, "")
		r.decode(t, &first)
		if first.JobID == 0 || first.Duplicate || len(first.Sources) != 0 {
			t.Fatalf("queued %+v; want a new job for every source", first)
		}
		b.do(auth.RoleSuperAdmin, "POST", "/api/v1/scans", map[string]any{}).decode(t, &again)
		if !again.Duplicate || again.JobID != first.JobID {
			t.Errorf("a second scan of every source: %+v; want the waiting job %d as a duplicate", again, first.JobID)
		}
		b.do(auth.RoleSuperAdmin, "POST", "/api/v1/scans", map[string]any{"sources": []string{"org"}}).decode(t, &named)
		if named.Duplicate || named.JobID == first.JobID || strings.Join(named.Sources, ",") != "org" {
			t.Errorf("a scan of org: %+v; want a new job for org", named)
		}
	})
}
