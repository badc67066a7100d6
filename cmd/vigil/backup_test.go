package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/signature"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// backupFixture is a Vigil with something of every kind in it, secrets
// sealed, and a receiver and a fake Okta that check those secrets when a
// restored copy uses them.
type backupFixture struct {
	okta      *oktatest.Server
	hookKey   string
	whsec     string
	mu        sync.Mutex
	received  []*http.Request
	bodies    [][]byte
	receiver  *httptest.Server
	routeFlow string
}

// fill creates, through the commands, users, a source with a sealed token,
// an integration with a sealed API key and signing secret, a connection
// with a sealed token, the ISPM template's flows (an endpoint with a sealed
// client token) and, by a scan, issues.
func (f *backupFixture) fill(t *testing.T, e *e2e) {
	t.Helper()
	f.okta = oktatest.New(t)
	f.okta.SetToken("00" + id.Token(16))
	old := time.Now().UTC().AddDate(-1, 0, 0)
	admin := f.okta.AddUser(oktatest.User{Login: "no.mfa@example.com", Created: old, LastLogin: &old, PasswordChanged: &old})
	f.okta.AddUserRole(admin.ID, oktatest.Role{Type: "ORG_ADMIN"})
	t.Setenv("VIGIL_TEST_OKTA_TOKEN", f.okta.Token())
	f.hookKey = "hook-key-" + id.Token(12)
	t.Setenv("VIGIL_TEST_HOOK_KEY", f.hookKey)
	f.receiver = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.received = append(f.received, r)
		f.bodies = append(f.bodies, body)
		f.mu.Unlock()
	}))
	t.Cleanup(f.receiver.Close)
	f.routeFlow = "1.0 ISPM Event Routing Flow"

	e.run("users", "add", "alice", "--role", "issue_viewer")
	e.run("users", "add", "wanda", "--role", "workflows_admin")
	e.run("sources", "add", "okta", "--name", "okta", "--url", f.okta.URL, "--token-env", "VIGIL_TEST_OKTA_TOKEN")
	out := e.run("hooks", "add", "--name", "Receiver", "--url", f.receiver.URL, "--header", "X-Api-Key=@env:VIGIL_TEST_HOOK_KEY")
	f.whsec = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(out)
	if f.whsec == "" {
		t.Fatalf("hooks add printed no signing secret:\n%s", out)
	}
	e.run("connections", "add", "okta", "--name", "Okta", "--url", f.okta.URL, "--token-env", "VIGIL_TEST_OKTA_TOKEN")
	e.run("templates", "add", "identity-security-posture-management", "--folder", "ISPM")
	e.run("scan")
}

// state is what the commands show of a data directory, secrets opened
// where a command opens them (the invoke endpoint's client token).
func (f *backupFixture) state(t *testing.T, e *e2e) map[string]string {
	t.Helper()
	s := map[string]string{}
	for _, args := range [][]string{
		{"users", "list", "--json"},
		{"sources", "list", "--json"},
		{"hooks", "list", "--json"},
		{"connections", "list", "--json"},
		{"flows", "list", "--json"},
		{"issues", "list", "--json"},
		{"flows", "endpoint", f.routeFlow, "--folder", "ISPM", "--json"},
	} {
		s[strings.Join(args, " ")] = e.run(args...)
	}
	return s
}

// compare reports every command whose output differs after a restore.
func (f *backupFixture) compare(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("vigil %s after the restore:\n%s\nwant:\n%s", k, after[k], v)
		}
	}
}

