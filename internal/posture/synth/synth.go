// Package synth generates synthetic organizations: people with accounts in
// Okta (the primary identity provider), Microsoft Entra ID, Google
// Workspace, Salesforce and AWS, with planted issues of every title of the
// detection catalog, and the exact set of findings a correct scan reports.
//
// It serves three purposes: precision and recall tests of the detections,
// the scan benchmark at 100,000 people, and demo data (see [Snapshot]).
//
// Everything is derived from the seed and the given time: the same
// arguments give the same organization, byte for byte.
package synth

import (
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// Org is a generated organization: its sources, ready for graph.Build.
type Org struct {
	// Domain is the company's email domain.
	Domain string
	// Primary is the name of the primary source (the Okta one).
	Primary string
	// Sources are okta, entra, google, salesforce and aws, in that order.
	Sources []graph.Source
	// GeneratedAt is the time the organization was generated for.
	GeneratedAt time.Time
}

// Expected is the set of findings a correct scan of an Org reports at its
// GeneratedAt with the default thresholds, keyed as detect.Finding.Key.
type Expected map[detect.Key]struct{}

// Titles counts the expected findings per title.
func (e Expected) Titles() map[string]int {
	m := map[string]int{}
	for k := range e {
		m[k.Title]++
	}
	return m
}

// Keys returns the expected keys sorted by title and entity, for stable
// reports.
func (e Expected) Keys() []detect.Key {
	return slices.SortedFunc(maps.Keys(e), func(a, b detect.Key) int {
		if c := strings.Compare(a.Title, b.Title); c != 0 {
			return c
		}
		return strings.Compare(a.Entity, b.Entity)
	})
}

// Graph builds the organization's identity graph.
func (o *Org) Graph() (*graph.Graph, error) {
	return graph.Build(o.Sources, graph.Options{Primary: o.Primary})
}

// Snapshot returns the organization as a snapshot, sharing its accounts.
func (o *Org) Snapshot() *graph.Snapshot {
	return &graph.Snapshot{
		Format:        graph.SnapshotFormat,
		GeneratedAt:   o.GeneratedAt,
		PrimarySource: o.Primary,
		Sources:       o.Sources,
	}
}

// Snapshot generates an organization of n people and returns it as a
// snapshot: the demo's "a few hundred people across the five products,
// every title present" is Snapshot(300, 1, time.Now()).
func Snapshot(n int, seed int64, now time.Time) *graph.Snapshot {
	o, _ := Generate(n, seed, now)
	return o.Snapshot()
}

// WriteSnapshot generates an organization and writes it to w as a
// snapshot file.
func WriteSnapshot(w io.Writer, n int, seed int64, now time.Time) error {
	return graph.WriteSnapshot(w, Snapshot(n, seed, now))
}

// WriteSnapshotFile generates an organization and writes it as a snapshot
// file at path, making path's directory when it is missing.
func WriteSnapshotFile(path string, n int, seed int64, now time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.Create(path) //nolint:gosec // G304: the path is the caller's (a test's or the bench's temporary file)
	if err != nil {
		return err
	}
	if err := WriteSnapshot(f, n, seed, now); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Domain is the email domain of a generated organization's people.
const Domain = "example.com"

// The names of a generated organization's sources; SourceOkta is the
// primary one.
const (
	SourceOkta   = "okta"
	SourceEntra  = "entra"
	SourceGoogle = "google"
	SourceSF     = "salesforce"
	SourceAWS    = "aws"
)

const (
	tenantOkta     = "acme.okta.com"
	tenantEntra    = "acme.onmicrosoft.com"
	tenantGoogle   = Domain
	tenantSF       = "acme.my.salesforce.com"
	tenantAWS      = "123456789012"
	awsARN         = "arn:aws:iam::" + tenantAWS + ":"
	okta           = graph.ProductOkta
	aad            = graph.ProductAAD
	google         = graph.ProductGoogle
	salesforce     = graph.ProductSalesforce
	aws            = graph.ProductAWS
	recentDays     = 30  // clean logins are at most this old
	freshPassDays  = 150 // clean passwords are at most this old (< admin limit)
	freshTokenDays = 60  // clean tokens and keys are at most this old
)

// Generate makes an organization of at least n people (a very small n is
// raised to what planting every title needs) from seed, dated now, and the
// findings a scan at now must report. Every title of detect.Catalog is
// planted at least once, more as n grows.
func Generate(n int, seed int64, now time.Time) (*Org, Expected) {
	n = max(n, 0)
	now = now.UTC().Truncate(time.Second)
	g := &gen{
		rng: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)), //nolint:gosec // G404: seeded on purpose, so that a seed gives the same organization
		now: now,
		exp: Expected{},
		src: map[graph.Product]*graph.Source{},
	}
	for _, s := range []graph.Source{
		{Name: SourceOkta, Product: okta, Tenant: tenantOkta},
		{Name: SourceEntra, Product: aad, Tenant: tenantEntra},
		{Name: SourceGoogle, Product: google, Tenant: tenantGoogle},
		{Name: SourceSF, Product: salesforce, Tenant: tenantSF},
		{Name: SourceAWS, Product: aws, Tenant: tenantAWS},
	} {
		s.Accounts = make([]*graph.Account, 0, n)
		g.sources = append(g.sources, s)
	}
	for i := range g.sources {
		g.src[g.sources[i].Product] = &g.sources[i]
	}
	g.baseline(n)
	g.plantAll(1 + n/500)
	g.expectTenants()
	return &Org{Domain: Domain, Primary: SourceOkta, Sources: g.sources, GeneratedAt: now}, g.exp
}

