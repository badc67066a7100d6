package connection_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

var testNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func newService(t testing.TB, st *store.Store) *connection.Service {
	t.Helper()
	return connection.New(st, secrettest.Box(t), connection.Config{
		Client: netguard.NewClient(netguard.Config{Allow: loopback}), Allow: loopback,
		Now:   func() time.Time { return testNow },
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	})
}

func TestCreateListGetDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st)
		in := connection.Input{Name: "Okta", Kind: connection.KindOkta, DryRun: true,
			Fields: map[string]string{"url": "https://example.okta.com/", "token": "00abcdefghijklmnopqrstuvwxyz1234"}}
		c, err := s.Create(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if c.Settings["url"] != "https://example.okta.com" || c.Settings["auth"] != connection.AuthToken || !c.DryRun {
			t.Errorf("created %+v: want the URL without its slash, token auth by default and dry run on", c)
		}
		if got := c.Secrets["token"]; got != "••••••••1234" {
			t.Errorf("token shown as %q, want it masked to its last four characters", got)
		}
		// The row holds no secret in clear.
		row, err := st.ConnectionByName(ctx, "okta")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(row.SettingsJSON+row.CredentialsSealed, "abcdefghij") {
			t.Errorf("the stored row holds the token in clear: %+v", row)
		}
		list, err := s.List(ctx)
		if err != nil || len(list) != 1 || list[0].Name != "Okta" {
			t.Fatalf("List = %v, %v", list, err)
		}
		b, _ := json.Marshal(list)
		if strings.Contains(string(b), "abcdefghij") {
			t.Errorf("the list shows the token: %s", b)
		}
		r, err := s.Resolve(ctx, "OKTA")
		if err != nil || r.Get("token") != in.Fields["token"] || !r.DryRun {
			t.Errorf("Resolve = %+v, %v: want the token in clear and dry run on", r, err)
		}
		if _, err := s.Create(ctx, connection.Input{Name: "okta", Kind: connection.KindJira,
			Fields: map[string]string{"siteUrl": "https://acme.atlassian.net", "email": "a@b.c", "apiToken": "x"}}); !errors.Is(err, connection.ErrConflict) {
			t.Errorf("second connection named okta: err = %v, want ErrConflict (names are unique regardless of case)", err)
		}
		if err := s.Delete(ctx, "Okta"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resolve(ctx, "Okta"); !errors.Is(err, connection.ErrNotFound) || !strings.Contains(err.Error(), `"Okta"`) {
			t.Errorf("Resolve after delete: %v, want ErrNotFound naming the connection", err)
		}
		if err := s.Delete(ctx, "Okta"); !errors.Is(err, connection.ErrNotFound) {
			t.Errorf("second delete: %v, want ErrNotFound", err)
		}
	})
}

