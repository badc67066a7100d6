package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
)

// TestIdentitiesCommands scans a synthetic organization and checks that
// 'vigil identities list --privileged true --mfa none' names the people
// of the "No MFA" admin issues, and that 'identities show' shows one.
func TestIdentitiesCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	scanSynthOrg(t, dir, 120, 2)
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