type gen struct {
	rng     *rand.Rand
	now     time.Time
	sources []graph.Source
	src     map[graph.Product]*graph.Source
	exp     Expected
	people  []*person
	cursor  int // people before it are taken by a plant or unusable
	seq     int // account id counter
	root    *graph.Account
}

type person struct {
	email, local, name string
	accts              map[graph.Product]*graph.Account
	usable             bool // active in Okta and not yet planted on
}

var firstNames = []string{"ali", "bo", "carmen", "dev", "elif", "femi", "grace", "hiro", "ines", "jonas", "kemal", "lena", "mateo", "nia", "omar", "priya", "quinn", "rosa", "sven", "tariq", "uma", "vera", "wei", "ximena", "yusuf", "zoe"}
var lastNames = []string{"lesch", "berg", "okafor", "sato", "nowak", "silva", "khan", "moreau", "rossi", "jensen", "garcia", "novak", "ivanova", "mensah", "tanaka", "costa", "schmidt", "haddad", "larsen", "dubois"}

func (g *gen) days(d int) time.Time { return g.now.Add(-time.Duration(d) * 24 * time.Hour) }

// within returns a time between lo and hi days ago (hi exclusive), at a
// random hour, so no value sits on a threshold.
func (g *gen) within(lo, hi int) *time.Time {
	t := g.days(lo + g.rng.IntN(hi-lo)).Add(-time.Duration(g.rng.IntN(20*60)) * time.Minute)
	return &t
}

func boolp(b bool) *bool { return &b }

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (g *gen) newPerson() *person {
	i := len(g.people)
	first := firstNames[g.rng.IntN(len(firstNames))]
	last := lastNames[g.rng.IntN(len(lastNames))]
	local := fmt.Sprintf("%s.%s.%d", first, last, i)
	p := &person{email: local + "@" + Domain, local: local, name: title(first) + " " + title(last), accts: map[graph.Product]*graph.Account{}}
	g.people = append(g.people, p)
	return p
}

// id returns a source-shaped id for a new account.
func (g *gen) id(p graph.Product, name string) string {
	g.seq++
	switch p {
	case okta:
		return fmt.Sprintf("00u%017d", g.seq)
	case aad:
		return fmt.Sprintf("%08x-0000-4000-8000-%012x", g.seq, g.seq)
	case google:
		return fmt.Sprintf("1%020d", g.seq)
	case salesforce:
		return fmt.Sprintf("005%015d", g.seq)
	}
	return awsARN + "user/" + name
}

func (g *gen) add(p graph.Product, a *graph.Account) *graph.Account {
	s := g.src[p]
	s.Accounts = append(s.Accounts, a)
	return a
}