func TestUpdateKeepsSecretsLeftEmpty(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st)
		_, err := s.Create(ctx, connection.Input{Name: "Jira", Kind: connection.KindJira,
			Fields: map[string]string{"siteUrl": "https://acme.atlassian.net", "email": "bot@acme.example", "apiToken": "ATATT-first-token"}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Update(ctx, "Jira", connection.Input{Name: "Jira Cloud",
			Fields: map[string]string{"siteUrl": "https://acme.atlassian.net/", "email": "bot2@acme.example"}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "Jira Cloud" || c.Settings["email"] != "bot2@acme.example" {
			t.Errorf("updated = %+v", c)
		}
		r, err := s.Resolve(ctx, "Jira Cloud")
		if err != nil || r.Get("apiToken") != "ATATT-first-token" {
			t.Errorf("after an update without a token the token is %q (%v), want the saved one", r.Get("apiToken"), err)
		}

		// A new address without the secret again is refused and changes
		// nothing: the saved token never goes to a host it did not go to.
		_, err = s.Update(ctx, "Jira Cloud", connection.Input{Name: "Jira Cloud",
			Fields: map[string]string{"siteUrl": "https://attacker.example", "email": "bot2@acme.example"}})
		var inv *connection.InvalidError
		if !errors.As(err, &inv) || inv.Field != "apiToken" || !strings.Contains(err.Error(), "Site URL moved to another host, so the") {
			t.Fatalf("a new address without the token: %v, want a refusal naming apiToken", err)
		}
		if c, _ := s.Get(ctx, "Jira Cloud"); c.Settings["siteUrl"] != "https://acme.atlassian.net" {
			t.Errorf("the refused update changed the address: %+v", c.Settings)
		}
		// With the token given again the new address is accepted.
		c, err = s.Update(ctx, "Jira Cloud", connection.Input{Name: "Jira Cloud",
			Fields: map[string]string{"siteUrl": "https://acme2.atlassian.net", "email": "bot2@acme.example", "apiToken": "ATATT-second-token"}})
		if err != nil || c.Settings["siteUrl"] != "https://acme2.atlassian.net" {
			t.Fatalf("a new address with the token: %+v, %v", c, err)
		}
		if r, _ := s.Resolve(ctx, "Jira Cloud"); r.Get("apiToken") != "ATATT-second-token" {
			t.Errorf("the new token was not saved")
		}
		if _, err := s.Update(ctx, "Jira Cloud", connection.Input{Kind: connection.KindSlack, Name: "x"}); err == nil {
			t.Error("changing the kind was accepted")
		}
		c, err = s.SetDryRun(ctx, "jira cloud", true)
		if err != nil || !c.DryRun {
			t.Errorf("SetDryRun = %+v, %v", c, err)
		}
	})
}

func TestValidation(t *testing.T) {
	st := storetest.SQLite(t)
	s := newService(t, st)
	pem := "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"
	tests := []struct {
		name  string
		in    connection.Input
		field string
		msg   string
	}{
		{"unknown kind", connection.Input{Name: "x", Kind: "aws"}, "kind", "Unknown connection type"},
		{"no name", connection.Input{Kind: connection.KindHTTP, Fields: map[string]string{"baseUrl": "https://api.example.com"}}, "name", "needs a name"},
		{"unknown field", connection.Input{Name: "x", Kind: connection.KindHTTP, Fields: map[string]string{"baseUrl": "https://api.example.com", "tokn": "x"}}, "tokn", `no field "tokn"`},
		{"required field", connection.Input{Name: "x", Kind: connection.KindEntra, Fields: map[string]string{"tenantId": "t", "clientId": "c"}}, "clientSecret", "Client secret"},
		{"plain http", connection.Input{Name: "x", Kind: connection.KindHTTP, Fields: map[string]string{"baseUrl": "http://api.example.com"}}, "baseUrl", "must use https"},
		{"url with password", connection.Input{Name: "x", Kind: connection.KindHTTP, Fields: map[string]string{"baseUrl": "https://u:p@api.example.com"}}, "baseUrl", "user name or password"},
		{"not a url", connection.Input{Name: "x", Kind: connection.KindJira, Fields: map[string]string{"siteUrl": "acme.atlassian.net", "email": "a@b", "apiToken": "t"}}, "siteUrl", "absolute https:// URL"},
		{"okta without token", connection.Input{Name: "x", Kind: connection.KindOkta, Fields: map[string]string{"url": "https://example.okta.com"}}, "token", "API token"},
		{"okta bad key", connection.Input{Name: "x", Kind: connection.KindOkta, Fields: map[string]string{"url": "https://example.okta.com", "auth": "oauth", "clientId": "0oa1", "privateKey": pem}}, "privateKey", "private key"},
		{"okta bad auth", connection.Input{Name: "x", Kind: connection.KindOkta, Fields: map[string]string{"url": "https://example.okta.com", "auth": "password"}}, "auth", "one of token, oauth"},
		{"google bad key", connection.Input{Name: "x", Kind: connection.KindGoogle, Fields: map[string]string{"serviceAccountKey": "{}", "subject": "admin@example.com"}}, "serviceAccountKey", "service_account"},
		{"slack both", connection.Input{Name: "x", Kind: connection.KindSlack, Fields: map[string]string{"token": "xoxb-1", "webhookUrl": "https://hooks.slack.com/services/T/B/X"}}, "webhookUrl", "not both"},
		{"slack neither", connection.Input{Name: "x", Kind: connection.KindSlack}, "token", "bot token or an incoming webhook"},
		{"slack webhook over http", connection.Input{Name: "x", Kind: connection.KindSlack, Fields: map[string]string{"webhookUrl": "http://hooks.example.com/services/T/B/SECRETPATH"}}, "webhookUrl", "must use https"},
		{"http basic without password", connection.Input{Name: "x", Kind: connection.KindHTTP, Fields: map[string]string{"baseUrl": "https://api.example.com", "auth": "basic", "username": "u"}}, "password", "needs the field password"},
		{"http token without bearer", connection.Input{Name: "x", Kind: connection.KindHTTP, Fields: map[string]string{"baseUrl": "https://api.example.com", "token": "t"}}, "token", "not used"},
		{"http bad header", connection.Input{Name: "x", Kind: connection.KindHTTP, Fields: map[string]string{"baseUrl": "https://api.example.com", "auth": "apiKey", "headerName": "X Key", "apiKey": "k"}}, "headerName", "not a valid HTTP header name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Create(context.Background(), tt.in)
			var ie *connection.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InvalidError", err)
			}
			if ie.Field != tt.field || !strings.Contains(ie.Message, tt.msg) {
				t.Errorf("err = %q on field %q, want %q on field %q", ie.Message, ie.Field, tt.msg, tt.field)
			}
			if strings.Contains(ie.Message, "SECRETPATH") {
				t.Errorf("the message shows a secret field's value: %q", ie.Message)
			}
		})
	}
	// Plain http is allowed for an allowlisted host.
	if _, err := s.Create(context.Background(), connection.Input{Name: "local", Kind: connection.KindHTTP,
		Fields: map[string]string{"baseUrl": "http://127.0.0.1:9/api"}}); err != nil {
		t.Errorf("http to an allowlisted address: %v", err)
	}
}

