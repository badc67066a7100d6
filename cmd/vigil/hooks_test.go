package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// runHooksCLI executes the vigil command line with args and returns its output.
func runHooksCLI(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(append([]string{"--data-dir", dataDir, "--allow-outbound", "127.0.0.0/8"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestHooksCommands(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		w.Write([]byte("received"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("TEST_WF_TOKEN", "token-from-env-9876")

	out, err := runHooksCLI(t, dir, "hooks", "add", "--name", "Okta Workflows", "--url", srv.URL+"/api/flo/abc/invoke",
		"--param", "clientToken=@env:TEST_WF_TOKEN", "--header", "X-Extra=a=b")
	if err != nil {
		t.Fatalf("hooks add: %v", err)
	}
	if !strings.Contains(out, "whsec_") || !strings.Contains(out, "param clientToken = ••••••••9876") || strings.Contains(out, "token-from-env") {
		t.Errorf("hooks add printed:\n%s", out)
	}

	if _, err := runHooksCLI(t, dir, "hooks", "automate", "Okta Workflows", "--titles", "Unused Admin Account, No MFA - Admin Account", "--auto-send", "on"); err != nil {
		t.Fatalf("hooks automate: %v", err)
	}
	out, err = runHooksCLI(t, dir, "hooks", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var list []struct {
		Name       string `json:"name"`
		State      string `json:"state"`
		Keys       []struct{ Name, Placement, Value string }
		Automation struct {
			AutoSend bool     `json:"autoSend"`
			Titles   []string `json:"titles"`
		} `json:"automation"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	if len(list) != 1 || list[0].State != "active" || len(list[0].Automation.Titles) != 2 || !list[0].Automation.AutoSend ||
		len(list[0].Keys) != 2 || list[0].Keys[1].Placement != "header" || strings.Contains(out, "token-from-env") {
		t.Errorf("list --json:\n%s", out)
	}

	out, err = runHooksCLI(t, dir, "hooks", "test", "Okta Workflows")
	if err != nil || !strings.Contains(out, "OK: the receiver answered 200") {
		t.Fatalf("hooks test: %v\n%s", err, out)
	}
	mu.Lock()
	r := got[0]
	mu.Unlock()
	if r.URL.Query().Get("clientToken") != "token-from-env-9876" || r.Header.Get("X-Extra") != "a=b" || r.Header.Get("X-Vigil-Test") != "true" {
		t.Errorf("test request: query %q, headers %v", r.URL.RawQuery, r.Header)
	}

	failures := []struct {
		args []string
		want string
	}{
		{[]string{"hooks", "add", "--name", "x", "--url", "http://example.com/hook"}, "must use https"},
		{[]string{"hooks", "add", "--name", "x", "--url", "https://u:p@example.com/hook"}, "user name or password"},
		{[]string{"hooks", "add", "--name", "x", "--url", "https://example.com", "--param", "clientToken"}, "KEY=VALUE"},
		{[]string{"hooks", "add", "--name", "x", "--url", "https://example.com", "--param", "t=@env:TEST_UNSET_VAR"}, "TEST_UNSET_VAR is not set"},
		{[]string{"hooks", "add", "--name", "x", "--url", "https://example.com", "--param", "a=1", "--param", "a=2"}, "given twice"},
		{[]string{"hooks", "add", "--name", "Okta Workflows", "--url", "https://example.com"}, "already exists"},
		{[]string{"hooks", "automate", "Okta Workflows"}, "--titles"},
		{[]string{"hooks", "automate", "Okta Workflows", "--titles", "Unused Admin"}, "not an issue title"},
		{[]string{"hooks", "test", "nope"}, "no integration"},
	}
	for _, f := range failures {
		if _, err := runHooksCLI(t, dir, f.args...); err == nil || !strings.Contains(err.Error(), f.want) {
			t.Errorf("%q: error %v, want …%s…", f.args, err, f.want)
		}
	}

	if _, err := runHooksCLI(t, dir, "hooks", "rm", "Okta Workflows"); err != nil {
		t.Fatal(err)
	}
	if out, _ := runHooksCLI(t, dir, "hooks", "list"); !strings.Contains(out, "No integrations") {
		t.Errorf("after rm: %s", out)
	}
}
