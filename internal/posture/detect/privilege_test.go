package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

func TestUnused(t *testing.T) {
	t.Parallel()
	login := func(at *time.Time) func(*graph.Account) { return func(a *graph.Account) { a.LastLogin = at } }
	created := func(at *time.Time) func(*graph.Account) {
		return func(a *graph.Account) {
			a.Created = time.Time{}
			if at != nil {
				a.Created = *at
			}
		}
	}
	checkOneTitle(t, unused, []oneTitleCase{
		{"recent", with(), Config{}, ""},
		{"exactly 90 days", with(login(daysAgo(90))), Config{}, ""},
		{"90 days and a second", with(login(justOver(90))), Config{}, TitleUnusedAccount},
		{"91 days", with(login(daysAgo(91))), Config{}, TitleUnusedAccount},
		{"admin 91 days", with(admin, login(daysAgo(91))), Config{}, TitleUnusedAdmin},
		{"global admin 91 days", with(global, login(daysAgo(91))), Config{}, TitleUnusedGlobalAdmin},
		{"custom threshold", with(login(daysAgo(31))), Config{UnusedDays: 30}, TitleUnusedAccount},
		{"custom threshold boundary", with(login(daysAgo(30))), Config{UnusedDays: 30}, ""},
		{"never, created 90 days ago", with(login(nil), created(daysAgo(90))), Config{}, ""},
		{"never, created 91 days ago", with(login(nil), created(daysAgo(91))), Config{}, TitleUnusedAccount},
		{"never, creation unknown", with(login(nil), created(nil)), Config{}, ""},
		{"suspended", with(status(graph.StatusSuspended), login(daysAgo(400))), Config{}, ""},
		{"root is never unused", with(root, login(nil)), Config{}, ""},
		{"service by login", with(service, login(daysAgo(91))), Config{}, TitleUnusedService},
		{"admin service", with(service, admin, login(daysAgo(91))), Config{}, TitleUnusedService},
		{"global admin service", with(service, global, login(daysAgo(91))), Config{}, TitleUnusedGlobalAdminService},
		{"service used through a token", with(service, login(daysAgo(200)), cred(graph.Credential{ID: "t", Kind: graph.CredentialAPIToken, Active: true, LastUsed: daysAgo(2)})), Config{}, ""},
		{"service token revoked", with(service, login(daysAgo(200)), cred(graph.Credential{ID: "t", Kind: graph.CredentialAPIToken, LastUsed: daysAgo(2)})), Config{}, TitleUnusedService},
		{"service never, created 91 days ago", with(service, login(nil), created(daysAgo(91))), Config{}, TitleUnusedService},
		{"service custom threshold", with(service, login(daysAgo(40))), Config{UnusedServiceDays: 30}, TitleUnusedService},
		{"human threshold does not apply to services", with(service, login(daysAgo(40))), Config{UnusedDays: 30}, ""},
	})
}

func TestExcessiveAdmins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		admins, globs int // admins without global, global admins
		rootAlso      bool
		c             Config
		want          []string
	}{
		{"five global admins", 0, 5, false, Config{}, nil},
		{"six global admins", 0, 6, false, Config{}, []string{TitleExcessiveGlobalAdmins}},
		{"root does not count", 0, 5, true, Config{}, nil},
		{"twenty-five admins", 20, 5, false, Config{}, nil},
		{"twenty-six admins", 21, 5, false, Config{}, []string{TitleExcessiveAdmins}},
		{"both", 30, 6, false, Config{}, []string{TitleExcessiveAdmins, TitleExcessiveGlobalAdmins}},
		{"custom limits", 2, 2, false, Config{MaxGlobalAdmins: 1, MaxAdmins: 3}, []string{TitleExcessiveAdmins, TitleExcessiveGlobalAdmins}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var accounts []*graph.Account
			add := func(p graph.Privilege, st graph.Status) {
				accounts = append(accounts, &graph.Account{IDInService: string(rune('a' + len(accounts))), Status: st, Privilege: p})
			}
			for range tt.admins {
				add(graph.PrivilegeAdmin, graph.StatusActive)
			}
			for range tt.globs {
				add(graph.PrivilegeGlobalAdmin, graph.StatusActive)
			}
			add(graph.PrivilegeGlobalAdmin, graph.StatusSuspended) // inactive admins never count
			if tt.rootAlso {
				accounts = append(accounts, &graph.Account{IDInService: "root", Status: graph.StatusActive, Root: true})
			}
			g := build(t, graph.ProductAWS, accounts...)
			var got []string
			for _, r := range []func(*graph.Tenant, Config) (hit, bool){excessiveGlobalAdmins, excessiveAdmins} {
				if h, ok := r(g.Tenants[0], tt.c.WithDefaults()); ok {
					got = append(got, h.title)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("titles = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrivilegedCredentials(t *testing.T) {
	t.Parallel()
	token := graph.Credential{ID: "tok", Kind: graph.CredentialAPIToken, Active: true, Created: *daysAgo(10)}
	revoked := graph.Credential{ID: "old", Kind: graph.CredentialAPIToken, Created: *daysAgo(10)}
	secret := graph.Credential{ID: "sec", Kind: graph.CredentialClientSecret, Active: true, Created: *daysAgo(10)}
	key := graph.Credential{ID: "AKIA1", Kind: graph.CredentialAccessKey, Active: true, Created: *daysAgo(10), LastUsed: daysAgo(1)}
	inactiveKey := graph.Credential{ID: "AKIA2", Kind: graph.CredentialAccessKey, Created: *daysAgo(10)}
	tests := []struct {
		name string
		a    *graph.Account
		want []string
	}{
		{"super admin token", with(global, cred(token)), []string{TitleHighlyPrivilegedAPIToken}},
		{"global admin service token", with(service, global, cred(token)), []string{TitleHighlyPrivilegedAPIToken}},
		{"admin token", with(admin, cred(token)), nil},
		{"revoked token", with(global, cred(revoked)), nil},
		{"client secret is not an API token", with(global, cred(secret)), nil},
		{"suspended super admin", with(global, status(graph.StatusSuspended), cred(token)), nil},
		{"root key", with(root, cred(key)), []string{TitleRootAccessKeyPresent}},
		{"root inactive key", with(root, cred(inactiveKey)), nil},
		{"user key is not root", with(global, cred(key)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := titles(t, tt.a, Config{}, highlyPrivilegedToken, rootAccessKey)
			if !slices.Equal(got, tt.want) {
				t.Errorf("titles = %q, want %q", got, tt.want)
			}
		})
	}
}
