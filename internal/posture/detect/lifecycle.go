package detect

import (
	"fmt"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// partiallyOffboarded raises "Partially Offboarded User" on a person whom
// the primary identity provider has suspended or deprovisioned on every
// account, while an account in another source is still active.
func partiallyOffboarded(g *graph.Graph, p *graph.Person) (hit, bool) {
	if g.Primary == nil || !p.Offboarded() {
		return hit{}, false
	}
	others := p.OtherActive()
	if len(others) == 0 {
		return hit{}, false
	}
	return hit{
		title: TitlePartiallyOffboardedUser,
		short: fmt.Sprintf("%s in %s but still active in %s", capitalize(string(p.PrimaryStatus())), g.Primary.Product, count(len(others), "other account")),
	}, true
}

// orphaned raises "Orphaned Account" on an active human account outside
// the primary identity provider that matches none of its people. Service
// accounts and the AWS root user belong to no person by nature and have
// their own titles.
func orphaned(g *graph.Graph, a *graph.Account) (hit, bool) {
	if g.Primary == nil || a.Tenant == g.Primary || a.Person != nil || !a.Active() || a.Service() || a.Root {
		return hit{}, false
	}
	return hit{
		title: TitleOrphanedAccount,
		short: fmt.Sprintf("Active %s account matches no %s user", a.Tenant.Product, g.Primary.Product),
	}, true
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
