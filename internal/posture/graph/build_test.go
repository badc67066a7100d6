package graph

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

func acct(id, email string, status Status) *Account {
	return &Account{IDInService: id, Email: email, Login: email, Status: status}
}

func TestBuildJoinsPeople(t *testing.T) {
	okta := Source{Name: "okta", Product: ProductOkta, Tenant: "acme.okta.com", Accounts: []*Account{
		acct("o1", "Ali.Lesch@Example.com", StatusActive),
		acct("o2", "bo@example.com", StatusDeprovisioned),
		acct("o3", "ali.lesch@example.com", StatusDeprovisioned),  // duplicate of o1
		{IDInService: "o4", Login: "carol", Status: StatusActive}, // no address
		acct("o5", "dan@example.com", StatusActive),
		acct("o6", "dan@other.example", StatusActive), // shares the local part "dan"
	}}
	google := Source{Name: "google", Product: ProductGoogle, Tenant: "example.com", Accounts: []*Account{
		acct("g1", " ali.lesch+gw@EXAMPLE.com", StatusActive),
		acct("g2", "bo@example.com", StatusActive),
		acct("g3", "stranger@example.com", StatusActive),
		{IDInService: "g4", Status: StatusActive}, // nothing to join on
	}}
	aws := Source{Name: "aws", Product: ProductAWS, Tenant: "123456789012", Accounts: []*Account{
		{IDInService: "arn:aws:iam::123456789012:user/ali.lesch", Login: "ali.lesch", Status: StatusActive},
		{IDInService: "arn:aws:iam::123456789012:user/dan", Login: "dan", Status: StatusActive},
		{IDInService: "arn:aws:iam::123456789012:root", Login: "<root_account>", Root: true, Status: StatusActive},
	}}
	g, err := Build([]Source{google, okta, aws}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Primary == nil || g.Primary.Source != "okta" || !g.Primary.Primary {
		t.Fatalf("primary = %+v, want the okta source", g.Primary)
	}
	if got := len(g.People); got != 5 {
		t.Fatalf("people = %d, want 5 (ali, bo, carol, dan@example, dan@other)", got)
	}
	ali := g.Person("ali.lesch@example.com")
	if ali == nil {
		t.Fatal("no person for ali.lesch@example.com")
	}
	want := map[string]*Person{
		"o1": ali, "o3": ali, "g1": ali, "arn:aws:iam::123456789012:user/ali.lesch": ali,
		"o2": g.Person("bo@example.com"), "g2": g.Person("bo@example.com"),
		"o4": g.Person("id:o4"),
		"g3": nil, "g4": nil,
		"arn:aws:iam::123456789012:user/dan": nil, // ambiguous local part
		"arn:aws:iam::123456789012:root":     nil,
	}
	for _, a := range g.Accounts {
		p, ok := want[a.IDInService]
		if !ok {
			continue
		}
		if p == nil && a.Person != nil || p != nil && a.Person != p {
			t.Errorf("account %s joined %v, want %v", a.IDInService, key(a.Person), key(p))
		}
	}
	if len(ali.Primary) != 2 || len(ali.Accounts) != 4 {
		t.Errorf("ali has %d primary and %d accounts, want 2 and 4", len(ali.Primary), len(ali.Accounts))
	}
	if ali.Offboarded() {
		t.Error("ali has an active primary account but is offboarded")
	}
	bo := g.Person("bo@example.com")
	if !bo.Offboarded() || bo.PrimaryStatus() != StatusDeprovisioned {
		t.Errorf("bo: offboarded=%v status=%s, want true deprovisioned", bo.Offboarded(), bo.PrimaryStatus())
	}
	if other := bo.OtherActive(); len(other) != 1 || other[0].IDInService != "g2" {
		t.Errorf("bo's other active accounts = %v, want g2", other)
	}
}

func key(p *Person) string {
	if p == nil {
		return "<nil>"
	}
	return p.Key
}

func TestBuildLocalPartMatchCanBeTurnedOff(t *testing.T) {
	srcs := []Source{
		{Name: "okta", Product: ProductOkta, Tenant: "t", Accounts: []*Account{acct("o1", "ali@example.com", StatusActive)}},
		{Name: "aws", Product: ProductAWS, Tenant: "1", Accounts: []*Account{{IDInService: "u", Login: "Ali", Status: StatusActive}}},
	}
	for _, off := range []bool{false, true} {
		g, err := Build(srcs, Options{NoLocalPartMatch: off})
		if err != nil {
			t.Fatal(err)
		}
		joined := g.Tenant("aws") != nil && g.Accounts[1].Person != nil
		if joined == off {
			t.Errorf("NoLocalPartMatch=%v: joined=%v", off, joined)
		}
	}
}

func TestBuildPrimary(t *testing.T) {
	srcs := func() []Source {
		return []Source{
			{Name: "entra", Product: ProductAAD, Tenant: "t1", Accounts: []*Account{acct("e1", "a@x.io", StatusActive)}},
			{Name: "okta-a", Product: ProductOkta, Tenant: "t2", Accounts: []*Account{acct("o1", "a@x.io", StatusActive)}},
			{Name: "okta-b", Product: ProductOkta, Tenant: "t3", Accounts: []*Account{acct("o2", "b@x.io", StatusActive)}},
		}
	}
	tests := []struct {
		primary    string
		want       string
		wantPeople int
	}{
		{"", "okta-a", 1},
		{"entra", "entra", 1},
		{"okta-b", "okta-b", 1},
		{"gone", "", 0},
	}
	for _, tt := range tests {
		g, err := Build(srcs(), Options{Primary: tt.primary})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if g.Primary != nil {
			got = g.Primary.Source
		}
		if got != tt.want || len(g.People) != tt.wantPeople {
			t.Errorf("Primary %q: got %q with %d people, want %q with %d", tt.primary, got, len(g.People), tt.want, tt.wantPeople)
		}
		for _, tn := range g.Tenants {
			if tn.Primary != (tn.Source == tt.want) {
				t.Errorf("Primary %q: tenant %s Primary=%v", tt.primary, tn.Source, tn.Primary)
			}
		}
	}
}

func TestBuildNormalizesAndCounts(t *testing.T) {
	enrolled := func(f ...string) MFA { return MFA{State: MFAEnrolled, Factors: f} }
	src := Source{Name: "s", Product: ProductAWS, Tenant: "1", Accounts: []*Account{
		{IDInService: "root", Root: true, Status: StatusActive},
		{IDInService: "a", Status: StatusActive, Privilege: PrivilegeAdmin, MFA: enrolled(FactorSMS, FactorEmail)},
		{IDInService: "b", Status: StatusActive, Privilege: PrivilegeGlobalAdmin, MFA: enrolled(FactorSMS, FactorWebAuthn)},
		{IDInService: "c", Status: StatusActive, Kind: KindService, MFA: MFA{State: MFAEnrolled, WeakOnly: true}},
		{IDInService: "d", Status: StatusSuspended, Privilege: PrivilegeGlobalAdmin},
	}}
	g, err := Build([]Source{src}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := g.Accounts
	if a[0].Privilege != PrivilegeGlobalAdmin || a[0].Kind != KindHuman {
		t.Errorf("root: privilege %q kind %q, want global_admin human", a[0].Privilege, a[0].Kind)
	}
	if !a[1].MFA.WeakOnly || a[2].MFA.WeakOnly || !a[3].MFA.WeakOnly {
		t.Errorf("weakOnly = %v %v %v, want true false true", a[1].MFA.WeakOnly, a[2].MFA.WeakOnly, a[3].MFA.WeakOnly)
	}
	want := Counts{Accounts: 5, Active: 4, Humans: 3, Services: 1, Admins: 2, GlobalAdmins: 1}
	if got := g.Tenants[0].Counts; got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	if g.Primary != nil || len(g.People) != 0 {
		t.Errorf("no Okta source: primary %v, %d people; want none", g.Primary, len(g.People))
	}
	// Building again from the same accounts gives the same result.
	g2, err := Build([]Source{src}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g2.Tenants[0].Counts != want {
		t.Errorf("rebuild counts = %+v", g2.Tenants[0].Counts)
	}
}

func TestBuildRejectsInvalidInput(t *testing.T) {
	ok := func(id string) *Account { return &Account{IDInService: id, Status: StatusActive} }
	tests := []struct {
		name    string
		sources []Source
		want    string
	}{
		{"no name", []Source{{Product: ProductOkta, Tenant: "t"}}, "source 0: the name is empty"},
		{"bad product", []Source{{Name: "x", Product: "Okta Inc", Tenant: "t"}}, `the product "Okta Inc"`},
		{"no tenant", []Source{{Name: "x", Product: ProductAWS}}, "the tenant is empty"},
		{"duplicate source", []Source{{Name: "x", Product: ProductAWS, Tenant: "1"}, {Name: "x", Product: ProductAWS, Tenant: "2"}}, `the name "x" is used twice`},
		{"nil account", []Source{{Name: "x", Product: ProductAWS, Tenant: "1", Accounts: []*Account{nil}}}, "account 0: the account is null"},
		{"no id", []Source{{Name: "x", Product: ProductAWS, Tenant: "1", Accounts: []*Account{{Status: StatusActive}}}}, "idInService: is required"},
		{"duplicate id", []Source{{Name: "x", Product: ProductAWS, Tenant: "1", Accounts: []*Account{ok("a"), ok("a")}}}, `account 1: the idInService "a" appears twice`},
		{"no status", []Source{{Name: "x", Product: ProductAWS, Tenant: "1", Accounts: []*Account{{IDInService: "a"}}}}, "status: is required"},
		{"bad status", []Source{{Name: "x", Product: ProductAWS, Tenant: "1", Accounts: []*Account{{IDInService: "a", Status: "ACTIVE"}}}}, `status: "ACTIVE" is not`},
		{"bad kind", []Source{{Name: "x", Product: ProductAWS, Tenant: "1", Accounts: []*Account{{IDInService: "a", Status: StatusActive, Kind: "bot"}}}}, `kind: "bot"`},
		{"bad privilege", []Source{{Name: "x", Product: ProductAWS, Tenant: "1", Accounts: []*Account{{IDInService: "a", Status: StatusActive, Privilege: "root"}}}}, `privilege: "root"`},
		{"bad mfa", []Source{{Name: "x", Product: ProductAWS, Tenant: "1", Accounts: []*Account{{IDInService: "a", Status: StatusActive, MFA: MFA{State: "yes"}}}}}, `mfa.state: "yes"`},
		{"bad credential", []Source{{Name: "x", Product: ProductAWS, Tenant: "1", Accounts: []*Account{{IDInService: "a", Status: StatusActive, Credentials: []Credential{{ID: "k", Kind: "password"}}}}}}, `credentials[0].kind: "password"`},
		{"credential id", []Source{{Name: "x", Product: ProductAWS, Tenant: "1", Accounts: []*Account{{IDInService: "a", Status: StatusActive, Credentials: []Credential{{Kind: CredentialAccessKey}}}}}}, `credentials[0].id: is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.sources, Options{})
			if err == nil {
				t.Fatal("Build succeeded, want an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestBuildSharesRepeatedStrings checks that a graph decoded from a
// snapshot keeps one copy of what its accounts repeat: the enums, an
// email equal to the login, and equal lists of factors and reasons.
func TestBuildSharesRepeatedStrings(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"format":"` + SnapshotFormat + `","sources":[{"name":"okta","product":"Okta","tenant":"acme.okta.com","accounts":[`)
	for i := range 3 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"idInService":"u%d","login":"u%d@example.com","email":"u%d@example.com","status":"active",
			"privilege":"admin","privilegeReasons":["Org Admins","SUPER_ADMIN role"],"mfa":{"state":"enrolled","factors":["push"]},
			"credentials":[{"id":"t%d","kind":"api_token","active":true}]}`, i, i, i, i)
	}
	b.WriteString(`]}]}`)
	s, err := ReadSnapshot(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Graph(Options{})
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }
	first := g.Accounts[0]
	for _, a := range g.Accounts {
		if a.Email != a.Login || !same(a.Email, a.Login) {
			t.Errorf("%s: email %q is a copy of login %q", a.IDInService, a.Email, a.Login)
		}
		if !same(string(a.Status), string(StatusActive)) || !same(string(a.Privilege), string(PrivilegeAdmin)) ||
			!same(string(a.MFA.State), string(MFAEnrolled)) || !same(string(a.Credentials[0].Kind), string(CredentialAPIToken)) {
			t.Errorf("%s: an enum is a copy of its constant", a.IDInService)
		}
		if unsafe.SliceData(a.MFA.Factors) != unsafe.SliceData(first.MFA.Factors) ||
			unsafe.SliceData(a.PrivilegeReasons) != unsafe.SliceData(first.PrivilegeReasons) {
			t.Errorf("%s: its lists are copies of %s's", a.IDInService, first.IDInService)
		}
	}
	if got := g.Accounts[0].PrivilegeReasons; !reflect.DeepEqual(got, []string{"Org Admins", "SUPER_ADMIN role"}) {
		t.Errorf("privilege reasons = %q", got)
	}
}