// TestBackupRestoreSQLite backs up a running server's SQLite database,
// restores it into a new data directory and finds everything there, the
// sealed secrets opening with the same master key and failing clearly with
// another one.
func TestBackupRestoreSQLite(t *testing.T) {
	ctx := context.Background()
	key := secrettest.MasterKey(t)
	t.Setenv("VIGIL_MASTER_KEY", key)
	src := &e2e{t: t, dir: t.TempDir()}
	src.serve(ctx)
	var f backupFixture
	f.fill(t, src)
	before := f.state(t, src)
	var issues []map[string]any
	if err := json.Unmarshal([]byte(before["issues list --json"]), &issues); err != nil || len(issues) == 0 {
		t.Fatalf("the scan raised no issue to back up: %v\n%s", err, before["issues list --json"])
	}

	file := filepath.Join(t.TempDir(), "vigil.backup")
	if out := src.run("backup", file); !strings.Contains(out, "master key") {
		t.Errorf("backup printed %q; want a reminder to keep the master key", out)
	}
	if _, err := src.runErr("backup", file); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("a second backup to the same file: %v; want a refusal naming --force", err)
	}
	src.run("backup", file, "--force")
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, %v; want mode 0600", fi, err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*tmp*")); len(m) != 0 {
		t.Errorf("temporary files left beside the backup: %q", m)
	}

	// The same master key: everything is there and every secret opens.
	dst := &e2e{t: t, dir: t.TempDir()}
	dst.run("restore", file)
	f.compare(t, before, f.state(t, dst))
	if out := dst.run("connections", "test", "Okta"); !strings.HasPrefix(out, "Connected to Okta") {
		t.Errorf("connections test after the restore: %s", out)
	}
	if out := dst.run("hooks", "test", "Receiver"); !strings.Contains(out, "OK: the receiver answered 200") {
		t.Errorf("hooks test after the restore: %s", out)
	}
	f.mu.Lock()
	if len(f.received) != 1 {
		t.Fatalf("the receiver got %d requests; want the one test", len(f.received))
	}
	r, body := f.received[0], f.bodies[0]
	f.mu.Unlock()
	if got := r.Header.Get("X-Api-Key"); got != f.hookKey {
		t.Errorf("the restored integration sent the API key %q; want the one it was created with", got)
	}
	if err := signature.Verify([]string{f.whsec}, r.Header, body, time.Now(), time.Hour); err != nil {
		t.Errorf("the restored integration's signature does not verify with its original secret: %v", err)
	}
	if out := dst.run("scan", "--source", "okta"); strings.Contains(strings.ToLower(out), "fail") {
		t.Errorf("scan with the restored source's token: %s", out)
	}

	// A second restore keeps the database it replaces.
	if out := dst.run("restore", file); !strings.Contains(out, "kept as") {
		t.Errorf("second restore printed %q; want where the previous database went", out)
	}
	if m, _ := filepath.Glob(filepath.Join(dst.dir, "vigil.db.before-restore-*")); len(m) == 0 {
		t.Error("the replaced database was not kept")
	}

	// Bad files change nothing.
	junk := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(t.TempDir(), "newer.backup")
	if err := os.WriteFile(newer, mustRead(t, file), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO vigil_migration (version, applied_at) VALUES ('9999_from_the_future', '2030-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, tc := range []struct{ file, want string }{
		{junk, "not a Vigil backup"},
		{newer, "newer Vigil"},
		{filepath.Join(t.TempDir(), "missing"), "cannot read the backup file"},
	} {
		if _, err := dst.runErr("restore", tc.file); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("restore %s: %v; want an error saying %q", tc.file, err, tc.want)
		}
	}
	if got := dst.run("users", "list", "--json"); got != before["users list --json"] {
		t.Errorf("a refused restore changed the users:\n%s", got)
	}

	// No restore under a running server.
	dst.serve(ctx)
	if _, err := dst.runErr("restore", file); err == nil || !strings.Contains(err.Error(), "stop it before restoring") {
		t.Errorf("restore under a running server: %v; want a refusal", err)
	}

	// Another master key: the data is there, the secrets do not open.
	t.Setenv("VIGIL_MASTER_KEY", secrettest.MasterKey(t))
	other := &e2e{t: t, dir: t.TempDir()}
	other.run("restore", file)
	if got := other.run("users", "list", "--json"); got != before["users list --json"] {
		t.Errorf("users restored under another key:\n%s", got)
	}
	for _, args := range [][]string{
		{"connections", "test", "Okta"},
		{"hooks", "test", "Receiver"},
		{"flows", "endpoint", f.routeFlow, "--folder", "ISPM", "--json"},
	} {
		out, err := other.runErr(args...)
		if err == nil && !strings.Contains(out, "master key") {
			t.Errorf("vigil %s under another master key: %s; want a failure", strings.Join(args, " "), out)
			continue
		}
		if msg := out + " " + errString(err); !strings.Contains(msg, "master key") {
			t.Errorf("vigil %s under another master key: %q; want an error naming the master key", strings.Join(args, " "), msg)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestBackupRestorePostgres backs up a PostgreSQL database with pg_dump and
// restores it into another with pg_restore; the tools are found on PATH or
// in PG_BIN (where scripts/pg.sh's cluster has them). Without them, both
// commands say what to install and what to run.
func TestBackupRestorePostgres(t *testing.T) {
	ctx := context.Background()
	key := secrettest.MasterKey(t)
	t.Setenv("VIGIL_MASTER_KEY", key)
	if bin := os.Getenv("PG_BIN"); bin != "" {
		t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	src := &e2e{t: t, dir: t.TempDir(), database: storetest.DatabaseURL(t, "postgres")}
	src.serve(ctx)
	var f backupFixture
	f.fill(t, src)
	before := f.state(t, src)

	file := filepath.Join(t.TempDir(), "vigil.dump")
	src.run("backup", file)
	if _, err := src.runErr("backup", file); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("a second backup to the same file: %v; want a refusal naming --force", err)
	}

	dst := &e2e{t: t, dir: t.TempDir(), database: storetest.DatabaseURL(t, "postgres")}
	dst.run("migrate") // a database a new node already set up
	dst.run("restore", file)
	f.compare(t, before, f.state(t, dst))
	if out := dst.run("connections", "test", "Okta"); !strings.HasPrefix(out, "Connected to Okta") {
		t.Errorf("connections test after the restore: %s", out)
	}

	// Without the tools: a clear error naming what to install and run.
	t.Setenv("PATH", t.TempDir())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", filepath.Join(t.TempDir(), "x.dump")}, "pg_dump: not found on PATH; install the PostgreSQL client tools"},
		{[]string{"restore", file}, "pg_restore: not found on PATH; install the PostgreSQL client tools"},
	} {
		_, err := dst.runErr(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("vigil %s without the tools: %v; want one line saying %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
