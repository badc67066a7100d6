package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/store"
)

// runCLI executes the command line with stdin and returns standard output
// and standard error.
func runCLI(t *testing.T, dataDir, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append([]string{"--data-dir", dataDir}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestUsersAndTokensCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")

	out, logs, err := runCLI(t, dir, "", "users", "add", "Alice", "--role", "workflows_admin", "--json")
	if err != nil {
		t.Fatalf("users add: %v", err)
	}
	var added struct {
		User     auth.User `json:"user"`
		Password string    `json:"password"`
	}
	if err := json.Unmarshal([]byte(out), &added); err != nil || added.User.Name != "alice" || len(added.Password) != 26 {
		t.Fatalf("users add --json: %v\n%s", err, out)
	}
	if strings.Contains(logs, added.Password) {
		t.Error("the generated password reached the log")
	}

	const chosen = "bobs chosen passphrase"
	out, logs, err = runCLI(t, dir, chosen+"\n", "users", "add", "bob", "--role", "issue_viewer", "--password-stdin")
	if err != nil || !strings.Contains(out, `Added user "bob"`) || strings.Contains(out, "Password") || strings.Contains(out+logs, chosen) {
		t.Fatalf("users add --password-stdin: %v\n%s\n%s", err, out, logs)
	}

	bad := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"users", "add", "carol", "--role", "owner"}, "", "unknown role"},
		{[]string{"users", "add", "bob", "--role", "issue_viewer"}, "", "already exists"},
		{[]string{"users", "add", "carol", "--role", "issue_viewer", "--password-stdin"}, "", "standard input was empty"},
		{[]string{"users", "add", "carol", "--role", "issue_viewer", "--password-stdin"}, "short\n", "at least 12"},
		{[]string{"users", "passwd", "nobody"}, "", "no user named"},
		{[]string{"users", "unlink", "nobody"}, "", "no user named"},
		{[]string{"users", "disable", "alice"}, "", ""}, // allowed: alice is not a super_admin
		{[]string{"tokens", "create", "--user", "alice"}, "", "disabled"},
		{[]string{"tokens", "revoke", "tok_missing"}, "", "no API token"},
	}
	for _, tt := range bad {
		_, _, err := runCLI(t, dir, tt.stdin, tt.args...)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.args, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v; want %q", tt.args, err, tt.want)
		}
	}
	if _, _, err := runCLI(t, dir, "", "users", "enable", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, dir, "", "users", "set-role", "bob", "issue_responder"); err != nil {
		t.Fatal(err)
	}
	// A local user has no single sign-on link to remove (the auth tests
	// unlink a linked one).
	if out, _, err := runCLI(t, dir, "", "users", "unlink", "bob"); err != nil || !strings.Contains(out, `"bob" was not linked`) {
		t.Fatalf("users unlink of a local user: %v\n%s", err, out)
	}

	out, _, err = runCLI(t, dir, "", "users", "list", "--json")
	if err != nil {
		t.Fatalf("users list --json: %v\n%s", err, out)
	}
	var users []auth.User
	if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 2 || users[1].Role != auth.RoleIssueResponder || users[0].Disabled {
		t.Fatalf("users list --json: %v\n%s", err, out)
	}
	if strings.Contains(out, "argon2") {
		t.Error("users list shows password hashes")
	}

	out, _, err = runCLI(t, dir, "", "tokens", "create", "--user", "ALICE", "--name", "ci", "--expires-in-days", "30", "--json")
	var created struct {
		APIToken auth.Token `json:"apiToken"`
		Token    string     `json:"token"`
	}
	if err != nil || json.Unmarshal([]byte(out), &created) != nil || !strings.HasPrefix(created.Token, auth.TokenPrefix) || created.APIToken.ExpiresAt == nil {
		t.Fatalf("tokens create: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, dir, "", "tokens", "create", "--user", "bob")
	if err != nil || !strings.Contains(out, "Token (shown once") || !strings.Contains(out, auth.TokenPrefix) {
		t.Fatalf("tokens create (text): %v\n%s", err, out)
	}
	out, _, err = runCLI(t, dir, "", "tokens", "list")
	if err != nil || strings.Count(out, "tok_") != 2 || strings.Contains(out, created.Token) {
		t.Fatalf("tokens list: %v\n%s", err, out)
	}

	// The token and the passwords work against the same database.
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URL: "sqlite://" + filepath.Join(dir, "vigil.db")})
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.New(st, auth.Config{})
	if u, _, err := svc.TokenUser(ctx, created.Token); err != nil || u.Name != "alice" {
		t.Errorf("created token: %v, %v", u, err)
	}
	if _, err := svc.Login(ctx, "bob", chosen, ""); err != nil {
		t.Errorf("bob's password from standard input: %v", err)
	}
	st.Close()

	out, _, err = runCLI(t, dir, "", "users", "passwd", "bob")
	if err != nil || !strings.Contains(out, "Password (shown once") {
		t.Fatalf("users passwd: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, dir, "", "tokens", "revoke", created.APIToken.ID); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runCLI(t, dir, "", "tokens", "list", "--user", "alice", "--json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("alice's tokens after revoke: %s", out)
	}
}
