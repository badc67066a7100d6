package detect

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// designTitles is the catalog table of the design notes, in order, with
// category and severity.
var designTitles = [][3]string{
	{"No MFA - Account", "MFA", "Medium"},
	{"No MFA - Admin Account", "MFA", "High"},
	{"No MFA - Global Admin Account", "MFA", "Critical"},
	{"Pending MFA - Account", "MFA", "Low"},
	{"Pending MFA - Admin Account", "MFA", "Medium"},
	{"Pending MFA - Global Admin Account", "MFA", "High"},
	{"No MFA Enforced - Global Admin Account", "MFA", "High"},
	{"Weak MFA - Admin Account", "MFA", "Medium"},
	{"Root Account without MFA", "MFA", "Critical"},
	{"Unused Account", "Least Privilege", "Low"},
	{"Unused Admin Account", "Least Privilege", "High"},
	{"Unused Global Admin Account", "Least Privilege", "Critical"},
	{"Unused Service Account", "Least Privilege", "Medium"},
	{"Unused Global Admin Service Account", "Least Privilege", "Critical"},
	{"Excessive Global Admins", "Least Privilege", "Medium"},
	{"Excessive Admins", "Least Privilege", "Low"},
	{"Highly Privileged API Token", "Least Privilege", "High"},
	{"Root Access Key Present", "Least Privilege", "Critical"},
	{"Old Password - Account", "Credential Hygiene", "Low"},
	{"Old Password - Admin Account", "Credential Hygiene", "Medium"},
	{"Old Password - Global Admin Account", "Credential Hygiene", "High"},
	{"Old Password - Service Account", "Credential Hygiene", "Low"},
	{"Old Password - Admin Service Account", "Credential Hygiene", "Medium"},
	{"Old Password - Global Admin Service Account", "Credential Hygiene", "High"},
	{"Unrotated API Token", "Credential Hygiene", "Medium"},
	{"Unrotated Access Key", "Credential Hygiene", "Medium"},
	{"Unused Access Key", "Credential Hygiene", "Medium"},
	{"Partially Offboarded User", "Account Lifecycle", "High"},
	{"Orphaned Account", "Account Lifecycle", "Low"},
}

func TestCatalogMatchesDesign(t *testing.T) {
	t.Parallel()
	cat := Catalog()
	if len(cat) != len(designTitles) {
		t.Fatalf("catalog has %d titles, the design %d", len(cat), len(designTitles))
	}
	for i, d := range cat {
		want := designTitles[i]
		if d.Title != want[0] || string(d.Category) != want[1] || string(d.Severity) != want[2] {
			t.Errorf("catalog[%d] = %q %q %q, want %q", i, d.Title, d.Category, d.Severity, want)
		}
		for name, text := range map[string]string{"description": d.Description, "full": d.FullDescription, "remediation": d.SuggestedRemediation, "risk": d.RiskAndImpact} {
			if len(text) < 25 || !strings.HasSuffix(text, ".") {
				t.Errorf("%s: %s text %q is too short or lacks a full stop", d.Title, name, text)
			}
		}
		wantEntity := EntityAccount
		switch d.Title {
		case TitleExcessiveAdmins, TitleExcessiveGlobalAdmins:
			wantEntity = EntityTenant
		case TitlePartiallyOffboardedUser:
			wantEntity = EntityUser
		}
		if d.Entity != wantEntity {
			t.Errorf("%s: entity %s, want %s", d.Title, d.Entity, wantEntity)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	d, ok := Lookup("Unused Admin Account")
	if !ok || d.Severity != SeverityHigh || d.Category != CategoryLeastPrivilege {
		t.Errorf("Lookup(Unused Admin Account) = %+v, %v", d, ok)
	}
	for _, bad := range []string{"unused admin account", "Unused Admin Account ", ""} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%q) found a detection", bad)
		}
	}
}

