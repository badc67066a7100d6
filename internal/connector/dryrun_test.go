package connector_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigil-ispm/vigil/internal/entra/entratest"
	"github.com/vigil-ispm/vigil/internal/google/googletest"
	"github.com/vigil-ispm/vigil/internal/jira/jiratest"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/salesforce/salesforcetest"
	"github.com/vigil-ispm/vigil/internal/slack/slacktest"
)

const mask = "••••••••"

// TestDryRun runs every function against a connection in dry run: nothing
// reaches the vendor's fake, the history holds exactly the requests that
// would have been sent with every secret masked, and the output is what a
// success gives.
func TestDryRun(t *testing.T) {
	ok := oktatest.New(t)
	en := entratest.New(t)
	gw := googletest.New(t)
	sf := salesforcetest.New(t)
	sl := slacktest.New(t)
	ji := jiratest.New(t)
	var apiHits atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { apiHits.Add(1) }))
	t.Cleanup(api.Close)
	received := func() int {
		return len(ok.Requests()) + len(en.Requests()) + len(gw.Requests()) + len(sf.Requests()) + len(sl.Requests()) +
			len(ji.Requests()) + int(apiHits.Load())
	}
	const oktaID = "00u00000000000000042"
	webhookPath := strings.TrimPrefix(sl.WebhookURL(), sl.URL)
	type req struct {
		method, url string
		headers     map[string]string
		body        string // JSON of the recorded body
	}
	tests := []struct {
		name string
		kind string
		conn map[string]string
		fn   string
		args map[string]any
		// reqs are the recorded requests; token requests are checked by
		// their URL and masked credential only.
		reqs []req
		out  map[string]any
	}{
		{name: "okta suspend", kind: "okta", conn: map[string]string{"url": ok.URL, "token": oktatest.DefaultToken},
			fn: "okta.suspendUser", args: map[string]any{"user": oktaID},
			reqs: []req{{"POST", ok.URL + "/api/v1/users/" + oktaID + "/lifecycle/suspend",
				map[string]string{"Accept": "application/json", "Authorization": "SSWS " + mask + "oken", "User-Agent": "vigil"}, "null"}},
			out: map[string]any{"userId": oktaID, "status": "SUSPENDED"}},
		{name: "okta unsuspend", kind: "okta", conn: map[string]string{"url": ok.URL, "token": oktatest.DefaultToken},
			fn: "okta.unsuspendUser", args: map[string]any{"user": oktaID},
			reqs: []req{{"POST", ok.URL + "/api/v1/users/" + oktaID + "/lifecycle/unsuspend", nil, "null"}},
			out:  map[string]any{"status": "ACTIVE"}},
		{name: "okta add to group by login", kind: "okta", conn: map[string]string{"url": ok.URL, "token": oktatest.DefaultToken},
			fn: "okta.addUserToGroup", args: map[string]any{"user": "ali@example.com", "groupId": "00g00000000000000001"},
			reqs: []req{
				{"GET", ok.URL + "/api/v1/users/ali@example.com", map[string]string{"Authorization": "SSWS " + mask + "oken"}, "null"},
				{"PUT", ok.URL + "/api/v1/groups/00g00000000000000001/users/00uDRYRUN00000000000", map[string]string{"Authorization": "SSWS " + mask + "oken"}, "null"}},
			out: map[string]any{"userId": "00uDRYRUN00000000000", "groupId": "00g00000000000000001"}},
		{name: "okta expire password", kind: "okta", conn: map[string]string{"url": ok.URL, "token": oktatest.DefaultToken},
			fn: "okta.expirePassword", args: map[string]any{"user": oktaID},
			reqs: []req{{"POST", ok.URL + "/api/v1/users/" + oktaID + "/lifecycle/expire_password", nil, "null"}},
			out:  map[string]any{"status": "PASSWORD_EXPIRED"}},
		{name: "okta clear sessions", kind: "okta", conn: map[string]string{"url": ok.URL, "token": oktatest.DefaultToken},
			fn: "okta.clearUserSessions", args: map[string]any{"user": oktaID},
			reqs: []req{{"DELETE", ok.URL + "/api/v1/users/" + oktaID + "/sessions", nil, "null"}},
			out:  map[string]any{"sessionsCleared": true}},
		{name: "entra disable", kind: "entra", conn: map[string]string{"tenantId": entratest.TenantID, "clientId": entratest.ClientID,
			"clientSecret": entratest.ClientSecret, "loginUrl": en.URL, "graphUrl": en.URL},
			fn: "entra.disableUser", args: map[string]any{"user": entraUser},
			reqs: []req{
				{"POST", en.URL + "/" + entratest.TenantID + "/oauth2/v2.0/token", nil, ""},
				{"PATCH", en.URL + "/v1.0/users/" + entraUser,
					map[string]string{"Authorization": "Bearer " + mask + "oken", "Content-Type": "application/json"}, `{"accountEnabled":false}`}},
			out: map[string]any{"userId": entraUser, "accountEnabled": false}},
		{name: "entra add member", kind: "entra", conn: map[string]string{"tenantId": entratest.TenantID, "clientId": entratest.ClientID,
			"clientSecret": entratest.ClientSecret, "loginUrl": en.URL, "graphUrl": en.URL},
			fn: "entra.addGroupMember", args: map[string]any{"user": entraUser, "groupId": entraGroup},
			reqs: []req{
				{"POST", en.URL + "/" + entratest.TenantID + "/oauth2/v2.0/token", nil, ""},
				{"POST", en.URL + "/v1.0/groups/" + entraGroup + "/members/$ref", nil,
					`{"@odata.id":"` + en.URL + `/v1.0/directoryObjects/` + entraUser + `"}`}},
			out: map[string]any{"alreadyMember": false}},
		{name: "google suspend", kind: "google", conn: map[string]string{"serviceAccountKey": string(gw.ServiceAccountJSON()),
			"subject": googletest.Admin, "baseUrl": gw.URL},
			fn: "google.suspendUser", args: map[string]any{"user": "ali@example.com"},
			reqs: []req{
				{"POST", gw.URL + "/token", nil, ""},
				{"PUT", gw.URL + "/admin/directory/v1/users/ali@example.com",
					map[string]string{"Authorization": "Bearer " + mask + "oken", "Content-Type": "application/json"}, `{"suspended":true}`}},
			out: map[string]any{"primaryEmail": "ali@example.com", "suspended": true}},
		{name: "salesforce deactivate", kind: "salesforce", conn: map[string]string{"instanceUrl": sf.URL,
			"clientId": salesforcetest.ClientID, "clientSecret": salesforcetest.ClientSecret},
			fn: "salesforce.deactivateUser", args: map[string]any{"user": sfUser},
			reqs: []req{
				{"POST", sf.URL + "/services/oauth2/token", nil, ""},
				{"PATCH", sf.URL + "/services/data/v62.0/sobjects/User/" + sfUser,
					map[string]string{"Authorization": "Bearer " + mask + "oken"}, `{"IsActive":false}`}},
			out: map[string]any{"userId": sfUser, "isActive": false}},
		{name: "slack post", kind: "slack", conn: map[string]string{"token": slacktest.Token, "baseUrl": sl.URL + "/api"},
			fn: "slack.postMessage", args: map[string]any{"channel": "#alerts", "text": "Unused Admin Account"},
			reqs: []req{{"POST", sl.URL + "/api/chat.postMessage",
				map[string]string{"Authorization": "Bearer " + mask + "oken", "Content-Type": "application/json; charset=utf-8"},
				`{"channel":"#alerts","text":"Unused Admin Account"}`}},
			out: map[string]any{"channel": "#alerts", "ts": "0000000000.000000"}},
		{name: "slack webhook", kind: "slack", conn: map[string]string{"webhookUrl": sl.WebhookURL()},
			fn: "slack.postMessage", args: map[string]any{"text": "Unused Admin Account"},
			reqs: []req{{"POST", sl.URL + "/" + mask + webhookPath[len(webhookPath)-4:], nil, `{"text":"Unused Admin Account"}`}},
			out:  map[string]any{"channel": "", "ts": ""}},
		{name: "jira create", kind: "jira", conn: map[string]string{"siteUrl": ji.URL, "email": jiratest.Email, "apiToken": jiratest.APIToken},
			fn: "jira.createIssue", args: map[string]any{"project": "SEC", "summary": "Unused Admin Account"},
			reqs: []req{{"POST", ji.URL + "/rest/api/3/issue",
				map[string]string{"Accept": "application/json", "Content-Type": "application/json"},
				`{"fields":{"issuetype":{"name":"Task"},"project":{"key":"SEC"},"summary":"Unused Admin Account"}}`}},
			out: map[string]any{"key": "SEC-0", "id": "0"}},
		{name: "http request", kind: "http", conn: map[string]string{"baseUrl": api.URL, "auth": "basic", "username": "svc", "password": "pw-very-secret"},
			fn: "http.request", args: map[string]any{"method": "POST", "path": "/tickets", "body": map[string]any{"title": "x"}},
			reqs: []req{{"POST", api.URL + "/tickets", map[string]string{"Content-Type": "application/json"}, `{"title":"x"}`}},
			out:  map[string]any{"status": 200, "body": nil}},
	}
	// Every function has a case here, so a new one cannot skip its dry run.
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.fn] = true
	}
	for _, f := range setup(t).cons.Functions() {
		if !covered[f.Name] {
			t.Errorf("%s has no dry-run case", f.Name)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			b.add(t, "Conn", tt.kind, true, tt.conn)
			args := map[string]any{"connection": "Conn"}
			for k, v := range tt.args {
				args[k] = v
			}
			before := received()
			r := b.run(t, tt.fn, args, false)
			if r.fault != nil {
				t.Fatal(r.fault)
			}
			if n := received() - before; n != 0 {
				t.Errorf("%d requests reached a fake in dry run", n)
			}
			got := r.dryRequests(t)
			if len(got) != len(tt.reqs) {
				t.Fatalf("recorded %d requests, want %d: %s", len(got), len(tt.reqs), jsonString(got))
			}
			for i, want := range tt.reqs {
				g := got[i]
				if g["method"] != want.method || g["url"] != want.url {
					t.Errorf("request %d: %s %s, want %s %s", i, g["method"], g["url"], want.method, want.url)
				}
				h, _ := g["headers"].(map[string]any)
				for k, v := range want.headers {
					if h[k] != v {
						t.Errorf("request %d: header %s = %q, want %q", i, k, h[k], v)
					}
				}
				if want.body != "" && jsonString(g["body"]) != want.body {
					t.Errorf("request %d: body %s, want %s", i, jsonString(g["body"]), want.body)
				}
			}
			if tt.kind == "jira" || tt.kind == "http" {
				h, _ := got[0]["headers"].(map[string]any)
				if auth, _ := h["Authorization"].(string); !strings.HasPrefix(auth, "Basic "+mask) {
					t.Errorf("Authorization %q, want basic credentials masked", auth)
				}
			}
			// No secret appears anywhere in the history or the output.
			history := jsonString(got) + jsonString(r.out)
			for _, n := range r.notes {
				history += n.Message
			}
			typSecrets := []string{oktatest.DefaultToken, entratest.ClientSecret, salesforcetest.ClientSecret, slacktest.Token,
				jiratest.APIToken, "pw-very-secret", webhookPath, "PRIVATE KEY", "dry-run-access-token"}
			for _, s := range typSecrets {
				if strings.Contains(history, s) {
					t.Errorf("the history shows %q: %s", s, history)
				}
			}
			if !strings.HasPrefix(r.notes[len(r.notes)-1].Message, "Dry run: "+tt.reqs[len(tt.reqs)-1].method+" ") {
				t.Errorf("note message %q", r.notes[len(r.notes)-1].Message)
			}
			tt.out["dryRun"] = true
			for k, v := range tt.out {
				if jsonString(r.out[k]) != jsonString(v) {
					t.Errorf("output %s = %s, want %s (output %s)", k, jsonString(r.out[k]), jsonString(v), jsonString(r.out))
				}
			}
		})
	}
}

// TestDryRunOfExecution checks that an execution in dry run records
// instead of sending even when the connection itself is live.
func TestDryRunOfExecution(t *testing.T) {
	b, ok, u := oktaFixture(t, false)
	r := b.run(t, "okta.suspendUser", map[string]any{"connection": "Okta", "user": u.ID}, true)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	if len(ok.Requests()) != 0 {
		t.Errorf("%d requests reached the fake", len(ok.Requests()))
	}
	if got := r.dryRequests(t); len(got) != 1 || got[0]["url"] != ok.URL+"/api/v1/users/"+u.ID+"/lifecycle/suspend" {
		t.Errorf("recorded %s", jsonString(got))
	}
	if r.out["dryRun"] != true {
		t.Errorf("output %v", r.out)
	}
	if got, _ := ok.User(u.ID); got.Status != "ACTIVE" {
		t.Errorf("the user is %s after a dry run", got.Status)
	}
}
