package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets a test run this test binary as the vigil command itself,
// to check what a user sees: the exit status and standard error.
func TestMain(m *testing.M) {
	if os.Getenv("VIGIL_TEST_RUN_MAIN") == "1" {
		// The arguments come from VIGIL_TEST_ARGS, or, without it, from the
		// command line (a child the program starts itself, as bench does).
		if args := os.Getenv("VIGIL_TEST_ARGS"); args != "" {
			os.Args = append([]string{"vigil"}, strings.Fields(args)...)
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBadStartExitStatus checks that each bad start of "vigil serve" ends
// with exit status 1 and one line on standard error naming the cause, and
// leaves no data directory behind.
func TestBadStartExitStatus(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := closed.Addr().String()
	closed.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	keyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(keyDir, "master.key"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, args, want string
		// opened is set where the database was opened (and migrated)
		// before the failure, so the data directory stays.
		opened bool
	}{
		{"unknown scheme", "--database mysql://localhost/vigil serve", "mysql", false},
		{"unreachable postgres", "--database postgres://vigil@" + dead + "/vigil?connect_timeout=2 serve", "cannot reach PostgreSQL", false},
		{"data dir under a file", "--data-dir " + filepath.Join(file, "data") + " serve", "data directory", false},
		{"corrupt master key", "--data-dir " + keyDir + " serve --addr 127.0.0.1:0", "master key file", false},
		{"address in use", "serve --addr " + busy.Addr().String(), "cannot listen", true},
		{"unknown role", "serve --role both", "unknown role", false},
		{"role on SQLite", "serve --role web --addr 127.0.0.1:0", "needs PostgreSQL", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			args := "--data-dir " + dataDir + " " + tc.args
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "VIGIL_TEST_RUN_MAIN=1", "VIGIL_TEST_ARGS="+args, "VIGIL_MASTER_KEY=")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("vigil %s: %v; want exit status 1\n%s", args, err, stderr.String())
			}
			msg := strings.TrimSpace(stderr.String())
			if !strings.HasPrefix(msg, "vigil: ") || strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Errorf("standard error %q; want one line naming %q", msg, tc.want)
			}
			if _, err := os.Stat(dataDir); err == nil && !tc.opened && !strings.Contains(tc.args, "--data-dir") {
				t.Errorf("the data directory %s was left behind", dataDir)
			}
		})
	}
}