func TestCatalogForUsesThresholds(t *testing.T) {
	t.Parallel()
	def := detectionsByTitle(Catalog())
	got := detectionsByTitle(CatalogFor(Config{UnusedDays: 30, AdminPasswordMaxAgeDays: 60, MaxGlobalAdmins: 3}))
	checks := []struct{ title, want string }{
		{TitleUnusedAdmin, "for 31 days"},
		{TitleOldPasswordAdmin, "for 61 days"},
		{TitleExcessiveGlobalAdmins, "more than 3 global admins"},
	}
	for _, c := range checks {
		if !strings.Contains(got[c.title].FullDescription, c.want) {
			t.Errorf("%s: %q does not contain %q", c.title, got[c.title].FullDescription, c.want)
		}
	}
	if def[TitleUnusedAdmin].FullDescription != "Admin Accounts not logged in interactively for 91 days." {
		t.Errorf("default Unused Admin Account description = %q", def[TitleUnusedAdmin].FullDescription)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	c := Config{UnusedDays: 30, MaxAdmins: -1}.WithDefaults()
	if c.UnusedDays != 30 || c.MaxAdmins != DefaultMaxAdmins || c.PasswordMaxAgeDays != DefaultPasswordMaxAgeDays {
		t.Errorf("WithDefaults = %+v", c)
	}
	if err := (Config{MaxAdmins: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "max admins") {
		t.Errorf("Validate of a negative limit = %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("Validate of the zero config = %v", err)
	}
}

// org is a small multi-source organization for Run's end-to-end tests.
func org(t *testing.T, oktaName string) *graph.Graph {
	t.Helper()
	ali := healthy()
	ali.Privilege = graph.PrivilegeAdmin
	ali.PrivilegeReasons = []string{"Member of Org Admins group"}
	ali.LastLogin = daysAgo(120)
	bo := with(status(graph.StatusDeprovisioned))
	bo.IDInService, bo.Email, bo.Login, bo.DisplayName = "00u2", "bo@example.com", "bo@example.com", "Bo Berg"
	boGoogle := with()
	boGoogle.IDInService, boGoogle.Email, boGoogle.Login = "g2", "Bo@Example.com", "bo@example.com"
	stranger := with()
	stranger.IDInService, stranger.Email, stranger.Login = "g3", "x@example.com", "x@example.com"
	svc := with(service, cred(graph.Credential{ID: "AKIA1", Name: "ci", Kind: graph.CredentialAccessKey, Active: true, Created: *daysAgo(200), LastUsed: daysAgo(1)}))
	svc.IDInService, svc.Email, svc.Login, svc.PasswordChanged = "ci-bot", "", "ci-bot", nil
	g, err := graph.Build([]graph.Source{
		{Name: oktaName, Product: graph.ProductOkta, Tenant: "acme.okta.com", Accounts: []*graph.Account{ali, bo}},
		{Name: "google", Product: graph.ProductGoogle, Tenant: "example.com", Accounts: []*graph.Account{boGoogle, stranger}},
		{Name: "aws", Product: graph.ProductAWS, Tenant: "123456789012", Accounts: []*graph.Account{svc}},
	}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRun(t *testing.T) {
	t.Parallel()
	fs := Run(org(t, "okta"), Config{}, now)
	type row struct{ title, entity, source, sources string }
	var got []row
	for _, f := range fs {
		got = append(got, row{f.Title, f.Entity.Key, f.Source, strings.Join(f.Sources, ",")})
	}
	want := []row{
		{TitleUnusedAdmin, "Account|Okta|acme.okta.com|00u1", "okta", "okta"},
		{TitleOrphanedAccount, "Account|Google Workspace|example.com|g3", "google", "google,okta"},
		{TitleUnrotatedAccessKey, "Account|AWS|123456789012|ci-bot", "aws", "aws"},
		{TitlePartiallyOffboardedUser, "User|Okta|acme.okta.com|bo@example.com", "okta", "okta,google"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Run =\n%q\nwant\n%q", got, want)
	}

	// Fingerprints are unique, and stable across runs and source renames.
	again := Run(org(t, "okta-renamed"), Config{}, now.AddDate(0, 0, 1))
	seen := map[string]bool{}
	for i, f := range fs {
		if seen[f.Fingerprint] || len(f.Fingerprint) != 64 {
			t.Errorf("fingerprint %q is repeated or malformed", f.Fingerprint)
		}
		seen[f.Fingerprint] = true
		if again[i].Fingerprint != f.Fingerprint {
			t.Errorf("%s: fingerprint changed after a rename", f.Title)
		}
	}
	if Fingerprint(TitleUnusedAdmin, "Account|Okta|acme.okta.com|00u1") == Fingerprint(TitleUnusedGlobalAdmin, "Account|Okta|acme.okta.com|00u1") {
		t.Error("two titles on one entity share a fingerprint")
	}

	user := fs[3].Entity
	if user.Type != EntityUser || user.DisplayName != "Bo Berg" || user.IDInService != "00u2" || len(user.AdditionalData.ActiveAccounts) != 1 ||
		user.AdditionalData.ActiveAccounts[0].IDInService != "g2" {
		t.Errorf("user entity = %+v", user)
	}
	key := fs[2].Entity.AdditionalData
	if len(key.UnrotatedTokens) != 1 || key.UnrotatedTokens[0].ID != "AKIA1" || key.Types[0].Type != "Service Account" {
		t.Errorf("access key finding data = %+v", key)
	}
}

func TestFindingJSONIsTheEventShape(t *testing.T) {
	t.Parallel()
	fs := Run(org(t, "okta"), Config{}, now)
	b, err := json.Marshal(fs[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	wantTop := []string{"affectedEntity", "category", "fullDescription", "riskAndImpact", "severity", "shortDescription", "suggestedRemediation", "title"}
	if got := keys(m); !slices.Equal(got, wantTop) {
		t.Errorf("finding keys = %q, want %q", got, wantTop)
	}
	ent := m["affectedEntity"].(map[string]any)
	wantEnt := []string{"additionalData", "displayName", "idInService", "identifierInService", "sourceProductName", "sourceProductTenant", "type"}
	if got := keys(ent); !slices.Equal(got, wantEnt) {
		t.Errorf("entity keys = %q, want %q", got, wantEnt)
	}
	add := ent["additionalData"].(map[string]any)
	wantAdd := []string{"activeAccounts", "lastLogin", "types", "unrotatedTokens", "username"}
	if got := keys(add); !slices.Equal(got, wantAdd) {
		t.Errorf("additionalData keys = %q, want %q", got, wantAdd)
	}
	want := `{"title":"Unused Admin Account","category":"Least Privilege","severity":"High","shortDescription":"Admin account unused for 91 days","fullDescription":"Admin Accounts not logged in interactively for 91 days."`
	if !strings.HasPrefix(string(b), want) {
		t.Errorf("JSON starts %s\nwant %s", b[:min(len(b), len(want))], want)
	}
	if !strings.Contains(string(b), `"types":[{"type":"Admin","reasons":["Member of Org Admins group"]}],"lastLogin":"2026-07-31T10:00:00Z","unrotatedTokens":[],"activeAccounts":[]`) {
		t.Errorf("additionalData is not in the event's shape: %s", b)
	}
}

func TestRunWithoutPrimaryRaisesNoLifecycle(t *testing.T) {
	t.Parallel()
	g := org(t, "okta")
	g2, err := graph.Build([]graph.Source{
		{Name: "google", Product: graph.ProductGoogle, Tenant: "example.com", Accounts: accountsOf(g, "google")},
	}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Run(g2, Config{}, now) {
		if f.Category == CategoryAccountLifecycle {
			t.Errorf("without a primary source: %s on %s", f.Title, f.Entity.Key)
		}
	}
}

func accountsOf(g *graph.Graph, source string) []*graph.Account {
	var out []*graph.Account
	for _, a := range g.Accounts {
		if a.Tenant.Source == source {
			out = append(out, a)
		}
	}
	return out
}

func TestKeysAreUnambiguous(t *testing.T) {
	t.Parallel()
	a := AccountKey(graph.ProductOkta, "t|x", "y")
	b := AccountKey(graph.ProductOkta, "t", "x|y")
	if a == b {
		t.Errorf("keys collide: %q", a)
	}
	if got := TenantKey(graph.ProductAWS, `a\b`); got != `Tenant|AWS|a\\b` {
		t.Errorf("TenantKey = %q", got)
	}
}
