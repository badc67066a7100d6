package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/audit/audittest"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

// TestAuditLogPage checks that a settings change made in the console is
// audited with the signed-in user and the address the server saw, and that
// the Audit log page shows it to super admins only: filtered, to the
// second, with an export link, and without a nav link for anyone else.
func TestAuditLogPage(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			w := consoletest.New(t, consoletest.Options{Logger: testLogger(t), Dialect: dialect})
			admin := w.Client(t, auth.RoleSuperAdmin)
			pg := post(t, admin, w.URL+"/admin/settings", url.Values{"public_url": {"https://audit.example.com"},
				"allow_outbound": {"127.0.0.0/8"}, "history_days": {"14"}, "delivery_days": {"30"}})
			if pg.Status != http.StatusSeeOther {
				t.Fatalf("saving settings: %d %s", pg.Status, pg.Body)
			}
			audittest.Has(t, w.Store.Queries, audittest.Want{Action: "settings.update", ActorKind: "user", ActorName: "admin",
				Address: "127.0.0.1", Outcome: "success", Details: []string{`"flow_history_days":{"from":"30","to":"14"}`, "https://audit.example.com"}})
			audittest.Has(t, w.Store.Queries, audittest.Want{Action: "auth.signin", ActorName: "admin", Address: "127.0.0.1"})

			pg = get(t, admin, w.URL+"/admin/audit?action=settings")
			body := html.UnescapeString(pg.Body)
			if pg.Status != http.StatusOK || !strings.Contains(body, "<code>settings.update</code>") || strings.Contains(body, "<code>auth.signin</code>") {
				t.Fatalf("filtered audit page: %d; want settings.update only:\n%s", pg.Status, pg.Body)
			}
			if !regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC`).MatchString(body) {
				t.Error("the audit page does not show times to the second")
			}
			if !strings.Contains(body, `href="/api/v1/audit?action=settings&format=jsonl"`) {
				t.Error("the audit page has no export link for its filter")
			}
			if !strings.Contains(body, `href="/admin/audit"`) {
				t.Error("a super admin has no Audit log link")
			}
			if pg := get(t, admin, w.URL+"/admin/audit?since=yesterday"); pg.Status != http.StatusBadRequest || !strings.Contains(pg.Body, "The since time must be") {
				t.Errorf("a bad filter: %d; want 400 saying what is wrong", pg.Status)
			}

			for _, role := range []auth.Role{auth.RoleWorkflowsAdmin, auth.RoleIssueResponder, auth.RoleIssueViewer} {
				c := w.Client(t, role)
				if pg := get(t, c, w.URL+"/admin/audit"); pg.Status != http.StatusForbidden {
					t.Errorf("%s opens the audit log: %d", role, pg.Status)
				}
				if pg := get(t, c, w.URL+"/admin/tokens"); strings.Contains(pg.Body, `href="/admin/audit"`) {
					t.Errorf("%s sees the Audit log link", role)
				}
			}
		})
	}
}