// account makes a clean, active account of person x in product p: strong
// MFA where the source reports it, recent login, fresh password.
func (g *gen) account(p graph.Product, x *person) *graph.Account {
	a := &graph.Account{
		IDInService: g.id(p, x.local),
		Login:       x.email,
		Email:       x.email,
		DisplayName: x.name,
		Status:      graph.StatusActive,
		Created:     *g.within(200, 1500),
		LastLogin:   g.within(0, recentDays),
	}
	strong := [][]string{{graph.FactorPush}, {graph.FactorWebAuthn}, {graph.FactorTOTP, graph.FactorSMS}, {graph.FactorPush, graph.FactorWebAuthn}}
	switch p {
	case okta:
		a.MFA = graph.MFA{State: graph.MFAEnrolled, Factors: strong[g.rng.IntN(len(strong))], Enforced: boolp(true)}
		a.PasswordChanged = g.within(1, freshPassDays)
	case aad:
		a.MFA = graph.MFA{State: graph.MFAEnrolled, Factors: strong[g.rng.IntN(len(strong))]}
		a.PasswordChanged = g.within(1, freshPassDays)
	case google:
		// Google reports enrollment and enforcement of 2-Step Verification,
		// not factor types. Addresses come in every spelling.
		a.MFA = graph.MFA{State: graph.MFAEnrolled, Enforced: boolp(true)}
		switch r := g.rng.IntN(20); {
		case r < 2:
			a.Email = "  " + strings.ToUpper(x.email[:1]) + x.email[1:len(x.email)-len(Domain)] + strings.ToUpper(Domain)
		case r < 3:
			a.Email = x.local + "+gw@" + Domain
		}
		a.Login = a.Email
	case salesforce:
		// Salesforce does not report MFA; some users have no email.
		if g.rng.IntN(10) == 0 {
			a.Email = ""
		}
		a.PasswordChanged = g.within(1, freshPassDays)
	case aws:
		// An IAM user with a console password, named by the local part.
		a.IDInService = awsARN + "user/" + x.local
		a.Login, a.Email = x.local, ""
		a.MFA = graph.MFA{State: graph.MFAEnrolled, Factors: []string{graph.FactorTOTP}}
		a.PasswordChanged = g.within(1, freshPassDays)
		if g.rng.IntN(3) == 0 {
			a.Credentials = append(a.Credentials, g.freshKey())
		}
	}
	x.accts[p] = a
	return g.add(p, a)
}

func (g *gen) freshKey() graph.Credential {
	g.seq++
	return graph.Credential{ID: fmt.Sprintf("AKIA%016d", g.seq), Kind: graph.CredentialAccessKey, Active: true,
		Created: *g.within(1, freshTokenDays), LastUsed: g.within(0, 3)}
}

func (g *gen) freshToken(kind graph.CredentialKind, name string) graph.Credential {
	g.seq++
	return graph.Credential{ID: fmt.Sprintf("%s%012d", kind[:3], g.seq), Name: name, Kind: kind, Active: true,
		Created: *g.within(1, freshTokenDays), LastUsed: g.within(0, 3)}
}

// service makes a clean, active service account in product p: used
// recently, with a fresh credential where the product uses one.
func (g *gen) service(p graph.Product) *graph.Account {
	g.seq++
	name := fmt.Sprintf("svc-%s-%d", strings.ToLower(strings.Fields(string(p))[0]), g.seq)
	a := &graph.Account{
		IDInService: g.id(p, name),
		Login:       name,
		DisplayName: name,
		Status:      graph.StatusActive,
		Kind:        graph.KindService,
		Created:     *g.within(200, 1500),
		LastLogin:   g.within(0, recentDays),
	}
	switch p {
	case okta:
		a.Login = name + "@" + Domain
		a.KindReasons = []string{"Okta user type Service"}
	case aad:
		a.LastLogin = g.within(0, 10)
		a.KindReasons = []string{"Entra service principal"}
		a.Credentials = []graph.Credential{g.freshToken(graph.CredentialClientSecret, name+" secret")}
	case salesforce:
		a.Login = name + "@acme.integration"
		a.KindReasons = []string{"Salesforce UserType AutomatedProcess"}
		a.PasswordChanged = g.within(1, freshPassDays)
	case aws:
		a.LastLogin = nil
		a.MFA.State = graph.MFANone
		a.KindReasons = []string{"IAM user without a console password"}
		a.Credentials = []graph.Credential{g.freshKey()}
	}
	return g.add(p, a)
}

// baseline makes n people and the service accounts, all clean apart from
// the harmless irregularities a scan must cope with: offboarded people
// with nothing active elsewhere, duplicate primary accounts, address
// spellings, users without email.
func (g *gen) baseline(n int) {
	for range n {
		x := g.newPerson()
		o := g.account(okta, x)
		switch r := g.rng.IntN(100); {
		case r < 3:
			o.Status = graph.StatusDeprovisioned
			if g.rng.IntN(2) == 0 {
				g.account(google, x).Status = graph.StatusSuspended
			}
			continue
		case r < 4:
			o.Status = graph.StatusSuspended
			if g.rng.IntN(2) == 0 {
				g.account(aad, x).Status = graph.StatusSuspended
			}
			continue
		case r < 5:
			o.Status = graph.StatusStaged
			o.LastLogin = nil
			continue
		case r < 6:
			// A leftover duplicate in the primary source, same address.
			d := g.account(okta, x)
			d.Status = graph.StatusDeprovisioned
			x.accts[okta] = o
		}
		x.usable = true
		for _, pc := range []struct {
			p   graph.Product
			pct int
		}{{aad, 80}, {google, 70}, {salesforce, 25}, {aws, 10}} {
			if g.rng.IntN(100) < pc.pct {
				g.account(pc.p, x)
			}
		}
	}
	services := max(2, n/100)
	for _, p := range []graph.Product{okta, aad, salesforce, aws} {
		for range services {
			a := g.service(p)
			if p == okta {
				a.Credentials = []graph.Credential{g.freshToken(graph.CredentialAPIToken, "integration")}
			}
		}
	}
	g.root = g.add(aws, &graph.Account{
		IDInService: awsARN + "root", Login: "<root_account>", DisplayName: "AWS account root user",
		Status: graph.StatusActive, Root: true, Created: g.days(2000), LastLogin: g.within(100, 400),
		MFA: graph.MFA{State: graph.MFAEnrolled, Factors: []string{graph.FactorWebAuthn}},
	})
}

