package app_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/logtest"
)

// TestOpenRefuses checks that each bad configuration ends with one
// sentence naming the cause, and leaves no database behind.
func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close()
	badKeyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(badKeyDir, "master.key"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}

	fresh := func() string { return filepath.Join(t.TempDir(), "data") }

	for _, tc := range []struct {
		name string
		cfg  app.Config
		want string
	}{
		{"unknown scheme", app.Config{DataDir: t.TempDir(), DatabaseURL: "mysql://localhost/vigil"}, "mysql"},
		{"unknown scheme, new data dir", app.Config{DataDir: fresh(), DatabaseURL: "mysql://localhost/vigil"}, "mysql"},
		{"unreachable postgres", app.Config{DataDir: t.TempDir(), DatabaseURL: "postgres://vigil@" + deadAddr + "/vigil?sslmode=disable&connect_timeout=2"}, "PostgreSQL"},
		// Without sslmode the driver tries TLS and then plain text, and
		// reports each attempt: still one line.
		{"unreachable postgres, default sslmode", app.Config{DataDir: fresh(), DatabaseURL: "postgres://vigil:pw0rd@" + deadAddr + "/vigil?connect_timeout=2"}, "PostgreSQL"},
		{"data dir not a directory", app.Config{DataDir: filepath.Join(file, "data")}, "data directory"},
		{"corrupt master key file", app.Config{DataDir: badKeyDir}, "master"},
		{"corrupt master key variable", app.Config{DataDir: t.TempDir(), MasterKey: "short"}, "VIGIL_MASTER_KEY"},
		{"unknown log level", app.Config{DataDir: t.TempDir(), LogLevel: "loud"}, "log level"},
		{"bad allowlist", app.Config{DataDir: t.TempDir(), AllowOutbound: "10.0.0.0/33"}, "10.0.0.0/33"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dirBefore, keyBefore := exists(tc.cfg.DataDir), exists(filepath.Join(tc.cfg.DataDir, "master.key"))
			a, err := app.Open(ctx, tc.cfg)
			if err == nil {
				a.Close()
				t.Fatalf("Open succeeded; want an error mentioning %q", tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || strings.Count(msg, ". ") > 1 || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one sentence mentioning %q", msg, tc.want)
			}
			if strings.Contains(msg, "pw0rd") {
				t.Errorf("error %q shows the database password", msg)
			}
			if tc.cfg.DataDir != "" {
				if _, err := os.Stat(filepath.Join(tc.cfg.DataDir, "vigil.db")); err == nil {
					t.Error("a database file was created")
				}
			}
			// Nothing partly written: no new data directory, no new key.
			if !dirBefore && exists(tc.cfg.DataDir) {
				t.Errorf("the data directory %s was left behind", tc.cfg.DataDir)
			}
			if !keyBefore && exists(filepath.Join(tc.cfg.DataDir, "master.key")) {
				t.Error("a master key file was left behind")
			}
		})
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestSecondServerRefused checks that a second server on the same SQLite
// file refuses to start with the reason, and that the first keeps serving.
func TestSecondServerRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *app.App {
		a, err := app.Open(ctx, app.Config{DataDir: dir, Addr: "127.0.0.1:0", LogOutput: &logtest.Buffer{}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	first, err := open().NewServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = open().NewServer(ctx)
	if err == nil || !strings.Contains(err.Error(), "another") {
		t.Fatalf("second server: %v; want a refusal saying another server uses the data directory", err)
	}
}
