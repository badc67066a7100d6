package synth

import (
	"fmt"
	"strings"

	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

const (
	none   = graph.PrivilegeNone
	admin  = graph.PrivilegeAdmin
	global = graph.PrivilegeGlobalAdmin
)

// onHuman plants title by changing a clean account of an unused person:
// it sets the privilege level, then applies change.
func onHuman(title string, lvl graph.Privilege, change func(g *gen, a *graph.Account, i int)) func(*gen, graph.Product, int) {
	return func(g *gen, p graph.Product, i int) {
		a, _ := g.take(p)
		privilege(a, p, lvl)
		change(g, a, i)
		g.expect(title, a, p)
	}
}

// onService plants title on a new service account of the given level.
func onService(title string, lvl graph.Privilege, change func(g *gen, a *graph.Account, i int)) func(*gen, graph.Product, int) {
	return func(g *gen, p graph.Product, i int) {
		a := g.service(p)
		privilege(a, p, lvl)
		change(g, a, i)
		g.expect(title, a, p)
	}
}

func noFactor(_ *gen, a *graph.Account, _ int) { a.MFA.State, a.MFA.Factors = graph.MFANone, nil }
func pending(_ *gen, a *graph.Account, _ int)  { a.MFA.State, a.MFA.Factors = graph.MFAPending, nil }

// idle makes a human account unused: last login long ago, or (every third)
// never, created long ago.
func idle(g *gen, a *graph.Account, i int) {
	if i%3 == 2 {
		a.LastLogin = nil
		a.Created = *g.within(100, 400)
		return
	}
	a.LastLogin = g.within(100, 400)
}

// idleService makes a service account unused through every way it could
// have been used: login and credentials.
func idleService(g *gen, a *graph.Account, _ int) {
	a.LastLogin = g.within(100, 400)
	for j := range a.Credentials {
		c := &a.Credentials[j]
		switch c.Kind {
		case graph.CredentialClientSecret:
			c.LastUsed = nil // fresh, never used
		case graph.CredentialAccessKey:
			c.Active = false // a deactivated key used long ago
			c.LastUsed = g.within(100, 400)
			a.LastLogin = nil
		}
	}
}

func oldPassword(days int) func(*gen, *graph.Account, int) {
	return func(g *gen, a *graph.Account, _ int) { a.PasswordChanged = g.within(days, days+300) }
}

// plants lists how every title of the catalog is planted, on which
// products, in catalog order. The "Excessive" titles come from pad and
// expectTenants.
func plants() []plant {
	return []plant{
		{detect.TitleNoMFAAccount, []graph.Product{okta, aad, google, aws}, onHuman(detect.TitleNoMFAAccount, none, noFactor)},
		{detect.TitleNoMFAAdmin, []graph.Product{okta, aad, google}, onHuman(detect.TitleNoMFAAdmin, admin, noFactor)},
		{detect.TitleNoMFAGlobalAdmin, []graph.Product{okta, aad, google, aws}, onHuman(detect.TitleNoMFAGlobalAdmin, global, noFactor)},
		{detect.TitlePendingMFAAccount, []graph.Product{okta, aad}, onHuman(detect.TitlePendingMFAAccount, none, pending)},
		{detect.TitlePendingMFAAdmin, []graph.Product{okta, aad}, onHuman(detect.TitlePendingMFAAdmin, admin, pending)},
		{detect.TitlePendingMFAGlobalAdmin, []graph.Product{okta, aad}, onHuman(detect.TitlePendingMFAGlobalAdmin, global, pending)},
		{detect.TitleNoMFAEnforcedGlobalAdmin, []graph.Product{okta, google}, onHuman(detect.TitleNoMFAEnforcedGlobalAdmin, global,
			func(_ *gen, a *graph.Account, _ int) { a.MFA.Enforced = boolp(false) })},
		{detect.TitleWeakMFAAdmin, []graph.Product{okta, aad}, func(g *gen, p graph.Product, i int) {
			lvl := []graph.Privilege{admin, global}[i%2]
			onHuman(detect.TitleWeakMFAAdmin, lvl, func(_ *gen, a *graph.Account, i int) {
				a.MFA.Factors = [][]string{{graph.FactorSMS}, {graph.FactorSMS, graph.FactorVoice}, {graph.FactorEmail}}[i%3]
			})(g, p, i)
		}},
		{detect.TitleRootWithoutMFA, []graph.Product{aws}, func(g *gen, _ graph.Product, _ int) {
			g.root.MFA = graph.MFA{State: graph.MFANone}
			g.expect(detect.TitleRootWithoutMFA, g.root, aws)
		}},

		{detect.TitleUnusedAccount, []graph.Product{okta, aad, google, salesforce, aws}, onHuman(detect.TitleUnusedAccount, none, idle)},
		{detect.TitleUnusedAdmin, []graph.Product{okta, aad, google, salesforce}, onHuman(detect.TitleUnusedAdmin, admin, idle)},
		{detect.TitleUnusedGlobalAdmin, []graph.Product{okta, aad, google, aws}, onHuman(detect.TitleUnusedGlobalAdmin, global, idle)},
		{detect.TitleUnusedService, []graph.Product{okta, aad, salesforce, aws}, func(g *gen, p graph.Product, i int) {
			lvl := none
			if i%2 == 1 && p != aws {
				lvl = admin // an admin service account has no tier of its own here
			}
			onService(detect.TitleUnusedService, lvl, idleService)(g, p, i)
		}},
		{detect.TitleUnusedGlobalAdminService, []graph.Product{aad, aws}, onService(detect.TitleUnusedGlobalAdminService, global, idleService)},
		{detect.TitleHighlyPrivilegedAPIToken, []graph.Product{okta}, func(g *gen, p graph.Product, i int) {
			give := func(g *gen, a *graph.Account, _ int) {
				a.Credentials = append(a.Credentials, g.freshToken(graph.CredentialAPIToken, "automation"))
			}
			if i%2 == 1 {
				onService(detect.TitleHighlyPrivilegedAPIToken, global, give)(g, p, i)
				return
			}
			onHuman(detect.TitleHighlyPrivilegedAPIToken, global, give)(g, p, i)
		}},
		{detect.TitleRootAccessKeyPresent, []graph.Product{aws}, func(g *gen, _ graph.Product, _ int) {
			g.root.Credentials = append(g.root.Credentials, g.freshKey())
			g.expect(detect.TitleRootAccessKeyPresent, g.root, aws)
		}},

		{detect.TitleOldPasswordAccount, []graph.Product{okta, aad, salesforce, aws}, onHuman(detect.TitleOldPasswordAccount, none, oldPassword(366))},
		{detect.TitleOldPasswordAdmin, []graph.Product{okta, aad, salesforce}, onHuman(detect.TitleOldPasswordAdmin, admin, oldPassword(181))},
		{detect.TitleOldPasswordGlobalAdmin, []graph.Product{okta, aad, aws}, onHuman(detect.TitleOldPasswordGlobalAdmin, global, oldPassword(181))},
		{detect.TitleOldPasswordService, []graph.Product{okta, salesforce}, onService(detect.TitleOldPasswordService, none, oldPassword(366))},
		{detect.TitleOldPasswordAdminService, []graph.Product{okta, salesforce}, onService(detect.TitleOldPasswordAdminService, admin, oldPassword(181))},
		{detect.TitleOldPasswordGlobalAdminService, []graph.Product{okta}, onService(detect.TitleOldPasswordGlobalAdminService, global, oldPassword(181))},
		{detect.TitleUnrotatedAPIToken, []graph.Product{okta, aad}, func(g *gen, p graph.Product, i int) {
			if p == aad {
				onService(detect.TitleUnrotatedAPIToken, none, func(g *gen, a *graph.Account, _ int) {
					a.Credentials[0].Created = *g.within(91, 700)
				})(g, p, i)
				return
			}
			// An Okta admin with an old token, and a fresh one not to list.
			onHuman(detect.TitleUnrotatedAPIToken, admin, func(g *gen, a *graph.Account, _ int) {
				old := g.freshToken(graph.CredentialAPIToken, "legacy sync")
				old.Created = *g.within(91, 700)
				a.Credentials = append(a.Credentials, old, g.freshToken(graph.CredentialAPIToken, "new sync"))
			})(g, p, i)
		}},
		{detect.TitleUnrotatedAccessKey, []graph.Product{aws}, func(g *gen, p graph.Product, i int) {
			age := func(g *gen, a *graph.Account, _ int) {
				k := g.freshKey()
				k.Created = *g.within(91, 700)
				a.Credentials = append(a.Credentials, k)
			}
			if i%2 == 1 {
				onService(detect.TitleUnrotatedAccessKey, none, age)(g, p, i)
				return
			}
			onHuman(detect.TitleUnrotatedAccessKey, none, age)(g, p, i)
		}},
		{detect.TitleUnusedAccessKey, []graph.Product{aws}, onHuman(detect.TitleUnusedAccessKey, none, func(g *gen, a *graph.Account, i int) {
			// An idle key is also an old one: AWS dates rotation by creation.
			k := g.freshKey()
			k.Created = *g.within(200, 700)
			k.LastUsed = g.within(91, 199)
			if i%2 == 1 {
				k.LastUsed = nil
			}
			a.Credentials = append(a.Credentials, k)
			g.expect(detect.TitleUnrotatedAccessKey, a, aws)
		})},

		{detect.TitlePartiallyOffboardedUser, []graph.Product{aad, google, salesforce, aws}, func(g *gen, p graph.Product, i int) {
			_, x := g.take(p)
			x.accts[okta].Status = []graph.Status{graph.StatusDeprovisioned, graph.StatusSuspended}[i%2]
			g.exp[detect.Key{Title: detect.TitlePartiallyOffboardedUser, Entity: detect.UserKey(okta, tenantOkta, graph.NormalizeEmail(x.email))}] = struct{}{}
		}},
		{detect.TitleOrphanedAccount, []graph.Product{aad, google, salesforce, aws}, func(g *gen, p graph.Product, i int) {
			x := &person{accts: map[graph.Product]*graph.Account{}}
			x.local = fmtOrphan(p, g.seq)
			x.email = x.local + "@partner.example"
			x.name = "Contractor " + x.local
			a := g.account(p, x)
			if p == aad && i%2 == 1 {
				a.Email = "" // a guest without mail, known only by its UPN
				a.Login = x.local + "_partner.example#EXT#@" + tenantEntra
			}
			g.expect(detect.TitleOrphanedAccount, a, p)
		}},
	}
}

// fmtOrphan names an account that belongs to nobody in the primary source.
func fmtOrphan(p graph.Product, seq int) string {
	return fmt.Sprintf("contractor-%s-%d", strings.ToLower(strings.Fields(string(p))[0]), seq)
}