// take returns a clean account in product p of a person no plant has used,
// creating the account, or the person, when needed.
func (g *gen) take(p graph.Product) (*graph.Account, *person) {
	for g.cursor < len(g.people) && !g.people[g.cursor].usable {
		g.cursor++
	}
	var x *person
	if g.cursor < len(g.people) {
		x = g.people[g.cursor]
	} else {
		x = g.newPerson()
		g.account(okta, x)
	}
	x.usable = false
	g.cursor++
	a := x.accts[p]
	if a == nil {
		a = g.account(p, x)
	}
	return a, x
}

func (g *gen) expect(title string, a *graph.Account, p graph.Product) {
	g.exp[detect.Key{Title: title, Entity: detect.AccountKey(p, g.src[p].Tenant, a.IDInService)}] = struct{}{}
}

// privilege gives a the level lvl with a reason in the product's words.
func privilege(a *graph.Account, p graph.Product, lvl graph.Privilege) {
	a.Privilege = lvl
	reasons := map[graph.Product][2]string{
		okta:       {"HELP_DESK_ADMIN role", "SUPER_ADMIN role"},
		aad:        {"User Administrator role", "Global Administrator role"},
		google:     {"Delegated admin", "Super admin"},
		salesforce: {"ModifyAllData permission (System Administrator profile)", "ModifyAllData permission (System Administrator profile)"},
		aws:        {"IAMFullAccess policy attached", "AdministratorAccess policy attached"},
	}[p]
	switch lvl {
	case graph.PrivilegeAdmin:
		a.PrivilegeReasons = []string{reasons[0]}
	case graph.PrivilegeGlobalAdmin:
		a.PrivilegeReasons = []string{reasons[1]}
	}
}

// plant describes how to raise one title on a product.
type plant struct {
	title    string
	products []graph.Product
	// apply plants the i-th issue on product p and records what a scan
	// must find.
	apply func(g *gen, p graph.Product, i int)
}

func (g *gen) plantAll(copies int) {
	for _, pl := range plants() {
		times := copies
		if pl.products[0] == aws && (pl.title == detect.TitleRootWithoutMFA || pl.title == detect.TitleRootAccessKeyPresent) {
			times = 1 // an AWS account has one root user
		}
		for i := range times {
			pl.apply(g, pl.products[i%len(pl.products)], i)
		}
	}
	g.pad(aad, graph.PrivilegeGlobalAdmin, detect.DefaultMaxGlobalAdmins+1)
	g.pad(salesforce, graph.PrivilegeAdmin, detect.DefaultMaxAdmins+1)
}

// pad adds clean admins at level lvl to product p until its tenant has at
// least want of them, so that the "Excessive" titles are present at any n.
func (g *gen) pad(p graph.Product, lvl graph.Privilege, want int) {
	have := 0
	for _, a := range g.src[p].Accounts {
		if a.Active() && !a.Root && (a.Privilege == lvl || lvl == graph.PrivilegeAdmin && a.Privilege == graph.PrivilegeGlobalAdmin) {
			have++
		}
	}
	for ; have < want; have++ {
		a, _ := g.take(p)
		privilege(a, p, lvl)
	}
}

// expectTenants records the "Excessive" findings of every tenant from the
// admins the generator made.
func (g *gen) expectTenants() {
	for _, s := range g.sources {
		var admins, globals int
		for _, a := range s.Accounts {
			if !a.Active() || a.Root {
				continue
			}
			switch a.Privilege {
			case graph.PrivilegeGlobalAdmin:
				globals++
				admins++
			case graph.PrivilegeAdmin:
				admins++
			}
		}
		key := detect.TenantKey(s.Product, s.Tenant)
		if globals > detect.DefaultMaxGlobalAdmins {
			g.exp[detect.Key{Title: detect.TitleExcessiveGlobalAdmins, Entity: key}] = struct{}{}
		}
		if admins > detect.DefaultMaxAdmins {
			g.exp[detect.Key{Title: detect.TitleExcessiveAdmins, Entity: key}] = struct{}{}
		}
	}
}
