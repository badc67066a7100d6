package template_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/entra/entratest"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/google/googletest"
	"github.com/vigil-ispm/vigil/internal/jira/jiratest"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/salesforce/salesforcetest"
	"github.com/vigil-ispm/vigil/internal/slack/slacktest"
)

// fakes are every vendor the template's helpers call.
type fakes struct {
	okta       *oktatest.Server
	oktaUser   oktatest.User
	entra      *entratest.Server
	google     *googletest.Server
	salesforce *salesforcetest.Server
	slack      *slacktest.Server
	jira       *jiratest.Server
}

const (
	entraUserID  = "0b8f3c7e-2f1d-4a8e-9b0c-6f1e2d3c4b5a"
	entraGroupID = "5f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0"
	oktaGroupID  = "00gmfa00000000000001"
	sfUserID     = "005000000000001AAA"
	googleUserID = "104857600000000000001"
)

// connectAll starts the fakes and saves a connection to each under the
// name the template's helpers look for.
func connectAll(t *testing.T, e *env) *fakes {
	t.Helper()
	f := &fakes{okta: oktatest.New(t), entra: entratest.New(t), google: googletest.New(t), salesforce: salesforcetest.New(t),
		slack: slacktest.New(t), jira: jiratest.New(t)}
	f.okta.SetClock(func() time.Time { return testNow })
	f.oktaUser = f.okta.AddUser(oktatest.User{Login: "ali.lesch@example.com"})
	f.okta.AddGroup(oktatest.Group{ID: oktaGroupID, Name: "MFA required"})
	f.entra.AddUser(entratest.User{ID: entraUserID, UserPrincipalName: "ali@contoso.example", AccountEnabled: true})
	f.entra.AddGroup(entratest.Group{ID: entraGroupID, DisplayName: "MFA required"})
	f.google.AddUser(googletest.User{ID: googleUserID, PrimaryEmail: "ali@example.com"})
	f.salesforce.AddUser(salesforcetest.User{ID: sfUserID, Username: "ali@acme.example", IsActive: true})
	e.addConnection(t, "Okta", "okta", map[string]string{"url": f.okta.URL, "token": oktatest.DefaultToken})
	e.addConnection(t, "Microsoft Entra ID", "entra", map[string]string{"tenantId": entratest.TenantID, "clientId": entratest.ClientID,
		"clientSecret": entratest.ClientSecret, "loginUrl": f.entra.URL, "graphUrl": f.entra.URL})
	e.addConnection(t, "Google Workspace", "google", map[string]string{"serviceAccountKey": string(f.google.ServiceAccountJSON()),
		"subject": googletest.Admin, "baseUrl": f.google.URL})
	e.addConnection(t, "Salesforce", "salesforce", map[string]string{"instanceUrl": f.salesforce.URL,
		"clientId": salesforcetest.ClientID, "clientSecret": salesforcetest.ClientSecret})
	e.addConnection(t, "Slack", "slack", map[string]string{"token": slacktest.Token, "baseUrl": f.slack.URL + "/api"})
	e.addConnection(t, "Jira", "jira", map[string]string{"siteUrl": f.jira.URL, "email": jiratest.Email, "apiToken": jiratest.APIToken})
	return f
}

var allVars = map[string]string{"oktaMfaGroupId": oktaGroupID, "entraMfaGroupId": entraGroupID, "slackChannel": "#alerts", "jiraProject": "SEC"}

