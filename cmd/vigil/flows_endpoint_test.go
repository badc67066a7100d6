package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/engine/enginetest"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/settings"
)

const endpointRoute = `document:
  dsl: '1.0.0'
  namespace: demo
  name: route
  version: '1.0.0'
  title: Route
  metadata:
    vigil:
      trigger:
        apiEndpoint: {security: clientToken, response: async}
do:
  - pick: {set: {title: '${ .body.title }'}}
`

const endpointPublic = `document:
  dsl: '1.0.0'
  namespace: demo
  name: echo
  version: '1.0.0'
  title: Echo
  metadata:
    vigil:
      trigger:
        apiEndpoint: {security: public}
do:
  - echo: {set: {body: '${ .body }'}}
`

// endpointJSON is the stable shape of `vigil flows endpoint --json`.
type endpointJSON struct {
	FlowID      string  `json:"flowId"`
	InvokeURL   string  `json:"invokeUrl"`
	ClientToken *string `json:"clientToken"`
	Security    string  `json:"security"`
	Response    string  `json:"response"`
}

// TestFlowsEndpoint imports flows with and without an API Endpoint, then
// checks what `vigil flows endpoint` prints, where the invoke URL's host
// comes from, and that the printed and rotated tokens are the ones the real
// invoke handler accepts.
func TestFlowsEndpoint(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	t.Setenv("VIGIL_PUBLIC_URL", "")
	t.Setenv("VIGIL_ADDR", "")
	data := filepath.Join(dir, "data")
	flowDir := filepath.Join(dir, "flows")
	os.Mkdir(flowDir, 0o700)
	writeFile(t, flowDir, "route.yaml", endpointRoute)
	writeFile(t, flowDir, "echo.yaml", endpointPublic)
	writeFile(t, flowDir, "helper.yaml", cliHelper)
	cli := func(args ...string) (string, string, error) {
		t.Helper()
		return runFlowsCLI(t, append([]string{"--data-dir", data, "--log-level", "error"}, args...)...)
	}
	endpoint := func(args ...string) endpointJSON {
		t.Helper()
		out, _, err := cli(append([]string{"flows", "endpoint", "--json"}, args...)...)
		var got endpointJSON
		if err != nil || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("endpoint %v = %q, %v", args, out, err)
		}
		return got
	}
	if out, _, err := cli("flows", "import", flowDir, "--folder", "Demo", "--on"); err != nil {
		t.Fatalf("import = %q, %v", out, err)
	}

	first := endpoint("Route")
	urlRE := regexp.MustCompile(`^http://127\.0\.0\.1:8080/api/flo/([A-Za-z0-9_-]{20,})/invoke$`)
	m := urlRE.FindStringSubmatch(first.InvokeURL)
	if m == nil || first.ClientToken == nil || len(*first.ClientToken) < 32 || first.Security != "clientToken" ||
		first.Response != "async" || first.FlowID == "" {
		t.Fatalf("endpoint --json = %+v; want the default public URL, a client token, clientToken and async", first)
	}
	alias := m[1]
	if again := endpoint("demo/route", "--folder", "Demo"); again.InvokeURL != first.InvokeURL || *again.ClientToken != *first.ClientToken {
		t.Errorf("second look = %+v; want the same URL and token as %+v", again, first)
	}

	// Where the invoke URL's host comes from: the flag, then the
	// environment, then Admin → Settings, then VIGIL_ADDR.
	a, err := app.Open(context.Background(), app.Config{DataDir: data, LogOutput: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	t.Setenv("VIGIL_ADDR", "127.0.0.1:9090")
	if got := endpoint("Route").InvokeURL; got != "http://127.0.0.1:9090/api/flo/"+alias+"/invoke" {
		t.Errorf("with VIGIL_ADDR, invokeUrl = %s", got)
	}
	if err := a.Store.PutSetting(context.Background(), settings.PublicURL.Key, "https://saved.example.com/", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env, flag, want string
	}{
		{"", "", "https://saved.example.com"},
		{"https://env.example.com", "", "https://env.example.com"},
		{"https://env.example.com", "https://vigil.example.com/", "https://vigil.example.com"},
	} {
		t.Setenv("VIGIL_PUBLIC_URL", c.env)
		args := []string{"Route"}
		if c.flag != "" {
			args = append(args, "--public-url", c.flag)
		}
		if got := endpoint(args...).InvokeURL; got != c.want+"/api/flo/"+alias+"/invoke" {
			t.Errorf("env %q, flag %q: invokeUrl = %s; want it on %s", c.env, c.flag, got, c.want)
		}
	}
	t.Setenv("VIGIL_PUBLIC_URL", "")

	out, _, err := cli("flows", "endpoint", "Route")
	for _, want := range []string{"Flow:          Route (demo/route, on)\n", "Invoke URL:    https://saved.example.com/api/flo/" + alias + "/invoke\n",
		"Security:      clientToken\n", "Response:      async\n", "Client token:  " + *first.ClientToken + "\n"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("endpoint = %q, %v; want a line %q", out, err, want)
		}
	}
	if pub := endpoint("Echo"); pub.ClientToken != nil || pub.Security != "public" || pub.Response != "sync" {
		t.Errorf("public endpoint = %+v; want no client token, public and sync", pub)
	}

	refusals := []struct {
		args []string
		want string
	}{
		{[]string{"Double It"}, `flow "Double It" has no API Endpoint trigger, so it has no invoke URL`},
		{[]string{"Echo", "--rotate-token"}, `flow "Echo" is secured with public, not a client token, so there is no token to rotate`},
		{[]string{"Route", "--grace", "1h"}, "--grace goes with --rotate-token"},
		{[]string{"Route", "--rotate-token", "--grace", "-1h"}, "--grace cannot be negative"},
		{[]string{"nothing"}, `no flow is titled or named "nothing"`},
	}
	for _, r := range refusals {
		if _, _, err := cli(append([]string{"flows", "endpoint"}, r.args...)...); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("endpoint %v: %v; want %q", r.args, err, r.want)
		}
	}

	// The printed tokens are the ones the invoke handler checks.
	svc := flows.New(a.Store, a.Box, flows.Config{})
	q, err := queue.New(a.Store, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(q)
	mux := http.NewServeMux()
	mux.Handle(invoke.Pattern, invoke.NewHandler(invoke.Config{}, a.Store, invoke.NewEndpoints(a.Store, a.Box, nil), svc.Invoke(), a.Outbound, slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	status := func(token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, invoke.InvokeURL(srv.URL, alias), strings.NewReader(`{"title": "Unused Admin Account"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-api-client-token", token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	rotate := func(args ...string) (string, string) {
		t.Helper()
		out, errOut, err := cli(append([]string{"flows", "endpoint", "Route", "--json", "--rotate-token"}, args...)...)
		var got endpointJSON
		if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.ClientToken == nil {
			t.Fatalf("rotate %v = %q, %v", args, out, err)
		}
		return *got.ClientToken, errOut
	}
	// The command writes the database as another process would: the
	// running server sees a new token within invoke.AliasCacheAge.
	settle := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waited a minute for %s", what)
			}
		}
	}
	t1 := *first.ClientToken
	if s := status(t1); s != http.StatusAccepted {
		t.Fatalf("invoke with the printed token = %d; want 202", s)
	}
	t2, note := rotate("--grace", "1h")
	settle("the server to see the rotation", func() bool { return status(t2) != http.StatusUnauthorized })
	if t2 == t1 || status(t2) != http.StatusAccepted || status(t1) != http.StatusAccepted || note != "The client token is rotated; the old one keeps working for 1h0m0s.\n" {
		t.Errorf("after rotating with a grace period: new token %d, old token %d, note %q; want both 202",
			status(t2), status(t1), note)
	}
	t3, note := rotate()
	settle("the server to see the second rotation", func() bool { return status(t3) != http.StatusUnauthorized })
	if status(t3) != http.StatusAccepted || status(t2) != http.StatusUnauthorized || status(t1) != http.StatusUnauthorized ||
		note != "The client token is rotated; running servers refuse the old one within 500ms.\n" {
		t.Errorf("after rotating without grace: new %d, previous %d, first %d, note %q; want 202, 401, 401",
			status(t3), status(t2), status(t1), note)
	}
	if shown := endpoint("Route"); *shown.ClientToken != t3 || shown.InvokeURL != "https://saved.example.com/api/flo/"+alias+"/invoke" {
		t.Errorf("after rotation the endpoint shows %+v; want token %s and the same URL", shown, t3)
	}
}

// TestFlowsEndpointSigningSecret sets a signed flow's secret from standard
// input and by generating one, and checks what is refused: a secret that
// does not fit, a flow that does not verify signatures, flags that do not
// go together.
func TestFlowsEndpointSigningSecret(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	data := filepath.Join(dir, "data")
	flowDir := filepath.Join(dir, "flows")
	os.Mkdir(flowDir, 0o700)
	writeFile(t, flowDir, "signed.yaml", enginetest.SignedFlow)
	writeFile(t, flowDir, "echo.yaml", endpointPublic)
	writeFile(t, flowDir, "signedtok.yaml", strings.NewReplacer("security: public", "security: clientToken",
		"name: signed", "name: signedtok", "title: Signed", "title: SignedTok").Replace(enginetest.SignedFlow))
	cli := func(stdin string, args ...string) (string, string, error) {
		t.Helper()
		return runCLIWithStdin(t, stdin, append([]string{"--data-dir", data, "--log-level", "error"}, args...)...)
	}
	if out, _, err := cli("", "flows", "import", flowDir, "--folder", "Demo", "--on"); err != nil {
		t.Fatalf("import = %q, %v", out, err)
	}
	type signedJSON struct {
		Signature *struct {
			Scheme  string `json:"scheme"`
			Header  string `json:"header"`
			Secrets int    `json:"secrets"`
		} `json:"signature"`
		SigningSecret string `json:"signingSecret"`
	}
	read := func(stdin string, args ...string) signedJSON {
		t.Helper()
		out, errOut, err := cli(stdin, append([]string{"flows", "endpoint", "Signed", "--json"}, args...)...)
		var got signedJSON
		if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.Signature == nil {
			t.Fatalf("endpoint %v = %q, %q, %v", args, out, errOut, err)
		}
		return got
	}
	if got := read(""); got.Signature.Scheme != "hmac-sha256" || got.Signature.Header != "X-Hub-Signature-256" || got.Signature.Secrets != 0 {
		t.Fatalf("before a secret: %+v", *got.Signature)
	}
	if out, _, err := cli("", "flows", "endpoint", "Signed"); err != nil || !strings.Contains(out, "no secret set: every call is refused") {
		t.Errorf("the table before a secret = %q, %v", out, err)
	}
	if got := read("It's a Secret to Everybody\n", "--signing-secret-stdin"); got.Signature.Secrets != 1 || got.SigningSecret != "" {
		t.Errorf("own secret: %+v, %q; want one secret, none printed", *got.Signature, got.SigningSecret)
	}
	got := read("", "--generate-signing-secret", "--keep-previous")
	if got.Signature.Secrets != 2 || len(got.SigningSecret) != 64 {
		t.Errorf("generated, keeping the previous: %+v, %q", *got.Signature, got.SigningSecret)
	}
	token := func() string {
		t.Helper()
		out, errOut, err := cli("", "flows", "endpoint", "SignedTok", "--json")
		var got struct {
			ClientToken string `json:"clientToken"`
		}
		if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.ClientToken == "" {
			t.Fatalf("endpoint SignedTok = %q, %q, %v", out, errOut, err)
		}
		return got.ClientToken
	}
	tokenBefore := token()
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"short\n", []string{"Signed", "--signing-secret-stdin"}, "16 to 256 characters"},
		{"short\n", []string{"SignedTok", "--signing-secret-stdin", "--rotate-token"}, "16 to 256 characters"},
		{"", []string{"Signed", "--signing-secret-stdin"}, "standard input was empty"},
		{"", []string{"Signed", "--signing-secret-stdin", "--generate-signing-secret"}, "cannot go together"},
		{"", []string{"Signed", "--keep-previous"}, "--keep-previous goes with"},
		{"", []string{"Echo", "--generate-signing-secret"}, "does not verify signatures"},
	} {
		if _, _, err := cli(tc.stdin, append([]string{"flows", "endpoint"}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to say %q", tc.args, err, tc.want)
		}
	}
	if got := read(""); got.Signature.Secrets != 2 {
		t.Errorf("after the refusals: %d secrets, want the 2 set before", got.Signature.Secrets)
	}
	if token() != tokenBefore {
		t.Error("a refused signing secret rotated the client token")
	}
}
