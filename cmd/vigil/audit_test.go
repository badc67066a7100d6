package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestAuditListCommand checks that management commands are audited as the
// command line, that `vigil audit list` filters them, and that --json
// prints one entry per line without the password the command set.
func TestAuditListCommand(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("VIGIL_MASTER_KEY", "")
			db := []string{}
			if u := storetest.DatabaseURL(t, dialect); u != "" {
				db = []string{"--database", u}
			}
			run := func(stdin string, args ...string) string {
				t.Helper()
				out, logs, err := runCLI(t, dir, stdin, append(db, args...)...)
				if err != nil {
					t.Fatalf("vigil %s: %v\n%s\n%s", strings.Join(args, " "), err, out, logs)
				}
				return out
			}
			const password = "carols chosen passphrase"
			run(password+"\n", "users", "add", "carol", "--role", "issue_viewer", "--password-stdin")
			run("", "tokens", "create", "--user", "carol")

			out := run("", "audit", "list", "--actor", "cli", "--json")
			var entries []audit.Record
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var e audit.Record
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("audit list --json line %q: %v", line, err)
				}
				entries = append(entries, e)
			}
			if len(entries) != 2 || entries[0].Action != "token.create" || entries[1].Action != "user.create" {
				t.Fatalf("audit list --json: %s; want token.create then user.create", out)
			}
			for _, e := range entries {
				if e.Actor.Kind != audit.ActorCLI || e.Actor.Address != "cli" {
					t.Errorf("entry %+v; want the command line as actor and address", e)
				}
			}
			if strings.Contains(out, password) {
				t.Error("the audit log holds the password")
			}

			out = run("", "audit", "list", "--action", "user")
			if !strings.Contains(out, "user.create") || strings.Contains(out, "token.create") || !strings.Contains(out, "user carol") {
				t.Errorf("audit list --action user:\n%s", out)
			}
			if out := run("", "audit", "list", "--since", "2999-01-01"); !strings.Contains(out, "No audit entries match.") {
				t.Errorf("audit list --since the future:\n%s", out)
			}
			if _, _, err := runCLI(t, dir, "", append(db, "audit", "list", "--until", "soon")...); err == nil || !strings.Contains(err.Error(), "The until time must be") {
				t.Errorf("audit list --until soon: %v; want a clear error", err)
			}
		})
	}
}
