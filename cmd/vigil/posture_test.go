package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
)

// runPostureCLI runs a command with the outbound guard opened for the
// loopback fakes.
func runPostureCLI(t *testing.T, dir string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(append([]string{"--data-dir", dir, "--allow-outbound", "127.0.0.0/8"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestPostureCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	now := time.Now().UTC()

	// Snapshot files are read only from <data-dir>/snapshots.
	snap := filepath.Join(dir, "snapshots", "org.json")
	if err := synth.WriteSnapshotFile(snap, 200, 1, now); err != nil {
		t.Fatal(err)
	}
	_, exp := synth.Generate(200, 1, now)

	fake := oktatest.New(t)
	fake.AddUser(oktatest.User{Login: "cy@example.com"}) // no factor: No MFA - Account
	t.Setenv("VIGIL_TEST_OKTA_TOKEN", fake.Token())

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sources", "add", "okta", "--name", "o", "--url", fake.URL, "--subject", "x"}, "--subject does not apply to okta sources"},
		{[]string{"sources", "add", "okta", "--name", "o", "--url", fake.URL, "--token-env", "VIGIL_TEST_UNSET"}, "VIGIL_TEST_UNSET is not set"},
		{[]string{"sources", "add", "ldap", "--name", "o"}, "not a source kind"},
		{[]string{"sources", "add", "snapshot", "--file", snap}, "--name is required"},
		{[]string{"scan", "--source", "nope"}, "no source is configured"},
	} {
		if _, _, err := runPostureCLI(t, dir, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}

	out, logs, err := runPostureCLI(t, dir, "sources", "add", "snapshot", "--name", "demo", "--file", snap)
	if err != nil || !strings.Contains(out, `Added snapshot source "demo"`) {
		t.Fatalf("add snapshot: %v\n%s%s", err, out, logs)
	}
	out, logs, err = runPostureCLI(t, dir, "sources", "add", "okta", "--name", "okta-prod", "--url", fake.URL, "--token-env", "VIGIL_TEST_OKTA_TOKEN", "--schedule", "12h")
	if err != nil || !strings.Contains(out, "primary identity provider") || !strings.Contains(out, "every 12h") {
		t.Fatalf("add okta: %v\n%s%s", err, out, logs)
	}
	if strings.Contains(out+logs, fake.Token()) {
		t.Fatal("the token was printed")
	}
	out, _, err = runPostureCLI(t, dir, "sources", "list", "--json")
	if err != nil || strings.Contains(out, fake.Token()) {
		t.Fatalf("sources list: %v\n%s", err, out)
	}
	var listed []sourceJSON
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 2 || !listed[1].HasCredentials || !listed[1].Primary {
		t.Fatalf("sources list --json: %v\n%s", err, out)
	}
	// The snapshot holds its own Okta source; make it the primary so that
	// the synthetic people are joined as the generator expects.
	if _, _, err := runPostureCLI(t, dir, "sources", "primary", "demo"); err != nil {
		t.Fatal(err)
	}

	out, logs, err = runPostureCLI(t, dir, "scan")
	if err != nil {
		t.Fatalf("scan: %v\n%s%s", err, out, logs)
	}
	for _, want := range []string{"ok in", "demo", "okta-prod", "No MFA - Account", "Total"} {
		if !strings.Contains(out, want) {
			t.Errorf("scan output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = runPostureCLI(t, dir, "issues", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var issues []event.Issue
	if err := json.Unmarshal([]byte(out), &issues); err != nil {
		t.Fatalf("issues list --json: %v\n%s", err, out)
	}
	// Every planted issue, and the Okta fake's user: without MFA, and an
	// orphan, since the snapshot's Okta defines people.
	if len(issues) != len(exp)+2 {
		t.Fatalf("%d issues, want %d", len(issues), len(exp)+2)
	}
	var cy *event.Issue
	for i, is := range issues {
		if is.Status != "open" || !strings.HasPrefix(is.ID, "iss_") || !strings.HasSuffix(is.Link, "/ispm/issues/"+is.ID) ||
			is.AffectedEntity.SourceProductName == "" || is.AffectedEntity.AdditionalData.Types == nil {
			t.Fatalf("issue %+v", is)
		}
		if is.AffectedEntity.IdentifierInService == "cy@example.com" && is.Title == "No MFA - Account" {
			cy = &issues[i]
		}
	}
	if cy == nil || cy.Title != "No MFA - Account" {
		t.Fatalf("no issue for the Okta user: %+v", cy)
	}

	out, _, err = runPostureCLI(t, dir, "issues", "ack", cy.ID, "--reason", "service desk ticket 42", "--by", "alice")
	if err != nil || !strings.Contains(out, "Acknowledged 1 issue.") {
		t.Fatalf("issues ack: %v\n%s", err, out)
	}
	out, _, err = runPostureCLI(t, dir, "issues", "list", "--status", "acknowledged")
	if err != nil || !strings.Contains(out, cy.ID) || strings.Count(out, "iss_") != 1 {
		t.Fatalf("issues list --status acknowledged: %v\n%s", err, out)
	}
	out, _, err = runPostureCLI(t, dir, "issues", "show", cy.ID)
	if err != nil || !strings.Contains(out, "acknowledged") || !strings.Contains(out, "alice: service desk ticket 42") {
		t.Fatalf("issues show: %v\n%s", err, out)
	}
	_, _, err = runPostureCLI(t, dir, "issues", "snooze", cy.ID, "--until", "72h")
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = runPostureCLI(t, dir, "issues", "ack", "iss_nope")
	var code exitCode
	if !errors.As(err, &code) || !strings.Contains(out, "No issue has the id iss_nope.") {
		t.Fatalf("ack of an unknown id: %v\n%s", err, out)
	}

	// A revoked token: the scan reports it, exits 1, and resolves nothing.
	fake.SetToken("00revoked")
	out, _, err = runPostureCLI(t, dir, "scan", "--source", "okta-prod")
	if !errors.As(err, &code) || !strings.Contains(out, "failed") || !strings.Contains(out, "credentials are wrong") {
		t.Fatalf("scan with a revoked token: %v\n%s", err, out)
	}
	out, _, err = runPostureCLI(t, dir, "issues", "list", "--status", "resolved", "--json")
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("resolved after a failed scan: %v\n%s", err, out)
	}

	out, _, err = runPostureCLI(t, dir, "sources", "rm", "okta-prod")
	if err != nil || !strings.Contains(out, "Removed source") {
		t.Fatalf("sources rm: %v\n%s", err, out)
	}
	out, _, err = runPostureCLI(t, dir, "issues", "list", "--status", "resolved", "--json")
	if err != nil || !strings.Contains(out, cy.ID) {
		t.Fatalf("issues of a removed source are not resolved: %v\n%s", err, out)
	}
	out, _, err = runPostureCLI(t, dir, "sources", "list")
	if err != nil || strings.Contains(out, "okta-prod") || !strings.Contains(out, "demo") {
		t.Fatalf("sources list: %v\n%s", err, out)
	}
}
