package console

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/posture/source"
)

func TestCleanPath(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "/home"},
		{"/ispm/issues?status=all", "/ispm/issues?status=all"},
		{"/ispm/../admin/users", "/admin/users"},
		{"//evil.example/x", "/home"},
		{"/\\evil.example", "/home"},
		{"https://evil.example/", "/home"},
		{"javascript:alert(1)", "/home"},
		{"relative/path", "/home"},
	}
	for _, c := range cases {
		if got := cleanPath(c.in, "/home"); got != c.want {
			t.Errorf("cleanPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSlug(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Intake API", "intake-api"},
		{"  1.0 ISPM Event Routing Flow ", "1-0-ispm-event-routing-flow"},
		{"Ünïcode — only", "n-code-only"},
		{"!!!", "fallback"},
		{strings.Repeat("a", 70), strings.Repeat("a", 63)},
		{strings.Repeat("a", 62) + " b", strings.Repeat("a", 62)},
	}
	for _, c := range cases {
		if got := slug(c.in, "fallback"); got != c.want {
			t.Errorf("slug(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestNewFlowDocumentParses checks that every choice of the builder makes
// a document the DSL package accepts, with the trigger and data settings
// read back as chosen, whatever the title holds.
func TestNewFlowDocumentParses(t *testing.T) {
	for _, sec := range []string{dsl.SecurityClientToken, dsl.SecurityOAuth2, dsl.SecurityPublic} {
		for _, saveAll := range []bool{true, false} {
			title := `Intake: "quoted" #1 — ${ not an expr }`
			doc, err := newFlowDocument("default", title, "Line one.\nLine two: with a colon.", sec, saveAll)
			if err != nil {
				t.Fatal(err)
			}
			wf, err := dsl.Parse(doc)
			if err != nil {
				t.Fatalf("%s/%v: %v\n%s", sec, saveAll, err, doc)
			}
			if wf.Document.Title != title || wf.Trigger().APIEndpoint.Security != sec || wf.SaveAllData() != saveAll {
				t.Errorf("%s/%v: read back title %q, security %q, saveAllData %v", sec, saveAll, wf.Document.Title, wf.Trigger().APIEndpoint.Security, wf.SaveAllData())
			}
		}
	}
}

func TestFlowCards(t *testing.T) {
	doc := `document: {dsl: '1.0.0', namespace: ns, name: f, version: '1.0.0'}
do:
  - route:
      switch:
        - okta:
            when: .product == "Okta"
            then: suspend
        - other:
            then: end
  - suspend:
      if: .on
      call: okta.suspendUser
      with:
        connection: Okta
        user: ${ .id }
  - log:
      call: tables.createRow
      with:
        table: ISPM Events
        row:
          Username: ${ .login }
          Title: fixed
  - helper:
      run:
        workflow: {namespace: ns, name: h, version: '1.0.0'}
        await: false
`
	wf, err := dsl.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cards := flowCards(wf.Do)
	if len(cards) != 4 {
		t.Fatalf("%d cards", len(cards))
	}
	want := []struct {
		summary string
		rows    []cardRow
	}{
		{"Choose what to do next", []cardRow{{"okta", `when ${ .product == "Okta" } → suspend`, true}, {"other", "otherwise → end", false}}},
		{"Call okta.suspendUser", []cardRow{{"only if", "${ .on }", true}, {"connection", "Okta", false}, {"user", "${ .id }", true}}},
		{"Call tables.createRow", []cardRow{{"table", "ISPM Events", false}, {"row › Username", "${ .login }", true}, {"row › Title", "fixed", false}}},
		{"Run the helper flow ns/h", []cardRow{{"version", "1.0.0", false}, {"waiting", "does not wait", false}}},
	}
	for i, w := range want {
		c := cards[i]
		if c.Summary != w.summary || len(c.Rows) != len(w.rows) {
			t.Errorf("card %d: %q with %d rows %+v", i, c.Summary, len(c.Rows), c.Rows)
			continue
		}
		for j := range w.rows {
			if c.Rows[j] != w.rows[j] {
				t.Errorf("card %d row %d: %+v, want %+v", i, j, c.Rows[j], w.rows[j])
			}
		}
	}
	if got := flowConnections(wf); len(got) != 1 || got[0] != "Okta" {
		t.Errorf("connections %v", got)
	}
}

// TestSourceInputMapping checks that form fields land in the source
// service's settings and credentials by their JSON names.
func TestSourceInputMapping(t *testing.T) {
	in, err := inputOf(SourceInput{Name: "okta", Kind: "okta", Values: map[string]string{
		"url": "https://acme.okta.com", "token": "00secret", "clientId": "cid", "privateKey": "pem", "keyId": "kid"}})
	if err != nil {
		t.Fatal(err)
	}
	if in.Settings.URL != "https://acme.okta.com" || in.Settings.ClientID != "cid" || in.Settings.KeyID != "kid" ||
		in.Credentials.Token != "00secret" || in.Credentials.PrivateKey != "pem" || in.Kind != source.KindOkta {
		t.Errorf("mapped to %+v", in)
	}
	// Every field of every form lands somewhere.
	for _, ft := range sourceKinds {
		for _, f := range ft.Fields {
			in, err := inputOf(SourceInput{Kind: ft.Type, Values: map[string]string{f.Name: "x"}})
			if err != nil {
				t.Fatal(err)
			}
			if reflect.DeepEqual(in.Settings, source.Settings{}) && in.Credentials == (source.Credentials{}) {
				t.Errorf("%s field %s maps to nothing", ft.Type, f.Name)
			}
		}
	}
}

// TestCookiesSecureBehindTLSProxy checks that the flash cookie is marked
// Secure when the public URL is https even though the request reached the
// server in plain HTTP (a TLS-terminating proxy in front), and not when
// both are plain HTTP (a local demo, where a Secure cookie would be lost).
func TestCookiesSecureBehindTLSProxy(t *testing.T) {
	for _, tc := range []struct {
		public string
		want   bool
	}{{"https://vigil.example", true}, {"HTTPS://vigil.example", true}, {"http://127.0.0.1:8080", false}} {
		c := &Console{cfg: Config{PublicURL: tc.public}}
		w := httptest.NewRecorder()
		c.redirect(w, httptest.NewRequest(http.MethodPost, "http://127.0.0.1/x", nil), "/home", flashOK, "saved")
		cookies := w.Result().Cookies()
		if len(cookies) != 1 || cookies[0].Name != flashCookie {
			t.Fatalf("public URL %s: cookies %v; want the flash cookie", tc.public, cookies)
		}
		if cookies[0].Secure != tc.want {
			t.Errorf("public URL %s: flash cookie Secure = %v; want %v", tc.public, cookies[0].Secure, tc.want)
		}
	}
}
