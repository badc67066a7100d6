package connection_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/entra/entratest"
	"github.com/vigil-ispm/vigil/internal/google/googletest"
	"github.com/vigil-ispm/vigil/internal/jira/jiratest"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/salesforce/salesforcetest"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/slack/slacktest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestTestConnection(t *testing.T) {
	ok := oktatest.New(t)
	ok.AddUser(oktatest.User{Login: "me"}) // stands for the token's owner, which /users/me returns
	ok2 := oktatest.New(t)
	en := entratest.New(t)
	gw := googletest.New(t)
	sf := salesforcetest.New(t)
	sl := slacktest.New(t)
	ji := jiratest.New(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("X-Api-Key") != "k-123456789" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(api.Close)

	tests := []struct {
		name   string
		in     connection.Input
		ok     bool
		prefix string
	}{
		{"okta", connection.Input{Kind: "okta", Fields: map[string]string{"url": ok.URL, "token": oktatest.DefaultToken}},
			true, "Connected to Okta at " + ok.URL + " as me."},
		{"okta without user behind the token", connection.Input{Kind: "okta", Fields: map[string]string{"url": ok2.URL, "token": oktatest.DefaultToken}},
			true, "Connected to Okta at " + ok2.URL + ": the credentials were accepted."},
		{"okta wrong token", connection.Input{Kind: "okta", Fields: map[string]string{"url": ok.URL, "token": "00wrong-token-value"}},
			false, "The test of Okta failed: get user me: Okta answered 401 E0000011"},
		{"entra", connection.Input{Kind: "entra", Fields: map[string]string{"tenantId": entratest.TenantID, "clientId": entratest.ClientID,
			"clientSecret": entratest.ClientSecret, "loginUrl": en.URL, "graphUrl": en.URL}},
			true, "Connected to Microsoft Entra ID tenant Contoso (contoso.example)."},
		{"entra wrong secret", connection.Input{Kind: "entra", Fields: map[string]string{"tenantId": entratest.TenantID, "clientId": entratest.ClientID,
			"clientSecret": "wrong-secret", "loginUrl": en.URL, "graphUrl": en.URL}},
			false, "The test of Microsoft Entra ID failed:"},
		{"google", connection.Input{Kind: "google", Fields: map[string]string{"serviceAccountKey": string(gw.ServiceAccountJSON()),
			"subject": googletest.Admin, "baseUrl": gw.URL}},
			true, "Connected to Google Workspace as admin@example.com: listing users works."},
		{"salesforce", connection.Input{Kind: "salesforce", Fields: map[string]string{"instanceUrl": sf.URL,
			"clientId": salesforcetest.ClientID, "clientSecret": salesforcetest.ClientSecret}},
			true, "Connected to Salesforce org Acme (" + salesforcetest.OrgID + ")."},
		{"slack", connection.Input{Kind: "slack", Fields: map[string]string{"token": slacktest.Token, "baseUrl": sl.URL + "/api"}},
			true, "Connected to Slack workspace Fake Workspace as vigil."},
		{"slack revoked token", connection.Input{Kind: "slack", Fields: map[string]string{"token": "xoxb-revoked", "baseUrl": sl.URL + "/api"}},
			false, "The test of Slack failed: test authentication: Slack answered invalid_auth: the token is not valid."},
		{"slack webhook", connection.Input{Kind: "slack", Fields: map[string]string{"webhookUrl": sl.WebhookURL()}},
			false, "A Slack incoming webhook cannot be checked without posting"},
		{"jira", connection.Input{Kind: "jira", Fields: map[string]string{"siteUrl": ji.URL, "email": jiratest.Email, "apiToken": jiratest.APIToken}},
			true, "Connected to Jira at " + ji.URL + " as Vigil Bot."},
		{"http", connection.Input{Kind: "http", Fields: map[string]string{"baseUrl": api.URL, "auth": "apiKey", "headerName": "X-Api-Key", "apiKey": "k-123456789"}},
			true, "Reached " + api.URL + ": HTTP 200 OK."},
		{"http refused", connection.Input{Kind: "http", Fields: map[string]string{"baseUrl": api.URL, "auth": "apiKey", "headerName": "X-Api-Key", "apiKey": "wrong-key-000"}},
			false, "The test of HTTP failed: " + api.URL + " answered HTTP 401 Unauthorized."},
	}
	st := storetest.SQLite(t)
	s := newService(t, st)
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Name = tt.name
			if _, err := s.Create(ctx, tt.in); err != nil {
				t.Fatal(err)
			}
			res, err := s.Test(ctx, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tt.ok || !strings.HasPrefix(res.Message, tt.prefix) {
				t.Errorf("Test = %v %q, want %v %q…", res.OK, res.Message, tt.ok, tt.prefix)
			}
			typ, _ := connection.TypeOf(tt.in.Kind)
			for k, v := range tt.in.Fields {
				if f, _ := typ.Field(k); f.Secret && strings.Contains(res.Message, v) {
					t.Errorf("the message shows a field value %q", v)
				}
			}
			if strings.Contains(res.Message, "fakeWebhookSecret") {
				t.Errorf("the message shows the webhook URL: %q", res.Message)
			}
			c, err := s.Get(ctx, tt.name)
			if err != nil || c.LastTest == nil || c.LastTest.OK != res.OK || c.LastTest.Message != res.Message || !c.LastTest.At.Equal(testNow) {
				t.Errorf("LastTest = %+v, want the result recorded", c.LastTest)
			}
		})
	}
}

func TestTestConnectionBlockedByGuard(t *testing.T) {
	ok := oktatest.New(t)
	st := storetest.SQLite(t)
	// The form accepts the loopback URL (on the allowlist) but the client's
	// guard does not let it through.
	s := connection.New(st, secrettest.Box(t), connection.Config{Client: netguard.NewClient(netguard.Config{}), Allow: loopback,
		Now: func() time.Time { return testNow }})
	ctx := context.Background()
	if _, err := s.Create(ctx, connection.Input{Name: "Okta", Kind: "okta", Fields: map[string]string{"url": ok.URL, "token": "tok"}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Test(ctx, "Okta")
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !strings.HasPrefix(res.Message, "The outbound guard refused to call Okta") {
		t.Errorf("Test = %+v", res)
	}
	if len(ok.Requests()) != 0 {
		t.Errorf("the fake got %d requests through the guard", len(ok.Requests()))
	}
}
