package console_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

// dialects are the databases the tests over the real services run on.
var dialects = []string{"sqlite", "postgres"}

const ispmPath = "/workflows/templates/identity-security-posture-management"

// TestTemplateFormLabelsAndAsksBeforeASecondCopy adds the ISPM template
// through the console over the real services: the form labels each
// variable for people ("Okta MFA group id", not oktaMfaGroupId), and a
// second add into a folder that exists makes nothing until confirmed.
func TestTemplateFormLabelsAndAsksBeforeASecondCopy(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			w := consoletest.New(t, consoletest.Options{Dialect: dialect, Logger: testLogger(t), Real: true})
			admin := w.Client(t, auth.RoleWorkflowsAdmin)
			ctx := context.Background()

			form := get(t, admin, w.URL+"/workflows/templates?t=identity-security-posture-management").Body
			for _, want := range []string{
				`<label for="var-oktaMfaGroupId">Okta MFA group id</label>`,
				`name="var_oktaMfaGroupId"`,
				`placeholder="00g1a2b3c4d5e6f7g8h9"`,
				`<label for="var-jiraProject">Jira project key</label>`,
			} {
				if !strings.Contains(form, want) {
					t.Errorf("the Add template form lacks %s", want)
				}
			}
			if strings.Contains(form, `<label for="var-oktaMfaGroupId">oktaMfaGroupId</label>`) {
				t.Error("the form labels a variable with its raw name")
			}

			vars := url.Values{"var_oktaMfaGroupId": {"00g1first"}}
			if pg := post(t, admin, w.URL+ispmPath, vars); pg.Status != 303 {
				t.Fatalf("first add: status %d", pg.Status)
			}
			folders, err := w.Flows.Folders(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(folders) != 1 {
				t.Fatalf("after the first add: %d folders", len(folders))
			}
			first := folders[0]

			again := url.Values{"var_oktaMfaGroupId": {"00g1second"}}
			pg := post(t, admin, w.URL+ispmPath, again)
			if pg.Status != 200 || !strings.Contains(pg.Body, `data-testid="template-present"`) ||
				!strings.Contains(pg.Body, `href="/workflows/flows?folder=`+first.ID+`">Identity Security Posture Management</a>`) ||
				!strings.Contains(pg.Body, `name="again" value="1"`) || !strings.Contains(pg.Body, `value="00g1second"`) {
				t.Fatalf("a second add does not ask first naming the folder: %d %.2000s", pg.Status, pg.Body)
			}
			if folders, _ := w.Flows.Folders(ctx); len(folders) != 1 {
				t.Fatalf("the unconfirmed second add made a folder: %d folders", len(folders))
			}

			again.Set("again", "1")
			pg = post(t, admin, w.URL+ispmPath, again)
			if pg.Status != 303 {
				t.Fatalf("confirmed second add: status %d", pg.Status)
			}
			second, err := w.Flows.Folder(ctx, "Identity Security Posture Management (2)")
			if err != nil || pg.Location != "/workflows/flows?folder="+second.ID {
				t.Fatalf("confirmed second add went to %q: %v", pg.Location, err)
			}

			// Another folder name is not a second copy of the same folder.
			if pg := post(t, admin, w.URL+ispmPath, url.Values{"folder": {"Remediation"}}); pg.Status != 303 {
				t.Fatalf("add to another folder: status %d", pg.Status)
			}
		})
	}
}