func TestHelpersRemediate(t *testing.T) {
	tests := []struct {
		title   string
		product string
		issue   string
		id      string
		check   func(t *testing.T, f *fakes)
		out     map[string]any
	}{
		{"2.1 Disable Entra ID User", "AAD", "Unused Admin Account", entraUserID, func(t *testing.T, f *fakes) {
			if u, _ := f.entra.User(entraUserID); u.AccountEnabled {
				t.Error("the Entra user is still enabled")
			}
		}, map[string]any{"accountEnabled": false}},
		{"2.2 Suspend Okta User", "Okta", "Unused Admin Account", "", func(t *testing.T, f *fakes) {
			if u, _ := f.okta.User(f.oktaUser.ID); u.Status != "SUSPENDED" {
				t.Errorf("the Okta user is %s", u.Status)
			}
		}, map[string]any{"status": "SUSPENDED"}},
		{"2.3 Suspend Google Workspace User", "Google Workspace", "Unused Account", googleUserID, func(t *testing.T, f *fakes) {
			if u, _ := f.google.User(googleUserID); !u.Suspended {
				t.Error("the Google user is not suspended")
			}
		}, map[string]any{"suspended": true}},
		{"2.4 Deactivate Salesforce User", "Salesforce.com", "Unused Account", sfUserID, func(t *testing.T, f *fakes) {
			if u, _ := f.salesforce.User(sfUserID); u.IsActive {
				t.Error("the Salesforce user is still active")
			}
		}, map[string]any{"isActive": false}},
		{"3.1 Entra ID - Add user to a group", "AAD", "No MFA - Admin Account", entraUserID, func(t *testing.T, f *fakes) {
			if !slices.Contains(f.entra.GroupMembers(entraGroupID), entraUserID) {
				t.Error("the Entra user is not in the MFA group")
			}
		}, map[string]any{"groupId": entraGroupID}},
		{"3.2 Okta - Add user to a group", "Okta", "No MFA - Admin Account", "", func(t *testing.T, f *fakes) {
			if !slices.Contains(f.okta.GroupMembers(oktaGroupID), f.oktaUser.ID) {
				t.Error("the Okta user is not in the MFA group")
			}
		}, map[string]any{"groupId": oktaGroupID}},
		{"4.1 Okta - Reset User Password Upon Next Login", "Okta", "Old Password - Admin Account", "", func(t *testing.T, f *fakes) {
			if u, _ := f.okta.User(f.oktaUser.ID); u.Status != "PASSWORD_EXPIRED" {
				t.Errorf("the Okta user is %s", u.Status)
			}
		}, map[string]any{"status": "PASSWORD_EXPIRED"}},
		{"5.1 Notify Slack channel", "AWS", "Root Account without MFA", "", func(t *testing.T, f *fakes) {
			msgs := f.slack.Messages()
			if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "*High severity: Root Account without MFA*") ||
				!strings.Contains(msgs[0].Text, "<https://vigil.example.com/ispm/issues/iss_01TEST|Open the issue>") {
				t.Errorf("messages %+v", msgs)
			}
		}, map[string]any{"dryRun": false}},
		{"5.2 Create Jira issue", "AWS", "Root Account without MFA", "", func(t *testing.T, f *fakes) {
			is := f.jira.Issues()
			if len(is) != 1 || is[0].Project != "SEC" || is[0].Summary != "Root Account without MFA: Ali Lesch" || !slices.Equal(is[0].Labels, []string{"vigil", "ispm"}) {
				t.Errorf("issues %+v", is)
			}
		}, map[string]any{"key": "SEC-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			e := newEnv(t, allVars)
			f := connectAll(t, e)
			id := tt.id
			if id == "" {
				id = f.oktaUser.ID
			}
			is := issue(tt.product, tt.issue, id, "ali.lesch@example.com")
			res, fault, _ := e.run(t, tt.title, helperInput(is))
			if fault != nil {
				t.Fatalf("fault: %v", fault)
			}
			tt.check(t, f)
			out, _ := res.Output.(map[string]any)
			for k, v := range tt.out {
				if out[k] != v {
					t.Errorf("output %s = %v, want %v (%v)", k, out[k], v, out)
				}
			}
			rows := e.tableRows("ISPM Events")
			if len(rows) != 1 {
				t.Fatalf("ISPM Events rows %v, want one", rows)
			}
			want := map[string]any{"Username": "ali.lesch@example.com", "Title": tt.issue, "Short Description": is.ShortDescription,
				"Full Description": is.FullDescription, "Category": is.Category, "Severity": "High", "Detection Date": "2026-11-28T10:00:00.000Z",
				"Suggested Remediation": is.SuggestedRemediation, "Risk and Impact": is.RiskAndImpact, "Tenant": "example.okta.com", "Product": tt.product}
			for k, v := range want {
				if rows[0][k] != v {
					t.Errorf("row %s = %v, want %v", k, rows[0][k], v)
				}
			}
			if errs := e.tableRows("Error Logging"); len(errs) != 0 {
				t.Errorf("Error Logging rows %v", errs)
			}
		})
	}
}