func TestCheckRefs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newService(t, st)
		ctx := context.Background()
		refs := []connection.Ref{{Name: "Okta", Kind: "okta"}, {Name: "Slack", Kind: "slack"}}
		err := s.CheckRefs(ctx, refs)
		var me *connection.MissingError
		if !errors.As(err, &me) || len(me.Missing) != 2 {
			t.Fatalf("CheckRefs = %v, want both connections missing", err)
		}
		want := `connection "Okta" (okta) is not set; add it with vigil connections add okta --name "Okta"; connection "Slack" (slack) is not set`
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("message %q, want it to start with %q", err.Error(), want)
		}
		if _, err := s.Create(ctx, connection.Input{Name: "okta", Kind: connection.KindOkta,
			Fields: map[string]string{"url": "https://example.okta.com", "token": "tok"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, connection.Input{Name: "Slack", Kind: connection.KindJira,
			Fields: map[string]string{"siteUrl": "https://acme.atlassian.net", "email": "a@b.c", "apiToken": "x"}}); err != nil {
			t.Fatal(err)
		}
		err = s.CheckRefs(ctx, refs)
		if !errors.As(err, &me) || len(me.Missing) != 0 || len(me.WrongKind) != 1 ||
			err.Error() != `connection "Slack" is a jira connection, but the flow uses it for slack` {
			t.Fatalf("CheckRefs = %v, want Slack of the wrong kind", err)
		}
		if err := s.CheckRefs(ctx, refs[:1]); err != nil {
			t.Errorf("CheckRefs(Okta) = %v; names compare without case", err)
		}
		if err := s.CheckRefs(ctx, nil); err != nil {
			t.Errorf("CheckRefs(nil) = %v", err)
		}
	})
}

func TestTypesDescribeEveryKind(t *testing.T) {
	for _, kind := range []string{"okta", "entra", "google", "salesforce", "slack", "jira", "http"} {
		typ, ok := connection.TypeOf(kind)
		if !ok || len(typ.Fields) == 0 || typ.Title == "" {
			t.Errorf("TypeOf(%s) = %+v, %v", kind, typ, ok)
		}
	}
	names := map[string]string{"okta": "Okta", "entra": "Microsoft Entra ID", "google": "Google Workspace",
		"salesforce": "Salesforce", "slack": "Slack", "jira": "Jira"}
	for kind, want := range names {
		if typ, _ := connection.TypeOf(kind); typ.DefaultName != want {
			t.Errorf("%s default name %q, want %q (the template's helpers look for it)", kind, typ.DefaultName, want)
		}
	}
}
