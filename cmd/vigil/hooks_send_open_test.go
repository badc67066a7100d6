package main

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/synth"
)

// TestHooksAutomateSendOpen scans a synthetic organization, then automates
// an integration for every title with --send-open: it says it queued as
// many events as there are open issues, and running it again queues none.
func TestHooksAutomateSendOpen(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	scanSynthOrg(t, dir, 30, 1)
	out, logs, err := runPostureCLI(t, dir, "issues", "list", "--status", "open", "--json")
	if err != nil {
		t.Fatalf("issues list: %v\n%s", err, logs)
	}
	var open []json.RawMessage
	if err := json.Unmarshal([]byte(out), &open); err != nil || len(open) == 0 {
		t.Fatalf("issues list printed %.300q: %v", out, err)
	}
	if _, err := runHooksCLI(t, dir, "hooks", "add", "--name", "Receiver", "--url", "http://127.0.0.1:9/hook"); err != nil {
		t.Fatalf("hooks add: %v", err)
	}
	out, err = runHooksCLI(t, dir, "hooks", "automate", "Receiver", "--all-titles", "--send-open")
	if err != nil || !strings.Contains(out, strconv.Itoa(len(open))+" open issues queued to be sent now.") {
		t.Errorf("automate --send-open: %v\n%s\nwant %d queued", err, out, len(open))
	}
	out, err = runHooksCLI(t, dir, "hooks", "automate", "Receiver", "--all-titles", "--send-open")
	if err != nil || !strings.Contains(out, "0 open issues queued to be sent now.") {
		t.Errorf("automate --send-open again: %v\n%s\nwant none queued", err, out)
	}
}

// scanSynthOrg adds a synthetic organization of people people, made from
// seed, as the snapshot source "org" and scans it.
func scanSynthOrg(t *testing.T, dir string, people int, seed int64) {
	t.Helper()
	// Snapshot files are read only from <data-dir>/snapshots.
	snap := filepath.Join(dir, "snapshots", "org.json")
	if err := synth.WriteSnapshotFile(snap, people, seed, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"sources", "add", "snapshot", "--name", "org", "--file", snap}, {"scan"}} {
		if out, logs, err := runPostureCLI(t, dir, args...); err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, out, logs)
		}
	}
}
