package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

var now = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// daysAgo returns a pointer to the instant d days before now.
func daysAgo(d int) *time.Time {
	t := now.Add(-time.Duration(d) * day)
	return &t
}

// justOver returns a pointer to the instant one second more than d days
// before now.
func justOver(d int) *time.Time {
	t := now.Add(-time.Duration(d)*day - time.Second)
	return &t
}

func boolp(b bool) *bool { return &b }

// build puts accounts into a one-source graph so that defaults and the
// tenant are filled as Build does for real scans.
func build(t *testing.T, product graph.Product, accounts ...*graph.Account) *graph.Graph {
	t.Helper()
	g, err := graph.Build([]graph.Source{{Name: "src", Product: product, Tenant: "tenant", Accounts: accounts}}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// titles runs rules over a and returns the titles raised, sorted.
func titles(t *testing.T, a *graph.Account, c Config, rules ...accountRule) []string {
	t.Helper()
	build(t, graph.ProductOkta, a)
	c = c.WithDefaults()
	var out []string
	for _, r := range rules {
		if h, ok := r(a, c, now); ok {
			if _, known := detectionsByTitle(Catalog())[h.title]; !known {
				t.Fatalf("rule raised unknown title %q", h.title)
			}
			out = append(out, h.title)
		}
	}
	slices.Sort(out)
	return out
}

// healthy returns an active human account that raises nothing.
func healthy() *graph.Account {
	return &graph.Account{
		IDInService: "00u1", Login: "ali@example.com", Email: "ali@example.com", DisplayName: "Ali Lesch",
		Status: graph.StatusActive, Created: now.AddDate(-2, 0, 0), LastLogin: daysAgo(3), PasswordChanged: daysAgo(30),
		MFA: graph.MFA{State: graph.MFAEnrolled, Factors: []string{graph.FactorPush}, Enforced: boolp(true)},
	}
}

// with returns healthy() changed by each of fs.
func with(fs ...func(*graph.Account)) *graph.Account {
	a := healthy()
	for _, f := range fs {
		f(a)
	}
	return a
}

func admin(a *graph.Account)   { a.Privilege = graph.PrivilegeAdmin }
func global(a *graph.Account)  { a.Privilege = graph.PrivilegeGlobalAdmin }
func service(a *graph.Account) { a.Kind = graph.KindService }
func root(a *graph.Account)    { a.Root = true }
func status(s graph.Status) func(*graph.Account) {
	return func(a *graph.Account) { a.Status = s }
}
func mfa(s graph.MFAState, factors ...string) func(*graph.Account) {
	return func(a *graph.Account) { a.MFA.State, a.MFA.Factors = s, factors }
}
func cred(c graph.Credential) func(*graph.Account) {
	return func(a *graph.Account) { a.Credentials = append(a.Credentials, c) }
}

// oneTitleCase is a table row for a rule that raises at most one title:
// the account, the configuration and the title wanted, "" for none.
type oneTitleCase struct {
	name string
	a    *graph.Account
	c    Config
	want string
}

// checkOneTitle runs rule over each case's account and compares the
// titles raised with the one wanted.
func checkOneTitle(t *testing.T, rule accountRule, tests []oneTitleCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := titles(t, tt.a, tt.c, rule)
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if !slices.Equal(got, want) {
				t.Errorf("titles = %q, want %q", got, want)
			}
		})
	}
}
