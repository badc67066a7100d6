package console_test

import (
	"strings"
	"testing"
)

// TestEveryPageRenders opens every page as the super admin and checks that
// it renders completely: status 200, the layout's end, no template gaps.
func TestEveryPageRenders(t *testing.T) {
	f := setup(t)
	pages := []string{
		"/ispm", "/ispm/issues", "/ispm/issues?status=all&severity=High&q=a", "/ispm/issues/" + f.issueID,
		"/ispm/sources", "/ispm/sources/new", "/ispm/sources/new?kind=synthetic", "/ispm/sources/" + f.sourceName + "/edit",
		"/ispm/scans/" + f.scanID,
		"/ispm/settings/integrations", "/ispm/settings/integrations/webhook", "/ispm/settings/integrations/" + f.hookID,
		"/ispm/settings/integrations/" + f.hookID + "/edit", "/ispm/settings/integrations/" + f.hookID + "/deliveries/" + f.deliveryID,
		"/workflows/templates", "/workflows/templates?q=ispm&t=identity-security-posture-management",
		"/workflows/flows", "/workflows/flows?folder=" + f.folderID, "/workflows/flows/new",
		"/workflows/flows/" + f.routeID, "/workflows/flows/" + f.helperID, "/workflows/flows/" + f.routeID + "/endpoint",
		"/workflows/history", "/workflows/history?status=succeeded&duration=lt1s", "/workflows/executions/" + f.executionID,
		"/workflows/connections", "/workflows/connections/new", "/workflows/connections/new?type=okta",
		"/workflows/tables", "/workflows/tables/" + f.tableID,
		"/admin/users", "/admin/tokens", "/admin/settings", "/admin/audit", "/admin/audit?action=flow&since=2026-01-01",
	}
	for _, p := range pages {
		t.Run(p, func(t *testing.T) {
			pg := get(t, f.admin, f.w.URL+p)
			if pg.Status != 200 {
				t.Fatalf("status %d: %.600s", pg.Status, pg.Body)
			}
			for _, bad := range []string{"<no value>", "%!", "ZgotmplZ"} {
				if strings.Contains(pg.Body, bad) {
					i := strings.Index(pg.Body, bad)
					t.Errorf("page contains %q near %q", bad, pg.Body[max(0, i-200):min(len(pg.Body), i+100)])
				}
			}
			if !strings.Contains(pg.Body, "</html>") {
				t.Error("the page is cut short")
			}
		})
	}
}
