package detect

import (
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// stale reports whether an account last used at last (nil: never) and
// created at created has been idle for more than days. A never-used
// account is stale once it is older than days; with no creation date it is
// not judged.
func stale(last *time.Time, created, now time.Time, days int) bool {
	if last != nil {
		return olderThan(*last, now, days)
	}
	return olderThan(created, now, days)
}

// unused raises the "Unused …" titles. Humans are judged by their last
// interactive login; service accounts by their last login or credential
// use, whichever is later. Admin service accounts take "Unused Service
// Account", as the catalog has no admin service tier for this family.
func unused(a *graph.Account, c Config, now time.Time) (hit, bool) {
	if !a.Active() || a.Root {
		return hit{}, false
	}
	if a.Service() {
		if !stale(a.LastUse(), a.Created, now, c.UnusedServiceDays) {
			return hit{}, false
		}
		title := TitleUnusedService
		if a.GlobalAdmin() {
			title = TitleUnusedGlobalAdminService
		}
		return hit{title: title, short: fmt.Sprintf("%s unused for %d days", who(a), c.UnusedServiceDays+1)}, true
	}
	if !stale(a.LastLogin, a.Created, now, c.UnusedDays) {
		return hit{}, false
	}
	return hit{
		title: tier(a, TitleUnusedAccount, TitleUnusedAdmin, TitleUnusedGlobalAdmin),
		short: fmt.Sprintf("%s unused for %d days", who(a), c.UnusedDays+1),
	}, true
}

// excessiveGlobalAdmins raises "Excessive Global Admins" on a tenant with
// more active global admins than allowed (the AWS root user not counted).
func excessiveGlobalAdmins(t *graph.Tenant, c Config) (hit, bool) {
	n := t.Counts.GlobalAdmins
	if n <= c.MaxGlobalAdmins {
		return hit{}, false
	}
	return hit{title: TitleExcessiveGlobalAdmins, short: fmt.Sprintf("%d global admins, more than %d", n, c.MaxGlobalAdmins)}, true
}

// excessiveAdmins raises "Excessive Admins" on a tenant with more active
// admins, global admins included, than allowed.
func excessiveAdmins(t *graph.Tenant, c Config) (hit, bool) {
	n := t.Counts.Admins
	if n <= c.MaxAdmins {
		return hit{}, false
	}
	return hit{title: TitleExcessiveAdmins, short: fmt.Sprintf("%d admins, more than %d", n, c.MaxAdmins)}, true
}

// activeCreds returns a's active credentials of the given kinds that keep
// returns true for.
func activeCreds(a *graph.Account, keep func(*graph.Credential) bool, kinds ...graph.CredentialKind) []graph.Credential {
	var out []graph.Credential
	for i := range a.Credentials {
		cr := &a.Credentials[i]
		if !cr.Active {
			continue
		}
		for _, k := range kinds {
			if cr.Kind == k && (keep == nil || keep(cr)) {
				out = append(out, *cr)
				break
			}
		}
	}
	return out
}

// highlyPrivilegedToken raises "Highly Privileged API Token" on an active
// global admin that owns an active API token (an Okta API token acts with
// its owner's permissions).
func highlyPrivilegedToken(a *graph.Account, _ Config, _ time.Time) (hit, bool) {
	if !a.Active() || !a.GlobalAdmin() || a.Root {
		return hit{}, false
	}
	creds := activeCreds(a, nil, graph.CredentialAPIToken)
	if len(creds) == 0 {
		return hit{}, false
	}
	return hit{title: TitleHighlyPrivilegedAPIToken, short: fmt.Sprintf("%s owns %s", who(a), count(len(creds), "active API token")), creds: creds}, true
}

// rootAccessKey raises "Root Access Key Present" when the AWS root user
// has an active access key.
func rootAccessKey(a *graph.Account, _ Config, _ time.Time) (hit, bool) {
	if !a.Active() || !a.Root {
		return hit{}, false
	}
	creds := activeCreds(a, nil, graph.CredentialAccessKey)
	if len(creds) == 0 {
		return hit{}, false
	}
	return hit{title: TitleRootAccessKeyPresent, short: fmt.Sprintf("AWS root user has %s", count(len(creds), "active access key")), creds: creds}, true
}

// count formats "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
