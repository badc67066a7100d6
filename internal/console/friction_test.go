package console_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows"
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
			w := consoletest.New(t, consoletest.Options{Dialect: dialect, Logger: testLogger(t)})
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

// TestTurnOnFolderFlows turns on the ISPM folder's flows in one action
// over the real services, with only the Slack connection set: the flows
// the service accepts are on, the others stay off, and the summary names
// each of them with the service's reason.
func TestTurnOnFolderFlows(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			w := consoletest.New(t, consoletest.Options{Dialect: dialect, Logger: testLogger(t)})
			admin := w.Client(t, auth.RoleWorkflowsAdmin)
			ctx := context.Background()
			if pg := post(t, admin, w.URL+ispmPath, url.Values{"var_slackChannel": {"#security"}}); pg.Status != 303 {
				t.Fatalf("add template: status %d", pg.Status)
			}
			if _, err := w.Connections.Create(ctx, connection.Input{Name: "Slack", Kind: "slack", DryRun: true,
				Fields: map[string]string{"token": "xoxb-dry-run"}}); err != nil {
				t.Fatal(err)
			}
			folder, err := w.Flows.Folder(ctx, "Identity Security Posture Management")
			if err != nil {
				t.Fatal(err)
			}
			page := get(t, admin, w.URL+"/workflows/flows?folder="+folder.ID).Body
			if !strings.Contains(page, `action="/workflows/folders/`+folder.ID+`/on"`) {
				t.Fatal("the folder's page has no Turn on this folder's flows")
			}

			pg := post(t, admin, w.URL+"/workflows/folders/"+folder.ID+"/on", nil)
			if pg.Status != 303 || pg.Location != "/workflows/flows?folder="+folder.ID {
				t.Fatalf("turn on: %d to %q", pg.Status, pg.Location)
			}
			msg := flashOf(get(t, admin, w.URL+pg.Location).Body)

			list, err := w.Flows.Flows(ctx, flows.ListFlowsParams{FolderID: folder.ID})
			if err != nil {
				t.Fatal(err)
			}
			on := map[string]bool{}
			var off []string
			for _, f := range list {
				on[f.Title] = f.On
				if !f.On {
					off = append(off, f.Title)
				}
			}
			if !on["5.1 Notify Slack channel"] {
				t.Errorf("5.1, whose connection is set, was not turned on: %v", on)
			}
			if on["2.2 Suspend Okta User"] {
				t.Error("2.2 Suspend Okta User was turned on without its connection")
			}
			want := fmt.Sprintf("Turned on %d flows of Identity Security Posture Management; %d stayed off.", len(list)-len(off), len(off))
			if !strings.HasPrefix(msg, want) {
				t.Errorf("summary %q, want it to start %q", msg, want)
			}
			for _, title := range off {
				if !strings.Contains(msg, title) {
					t.Errorf("the summary does not name %s, which stayed off: %q", title, msg)
				}
			}
			if !strings.Contains(msg, "the connection Okta (okta) is not set") {
				t.Errorf("the summary does not say why 2.2 stayed off: %q", msg)
			}

			// Once the Okta connection exists, a second press turns its flows on.
			if _, err := w.Connections.Create(ctx, connection.Input{Name: "Okta", Kind: "okta", DryRun: true,
				Fields: map[string]string{"url": "https://127.0.0.1", "token": "00dryrun"}}); err != nil {
				t.Fatal(err)
			}
			post(t, admin, w.URL+"/workflows/folders/"+folder.ID+"/on", nil)
			msg = flashOf(get(t, admin, w.URL+"/workflows/flows?folder="+folder.ID).Body)
			f, err := w.Flows.Flow(ctx, w.FlowByTitle(t, "2.2 Suspend Okta User"))
			if err != nil || !f.On {
				t.Errorf("2.2 after its connection was added: on=%v err=%v; summary %q", f != nil && f.On, err, msg)
			}
			if strings.Contains(msg, "2.2 Suspend Okta User") {
				t.Errorf("the second summary still names 2.2: %q", msg)
			}
		})
	}
}

