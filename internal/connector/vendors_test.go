package connector_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/entra/entratest"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/google/googletest"
	"github.com/vigil-ispm/vigil/internal/jira/jiratest"
	"github.com/vigil-ispm/vigil/internal/salesforce/salesforcetest"
	"github.com/vigil-ispm/vigil/internal/slack/slacktest"
)

const (
	entraUser  = "0b8f3c7e-2f1d-4a8e-9b0c-6f1e2d3c4b5a"
	entraGroup = "5f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0"
	sfUser     = "005000000000001AAA"
)

func entraFixture(t *testing.T) (*bundle, *entratest.Server) {
	t.Helper()
	b := setup(t)
	en := entratest.New(t)
	en.AddUser(entratest.User{ID: entraUser, UserPrincipalName: "ali@contoso.example", AccountEnabled: true})
	en.AddGroup(entratest.Group{ID: entraGroup, DisplayName: "MFA required"})
	b.add(t, "Microsoft Entra ID", "entra", false, map[string]string{"tenantId": entratest.TenantID, "clientId": entratest.ClientID,
		"clientSecret": entratest.ClientSecret, "loginUrl": en.URL, "graphUrl": en.URL})
	return b, en
}

func graphSent(en *entratest.Server) []string {
	var out []string
	for _, r := range en.GraphRequests() {
		out = append(out, r.Method+" "+r.Path+" "+string(r.Body))
	}
	return out
}

func TestEntraDisableUser(t *testing.T) {
	b, en := entraFixture(t)
	r := b.run(t, "entra.disableUser", map[string]any{"connection": "Microsoft Entra ID", "user": entraUser}, false)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	want := []string{"PATCH /v1.0/users/" + entraUser + ` {"accountEnabled":false}`}
	if got := graphSent(en); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	for _, req := range en.GraphRequests() {
		if !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
			t.Errorf("Authorization %q, want a bearer token", req.Header.Get("Authorization"))
		}
	}
	if u, _ := en.User(entraUser); u.AccountEnabled {
		t.Error("the user is still enabled")
	}
	if r.out["accountEnabled"] != false || r.out["userId"] != entraUser || r.out["dryRun"] != false {
		t.Errorf("output %v", r.out)
	}
}

func TestEntraAddGroupMember(t *testing.T) {
	b, en := entraFixture(t)
	args := map[string]any{"connection": "Microsoft Entra ID", "user": entraUser, "groupId": entraGroup}
	r := b.run(t, "entra.addGroupMember", args, false)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	want := []string{"POST /v1.0/groups/" + entraGroup + `/members/$ref {"@odata.id":"` + en.URL + "/v1.0/directoryObjects/" + entraUser + `"}`}
	if got := graphSent(en); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	if !slices.Contains(en.GroupMembers(entraGroup), entraUser) {
		t.Error("the user is not a member")
	}
	if r.out["alreadyMember"] != false {
		t.Errorf("output %v", r.out)
	}
	// Adding again succeeds and says so.
	r = b.run(t, "entra.addGroupMember", args, false)
	if r.fault != nil || r.out["alreadyMember"] != true {
		t.Errorf("second add: %v %v, want alreadyMember true", r.out, r.fault)
	}
	// A user principal name is refused with the reason.
	args["user"] = "ali@contoso.example"
	r = b.run(t, "entra.addGroupMember", args, false)
	if r.fault == nil || r.fault.Type != engine.ErrValidation || !strings.Contains(r.fault.Detail, "argument user: expected the user's object id") {
		t.Errorf("fault %v, want a validation error on user", r.fault)
	}
}

func TestEntraRetriesAndErrors(t *testing.T) {
	b, en := entraFixture(t)
	en.FailNext(2, 429, "3")
	r := b.run(t, "entra.disableUser", map[string]any{"connection": "Microsoft Entra ID", "user": entraUser}, false)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	if b.sleeps.count() != 2 || len(en.GraphRequests()) != 3 {
		t.Errorf("%d waits and %d requests, want 2 and 3", b.sleeps.count(), len(en.GraphRequests()))
	}
	r = b.run(t, "entra.disableUser", map[string]any{"connection": "Microsoft Entra ID", "user": "7e57d004-2b97-4e7a-b45f-5387367791cd"}, false)
	if r.fault == nil || r.fault.Status != 404 || r.fault.Type != engine.ErrCommunication ||
		!strings.HasPrefix(r.fault.Detail, `entra.disableUser through connection "Microsoft Entra ID" failed: disable user 7e57d004-2b97-4e7a-b45f-5387367791cd: Microsoft Graph answered 404`) {
		t.Errorf("fault %v", r.fault)
	}
}

