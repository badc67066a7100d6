package detect

import (
	"slices"
	"testing"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

func TestLifecycle(t *testing.T) {
	t.Parallel()
	user := func(id, email string, st graph.Status, fs ...func(*graph.Account)) *graph.Account {
		a := &graph.Account{IDInService: id, Email: email, Login: email, Status: st}
		for _, f := range fs {
			f(a)
		}
		return a
	}
	type src = graph.Source
	okta := func(accs ...*graph.Account) src {
		return src{Name: "okta", Product: graph.ProductOkta, Tenant: "acme.okta.com", Accounts: accs}
	}
	other := func(name string, p graph.Product, accs ...*graph.Account) src {
		return src{Name: name, Product: p, Tenant: name + ".example", Accounts: accs}
	}
	tests := []struct {
		name    string
		sources []src
		opts    graph.Options
		want    []string // "title entity-id"
	}{
		{"deprovisioned with active account elsewhere",
			[]src{okta(user("o1", "a@x.io", graph.StatusDeprovisioned)), other("gw", graph.ProductGoogle, user("g1", "A@x.io", graph.StatusActive))},
			graph.Options{}, []string{TitlePartiallyOffboardedUser + " o1"}},
		{"suspended with active service account elsewhere",
			[]src{okta(user("o1", "a@x.io", graph.StatusSuspended)), other("sf", graph.ProductSalesforce, user("s1", "a@x.io", graph.StatusActive, service))},
			graph.Options{}, []string{TitlePartiallyOffboardedUser + " o1"}},
		{"deprovisioned everywhere",
			[]src{okta(user("o1", "a@x.io", graph.StatusDeprovisioned)), other("gw", graph.ProductGoogle, user("g1", "a@x.io", graph.StatusSuspended))},
			graph.Options{}, nil},
		{"staged in the IdP is not offboarded",
			[]src{okta(user("o1", "a@x.io", graph.StatusStaged)), other("gw", graph.ProductGoogle, user("g1", "a@x.io", graph.StatusActive))},
			graph.Options{}, nil},
		{"an active duplicate keeps the person",
			[]src{okta(user("o1", "a@x.io", graph.StatusDeprovisioned), user("o2", "a@x.io", graph.StatusActive)), other("gw", graph.ProductGoogle, user("g1", "a@x.io", graph.StatusActive))},
			graph.Options{}, nil},
		{"stranger is orphaned",
			[]src{okta(user("o1", "a@x.io", graph.StatusActive)), other("gw", graph.ProductGoogle, user("g1", "b@x.io", graph.StatusActive))},
			graph.Options{}, []string{TitleOrphanedAccount + " g1"}},
		{"account with no address is orphaned",
			[]src{okta(user("o1", "a@x.io", graph.StatusActive)), other("gw", graph.ProductAAD, user("e1", "", graph.StatusActive))},
			graph.Options{}, []string{TitleOrphanedAccount + " e1"}},
		{"inactive stranger, service account and root are not orphaned",
			[]src{okta(user("o1", "a@x.io", graph.StatusActive)), other("aws", graph.ProductAWS,
				user("u1", "b@x.io", graph.StatusSuspended), user("u2", "svc-ci", graph.StatusActive, service), user("root", "", graph.StatusActive, root))},
			graph.Options{}, nil},
		{"second Okta tenant is not primary",
			[]src{okta(user("o1", "a@x.io", graph.StatusActive)), other("okta2", graph.ProductOkta, user("p1", "b@x.io", graph.StatusActive))},
			graph.Options{}, []string{TitleOrphanedAccount + " p1"}},
		{"no primary raises nothing",
			[]src{okta(user("o1", "a@x.io", graph.StatusDeprovisioned)), other("gw", graph.ProductGoogle, user("g1", "a@x.io", graph.StatusActive), user("g2", "b@x.io", graph.StatusActive))},
			graph.Options{Primary: "failed-okta"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := graph.Build(tt.sources, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range g.Accounts {
				if h, ok := orphaned(g, a); ok {
					got = append(got, h.title+" "+a.IDInService)
				}
			}
			for _, p := range g.People {
				if h, ok := partiallyOffboarded(g, p); ok {
					got = append(got, h.title+" "+p.Primary[0].IDInService)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