func TestHelperLogsAndRaisesErrors(t *testing.T) {
	tests := []struct {
		name    string
		title   string
		vars    map[string]string
		noConns bool
		issue   event.Issue
		status  int
		summary string
		message string
	}{
		{name: "unknown user", title: "2.2 Suspend Okta User", vars: allVars,
			issue: issue("Okta", "Unused Admin Account", "00u00000000000009999", "gone@example.com"), status: 404,
			summary: "Okta refused the request",
			message: `okta.suspendUser through connection "Okta" failed: suspend user 00u00000000000009999: Okta answered 404 E0000007`},
		{name: "variable not set", title: "3.2 Okta - Add user to a group", vars: map[string]string{},
			issue: issue("Okta", "No MFA - Admin Account", "", "ali.lesch@example.com"), status: 400,
			summary: "Template variable not set",
			message: "The template variable oktaMfaGroupId (the id of the Okta group that MFA is required of) is not set"},
		{name: "slack channel not set", title: "5.1 Notify Slack channel", vars: map[string]string{"jiraProject": "SEC"},
			issue: issue("AWS", "Root Account without MFA", "", "root"), status: 400,
			summary: "Template variable not set", message: "The template variable slackChannel"},
		{name: "connection missing", title: "2.2 Suspend Okta User", vars: allVars, noConns: true,
			issue: issue("Okta", "Unused Admin Account", "00u00000000000000001", "ali.lesch@example.com"), status: 400,
			summary: "Connection not found", message: `okta.suspendUser: connection "Okta" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.vars)
			var f *fakes
			if !tt.noConns {
				f = connectAll(t, e)
				if tt.issue.AffectedEntity.IDInService == "" {
					tt.issue.AffectedEntity.IDInService = f.oktaUser.ID
				}
				f.okta.ResetRequests()
			}
			_, fault, _ := e.run(t, tt.title, helperInput(tt.issue))
			if fault == nil {
				t.Fatal("the helper succeeded")
			}
			// The DSL's raise takes a literal status, so the helper fails
			// with 500 and carries the caught error's status in the detail.
			status := fmt.Sprintf(" (status %d)", tt.status)
			if fault.Status != 500 || fault.Title != tt.summary || !strings.HasPrefix(fault.Detail, tt.message) || !strings.HasSuffix(fault.Detail, status) {
				t.Errorf("fault %d %q %q, want 500 %q %q…%s", fault.Status, fault.Title, fault.Detail, tt.summary, tt.message, status)
			}
			errs := e.tableRows("Error Logging")
			if len(errs) != 1 || errs[0]["Username"] != tt.issue.AffectedEntity.IdentifierInService ||
				errs[0]["Error Summary"] != tt.summary || !strings.HasPrefix(errs[0]["Error Message"].(string), tt.message) ||
				!strings.HasSuffix(errs[0]["Error Message"].(string), status) {
				t.Errorf("Error Logging rows %v", errs)
			}
			if rows := e.tableRows("ISPM Events"); len(rows) != 1 {
				t.Errorf("ISPM Events rows %v, want the event logged before the error", rows)
			}
			if tt.summary == "Template variable not set" && f != nil && len(f.okta.Requests())+len(f.slack.Requests()) != 0 {
				t.Error("a vendor was called although the variable is not set")
			}
		})
	}
}
