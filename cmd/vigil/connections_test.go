package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
)

func TestConnectionsCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	ok := oktatest.New(t)
	t.Setenv("TEST_OKTA_TOKEN", oktatest.DefaultToken)
	cli := func(args ...string) (string, error) {
		t.Helper()
		out, _, err := runCLI(t, dir, "", append([]string{"--allow-outbound", "127.0.0.0/8"}, args...)...)
		return out, err
	}
	out, err := cli("connections", "add", "okta", "--name", "Okta", "--url", ok.URL, "--token-env", "TEST_OKTA_TOKEN")
	if err != nil || !strings.Contains(out, `Added okta connection "Okta".`) || strings.Contains(out, oktatest.DefaultToken) {
		t.Fatalf("add: %v\n%s", err, out)
	}
	out, err = cli("connections", "list", "--json")
	var list []connection.Connection
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Secrets["token"] != "••••••••oken" {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if strings.Contains(out, oktatest.DefaultToken) {
		t.Error("list shows the token")
	}
	out, err = cli("connections", "test", "Okta")
	if err != nil || !strings.HasPrefix(out, "Connected to Okta at "+ok.URL) {
		t.Errorf("test: %v\n%s", err, out)
	}
	ok.SetToken("00another-token")
	out, err = cli("connections", "test", "Okta")
	if !errors.Is(err, exitCode(1)) || !strings.HasPrefix(out, "The test of Okta failed") {
		t.Errorf("failing test: %v\n%s", err, out)
	}
	if out, err = cli("connections", "dry-run", "Okta", "on"); err != nil || !strings.Contains(out, "is on") {
		t.Errorf("dry-run: %v\n%s", err, out)
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"connections", "add", "aws", "--name", "x"}, `"aws" is not a connection type`},
		{[]string{"connections", "add", "okta", "--url", ok.URL}, "--name is required"},
		{[]string{"connections", "add", "okta", "--name", "O2", "--url", ok.URL, "--token-env", "NOT_SET_ANYWHERE"}, "the environment variable NOT_SET_ANYWHERE is not set"},
		{[]string{"connections", "add", "slack", "--name", "S", "--email", "a@b"}, "--email does not apply to slack connections"},
		{[]string{"connections", "add", "okta", "--name", "okta", "--url", ok.URL, "--token-env", "TEST_OKTA_TOKEN"}, `a connection named "okta" already exists`},
		{[]string{"connections", "rm", "Nope"}, `connection "Nope" does not exist`},
	}
	for _, b := range bad {
		if _, err := cli(b.args...); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: %v, want %q", b.args, err, b.want)
		}
	}
	if out, err = cli("connections", "rm", "Okta"); err != nil || !strings.Contains(out, `Removed connection "Okta"`) {
		t.Errorf("rm: %v\n%s", err, out)
	}
}

func TestTemplatesCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	out, _, err := runCLI(t, dir, "", "templates", "list", "--search", "ISPM")
	if err != nil || !strings.Contains(out, "identity-security-posture-management  Identity Security Posture Management  10") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	var folders []string
	for i, again := range []string{"--again=false", "--again"} {
		if i == 1 {
			_, _, err := runCLI(t, dir, "", "templates", "add", "identity-security-posture-management")
			if err == nil || !strings.Contains(err.Error(), `the folder "Identity Security Posture Management" exists already`) || !strings.Contains(err.Error(), "--again") {
				t.Fatalf("a second add without --again: %v", err)
			}
		}
		out, _, err = runCLI(t, dir, "", "templates", "add", "identity-security-posture-management", "--set", "oktaMfaGroupId=00g1a2b3c4d5e6f7g8h9", "--json", again)
		var added template.Added
		if err != nil || json.Unmarshal([]byte(out), &added) != nil {
			t.Fatalf("add: %v\n%s", err, out)
		}
		folders = append(folders, added.Folder)
	}
	if folders[0] != "Identity Security Posture Management" || folders[1] != "Identity Security Posture Management (2)" {
		t.Errorf("folders %q", folders)
	}
	out, _, err = runCLI(t, dir, "", "templates", "add", "Identity Security Posture Management", "--folder", "Remediation")
	if err != nil || !strings.Contains(out, `as folder "Remediation": 10 flows (off)`) || !strings.Contains(out, `Okta                 not set: vigil connections add okta --name "Okta"`) {
		t.Errorf("add --folder: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, dir, "", "templates", "add", "payroll"); err == nil || !strings.Contains(err.Error(), `there is no template "payroll"`) {
		t.Errorf("add payroll: %v", err)
	}
}