func googleFixture(t *testing.T) (*bundle, *googletest.Server) {
	t.Helper()
	b := setup(t)
	gw := googletest.New(t)
	gw.AddUser(googletest.User{ID: "104857600000000000001", PrimaryEmail: "ali@example.com"})
	b.add(t, "Google Workspace", "google", false, map[string]string{"serviceAccountKey": string(gw.ServiceAccountJSON()),
		"subject": googletest.Admin, "baseUrl": gw.URL})
	return b, gw
}

func TestGoogleSuspendUser(t *testing.T) {
	b, gw := googleFixture(t)
	gw.FailNext(1, 429, "1")
	r := b.run(t, "google.suspendUser", map[string]any{"connection": "Google Workspace", "user": "ali@example.com"}, false)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	var got []string
	for _, req := range gw.APIRequests() {
		got = append(got, req.Method+" "+req.Path+" "+string(req.Body))
		if !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
			t.Errorf("Authorization %q", req.Header.Get("Authorization"))
		}
	}
	put := `PUT /admin/directory/v1/users/ali@example.com {"suspended":true}`
	if !slices.Equal(got, []string{put, put}) {
		t.Errorf("requests %q, want the PUT twice (a 429, then the retry)", got)
	}
	if b.sleeps.count() != 1 {
		t.Errorf("%d waits, want 1", b.sleeps.count())
	}
	if u, _ := gw.User("ali@example.com"); !u.Suspended {
		t.Error("the user is not suspended")
	}
	if r.out["userId"] != "104857600000000000001" || r.out["primaryEmail"] != "ali@example.com" || r.out["suspended"] != true {
		t.Errorf("output %v", r.out)
	}
	r = b.run(t, "google.suspendUser", map[string]any{"connection": "Google Workspace", "user": "nobody@example.com"}, false)
	if r.fault == nil || r.fault.Status != 404 || !strings.Contains(r.fault.Detail, "suspend user nobody@example.com: Google answered 404") {
		t.Errorf("fault %v", r.fault)
	}
}

func TestSalesforceDeactivateUser(t *testing.T) {
	b := setup(t)
	sf := salesforcetest.New(t)
	sf.AddUser(salesforcetest.User{ID: sfUser, Username: "ali@acme.example", IsActive: true})
	b.add(t, "Salesforce", "salesforce", false, map[string]string{"instanceUrl": sf.URL,
		"clientId": salesforcetest.ClientID, "clientSecret": salesforcetest.ClientSecret})
	sf.FailNext(1, 429, "2")
	r := b.run(t, "salesforce.deactivateUser", map[string]any{"connection": "Salesforce", "user": sfUser}, false)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	var got []string
	for _, req := range sf.APIRequests() {
		got = append(got, req.Method+" "+req.Path+" "+string(req.Body))
		if !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
			t.Errorf("Authorization %q", req.Header.Get("Authorization"))
		}
	}
	patch := "PATCH /services/data/v62.0/sobjects/User/" + sfUser + ` {"IsActive":false}`
	if !slices.Equal(got, []string{patch, patch}) {
		t.Errorf("requests %q, want the PATCH twice (a 429, then the retry)", got)
	}
	if u, _ := sf.User(sfUser); u.IsActive {
		t.Error("the user is still active")
	}
	if r.out["isActive"] != false || r.out["userId"] != sfUser {
		t.Errorf("output %v", r.out)
	}
	r = b.run(t, "salesforce.deactivateUser", map[string]any{"connection": "Salesforce", "user": "005000000000009ZZZ"}, false)
	if r.fault == nil || r.fault.Status != 404 || r.fault.Type != engine.ErrCommunication {
		t.Errorf("unknown user: fault %v, want a 404", r.fault)
	}
	r = b.run(t, "salesforce.deactivateUser", map[string]any{"connection": "Salesforce", "user": "ali@acme.example"}, false)
	if r.fault == nil || r.fault.Type != engine.ErrValidation || !strings.Contains(r.fault.Detail, "argument user: expected a User record id") {
		t.Errorf("username: fault %v, want a validation error on user", r.fault)
	}
}