// TestEditConnection edits a connection through the console over the real
// connection service: the form shows the saved values but never the
// secret, a secret left empty keeps its value, a moved host asks for the
// secret again and changes nothing, and a rename takes effect.
func TestEditConnection(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			w := consoletest.New(t, consoletest.Options{Dialect: dialect, Logger: testLogger(t)})
			admin := w.Client(t, auth.RoleWorkflowsAdmin)
			ctx := context.Background()
			const token = "00first-secret-token-1234"
			if _, err := w.Connections.Create(ctx, connection.Input{Name: "Okta", Kind: "okta", DryRun: true,
				Fields: map[string]string{"url": "https://127.0.0.1:8443", "token": token}}); err != nil {
				t.Fatal(err)
			}
			if list := get(t, admin, w.URL+"/workflows/connections").Body; !strings.Contains(list, `href="/workflows/connections/Okta/edit"`) {
				t.Error("the Connections page offers no Edit")
			}
			form := get(t, admin, w.URL+"/workflows/connections/Okta/edit")
			if form.Status != 200 || !strings.Contains(form.Body, `action="/workflows/connections/Okta/edit"`) ||
				!strings.Contains(form.Body, `value="https://127.0.0.1:8443"`) || !strings.Contains(form.Body, "saved — leave empty to keep") {
				t.Fatalf("the edit form: %d %.3000s", form.Status, form.Body)
			}
			if strings.Contains(form.Body, token) || strings.Contains(form.Body, "1234") {
				t.Fatal("the edit form shows the saved token")
			}

			// Turning dry run off with the token left empty keeps the token.
			pg := post(t, admin, w.URL+"/workflows/connections/Okta/edit", url.Values{"name": {"Okta"}, "v_url": {"https://127.0.0.1:8443"}, "v_token": {""}})
			if pg.Status != 303 || pg.Location != "/workflows/connections" {
				t.Fatalf("save with the secret kept: %d %q %.500s", pg.Status, pg.Location, pg.Body)
			}
			c, err := w.Connections.Get(ctx, "Okta")
			if err != nil {
				t.Fatal(err)
			}
			if c.DryRun || !strings.HasSuffix(c.Secrets["token"], "1234") {
				t.Fatalf("after the edit: dry run %v, token %q; want off and the saved token", c.DryRun, c.Secrets["token"])
			}

			// Another host without the token: refused, nothing changes.
			pg = post(t, admin, w.URL+"/workflows/connections/Okta/edit", url.Values{"name": {"Okta"}, "v_url": {"https://127.0.0.2:8443"}})
			if pg.Status != 422 || !strings.Contains(pg.Body, "moved to another host") || !strings.Contains(pg.Body, `value="https://127.0.0.2:8443"`) {
				t.Fatalf("a moved host without its secret: %d %.3000s", pg.Status, pg.Body)
			}
			if c, _ := w.Connections.Get(ctx, "Okta"); c.Settings["url"] != "https://127.0.0.1:8443" {
				t.Fatalf("the refused edit moved the connection to %q", c.Settings["url"])
			}

			// With the token given again it moves, and a rename takes effect.
			pg = post(t, admin, w.URL+"/workflows/connections/Okta/edit", url.Values{"name": {"Okta prod"}, "v_url": {"https://127.0.0.2:8443"}, "v_token": {"00second-secret-token-9876"}, "dry_run": {"on"}})
			if pg.Status != 303 {
				t.Fatalf("a moved host with its secret: %d %.1000s", pg.Status, pg.Body)
			}
			c, err = w.Connections.Get(ctx, "Okta prod")
			if err != nil {
				t.Fatal(err)
			}
			if c.Settings["url"] != "https://127.0.0.2:8443" || !strings.HasSuffix(c.Secrets["token"], "9876") || !c.DryRun {
				t.Errorf("after the move: %+v", c)
			}
			if _, err := w.Connections.Get(ctx, "Okta"); err == nil {
				t.Error("the old name still finds the connection")
			}
			if pg := get(t, admin, w.URL+"/workflows/connections/Nope/edit"); pg.Status != 404 {
				t.Errorf("editing a connection that does not exist: %d", pg.Status)
			}
		})
	}
}
