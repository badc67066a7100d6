package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
)

// TestIdentitiesCommands scans a synthetic organization and checks that
// 'vigil identities list --privileged true --mfa none' names the people
// of the "No MFA" admin issues, and that 'identities show' shows one.
func TestIdentitiesCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	// Snapshot files are read only from <data-dir>/snapshots.
	if err := os.MkdirAll(filepath.Join(dir, "snapshots"), 0o700); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "snapshots", "org.json")
	f, err := os.Create(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteSnapshot(f, 120, 2, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, logs, err := runPostureCLI(t, dir, "sources", "add", "snapshot", "--name", "org", "--file", snap); err != nil {
		t.Fatalf("add: %v\n%s%s", err, out, logs)
	}
	if out, logs, err := runPostureCLI(t, dir, "scan"); err != nil {
		t.Fatalf("scan: %v\n%s%s", err, out, logs)
	}
	decode := func(v any, args ...string) {
		t.Helper()
		out, logs, err := runPostureCLI(t, dir, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, logs)
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v printed %q: %v", args, out, err)
		}
	}
	var issues []event.Issue
	decode(&issues, "issues", "list", "--json", "--title", "No MFA - Admin Account,No MFA - Global Admin Account")
	var accounts []identity.Account
	decode(&accounts, "identities", "list", "--accounts", "--limit", "500", "--json")
	want := map[string]bool{}
	for _, i := range issues {
		for _, a := range accounts {
			if a.IDInService == i.AffectedEntity.IDInService && a.SourceProductName == i.AffectedEntity.SourceProductName && a.PersonID != "" {
				want[a.PersonID] = true
			}
		}
	}
	if len(want) == 0 {
		t.Fatalf("no admin without MFA among %d issues: the test proves nothing", len(issues))
	}
	var people []identity.Person
	decode(&people, "identities", "list", "--privileged", "true", "--mfa", "none", "--limit", "500", "--json")
	var got []string
	for _, p := range people {
		got = append(got, p.ID)
		if !want[p.ID] {
			t.Errorf("listed %s, whom no No MFA admin issue names", p.ID)
		}
	}
	for id := range want {
		if !slices.Contains(got, id) {
			t.Errorf("a No MFA admin issue names %s, who is not listed", id)
		}
	}

	out, _, err := runPostureCLI(t, dir, "identities", "show", got[0])
	if err != nil || !strings.Contains(out, "ACCOUNT") || !strings.Contains(out, "No MFA - ") {
		t.Errorf("identities show: %v\n%s", err, out)
	}
	if _, _, err := runPostureCLI(t, dir, "identities", "list", "--mfa", "maybe"); err == nil || !strings.Contains(err.Error(), "mfa is \"maybe\"") {
		t.Errorf("a bad --mfa: %v", err)
	}
	if _, _, err := runPostureCLI(t, dir, "identities", "show", "idn_nobody"); err == nil || !strings.Contains(err.Error(), "no identity has the id idn_nobody") {
		t.Errorf("an unknown id: %v", err)
	}
}