func TestSlackPostMessage(t *testing.T) {
	b := setup(t)
	sl := slacktest.New(t)
	b.add(t, "Slack", "slack", false, map[string]string{"token": slacktest.Token, "baseUrl": sl.URL + "/api"})
	b.add(t, "Slack webhook", "slack", false, map[string]string{"webhookUrl": sl.WebhookURL()})
	sl.FailNext(1, 429, "1")
	blocks := []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*Unused Admin Account*"}}}
	r := b.run(t, "slack.postMessage", map[string]any{"connection": "Slack", "channel": "#alerts", "text": "Unused Admin Account", "blocks": blocks}, false)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	reqs := sl.Requests()
	if len(reqs) != 2 || b.sleeps.count() != 1 {
		t.Fatalf("%d requests and %d waits, want a 429 then the post", len(reqs), b.sleeps.count())
	}
	last := reqs[1]
	if last.Method != "POST" || last.Path != "/api/chat.postMessage" || last.Header.Get("Authorization") != "Bearer "+slacktest.Token {
		t.Errorf("request %s %s auth %q", last.Method, last.Path, last.Header.Get("Authorization"))
	}
	var body map[string]any
	json.Unmarshal(last.Body, &body)
	if body["channel"] != "#alerts" || body["text"] != "Unused Admin Account" || jsonString(body["blocks"]) != jsonString(blocks) {
		t.Errorf("body %s", last.Body)
	}
	msgs := sl.Messages()
	if len(msgs) != 1 || r.out["ts"] != msgs[0].TS || r.out["channel"] != msgs[0].Channel {
		t.Errorf("output %v, messages %+v", r.out, msgs)
	}
	// Through the webhook: no channel, no token.
	r = b.run(t, "slack.postMessage", map[string]any{"connection": "Slack webhook", "text": "hello"}, false)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	if msgs := sl.Messages(); len(msgs) != 2 || !msgs[1].Webhook || msgs[1].Text != "hello" {
		t.Errorf("messages %+v", msgs)
	}
	// A channel the bot is not in: a clear 4xx.
	r = b.run(t, "slack.postMessage", map[string]any{"connection": "Slack", "channel": "#nowhere", "text": "x"}, false)
	if r.fault == nil || r.fault.Status != 404 || !strings.Contains(r.fault.Detail, "channel_not_found") {
		t.Errorf("fault %v, want 404 channel_not_found", r.fault)
	}
	// A bot token needs a channel.
	r = b.run(t, "slack.postMessage", map[string]any{"connection": "Slack", "text": "x"}, false)
	if r.fault == nil || !strings.Contains(r.fault.Detail, "argument channel: required") {
		t.Errorf("fault %v, want the channel named", r.fault)
	}
}

func TestJiraCreateIssue(t *testing.T) {
	b := setup(t)
	ji := jiratest.New(t)
	b.add(t, "Jira", "jira", false, map[string]string{"siteUrl": ji.URL, "email": jiratest.Email, "apiToken": jiratest.APIToken})
	ji.FailNext(1, 429, "1")
	r := b.run(t, "jira.createIssue", map[string]any{"connection": "Jira", "project": "SEC", "summary": "Unused Admin Account: Ali Lesch",
		"description": "Admin account unused for 91 days.", "labels": []any{"vigil"}}, false)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	reqs := ji.Requests()
	if len(reqs) != 2 || b.sleeps.count() != 1 {
		t.Fatalf("%d requests and %d waits, want a 429 then the create", len(reqs), b.sleeps.count())
	}
	last := reqs[1]
	if user, pass, ok := basicAuth(last.Header.Get("Authorization")); last.Method != "POST" || last.Path != "/rest/api/3/issue" ||
		!ok || user != jiratest.Email || pass != jiratest.APIToken {
		t.Errorf("request %s %s, basic auth %v", last.Method, last.Path, ok)
	}
	var body struct {
		Fields struct {
			Project     map[string]string `json:"project"`
			Summary     string            `json:"summary"`
			IssueType   map[string]string `json:"issuetype"`
			Labels      []string          `json:"labels"`
			Description struct {
				Type string `json:"type"`
			} `json:"description"`
		} `json:"fields"`
	}
	json.Unmarshal(last.Body, &body)
	f := body.Fields
	if f.Project["key"] != "SEC" || f.Summary != "Unused Admin Account: Ali Lesch" || f.IssueType["name"] != "Task" ||
		f.Description.Type != "doc" || !slices.Equal(f.Labels, []string{"vigil"}) {
		t.Errorf("body %s", last.Body)
	}
	is := ji.Issues()
	if len(is) != 1 || r.out["key"] != is[0].Key || r.out["id"] != is[0].ID {
		t.Errorf("output %v, issues %+v", r.out, is)
	}
	r = b.run(t, "jira.createIssue", map[string]any{"connection": "Jira", "project": "NOPE", "summary": "x"}, false)
	if r.fault == nil || r.fault.Status != 400 || r.fault.Type != engine.ErrCommunication || !strings.Contains(r.fault.Detail, "Jira answered 400") {
		t.Errorf("fault %v, want Jira's 400", r.fault)
	}
	r = b.runUnchecked(t, "jira.createIssue", map[string]any{"connection": "Jira", "project": "SEC", "summary": "x", "labels": []any{"a", 1}})
	if r.fault == nil || !strings.Contains(r.fault.Detail, "argument labels: expected an array of strings, but item 1 is a number") {
		t.Errorf("fault %v", r.fault)
	}
}

func basicAuth(h string) (string, string, bool) {
	return (&http.Request{Header: http.Header{"Authorization": {h}}}).BasicAuth()
}
