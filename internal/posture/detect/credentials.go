package detect

import (
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// oldPassword raises the "Old Password - …" titles for an active account
// whose password is older than its tier allows: the admin limit for admins
// and global admins, the regular limit for the others. Accounts without a
// known password change date raise nothing.
func oldPassword(a *graph.Account, c Config, now time.Time) (hit, bool) {
	if !a.Active() || a.Root || a.PasswordChanged == nil {
		return hit{}, false
	}
	limit := c.PasswordMaxAgeDays
	if a.Admin() {
		limit = c.AdminPasswordMaxAgeDays
	}
	if !olderThan(*a.PasswordChanged, now, limit) {
		return hit{}, false
	}
	title := tier(a, TitleOldPasswordAccount, TitleOldPasswordAdmin, TitleOldPasswordGlobalAdmin)
	if a.Service() {
		title = tier(a, TitleOldPasswordService, TitleOldPasswordAdminService, TitleOldPasswordGlobalAdminService)
	}
	return hit{title: title, short: fmt.Sprintf("%s password unchanged for %d days", who(a), limit+1)}, true
}

// unrotatedToken raises "Unrotated API Token" on an active account owning
// active API tokens or client secrets last set more than the limit ago.
func unrotatedToken(a *graph.Account, c Config, now time.Time) (hit, bool) {
	if !a.Active() {
		return hit{}, false
	}
	old := func(cr *graph.Credential) bool { return olderThan(cr.RotatedAt(), now, c.TokenMaxAgeDays) }
	creds := activeCreds(a, old, graph.CredentialAPIToken, graph.CredentialClientSecret)
	if len(creds) == 0 {
		return hit{}, false
	}
	return hit{
		title: TitleUnrotatedAPIToken,
		short: fmt.Sprintf("%s not rotated for %d days", count(len(creds), "API token or client secret"), c.TokenMaxAgeDays+1),
		creds: creds,
	}, true
}

// unrotatedAccessKey raises "Unrotated Access Key" on an active account,
// other than the AWS root user, owning active access keys last rotated
// more than the limit ago.
func unrotatedAccessKey(a *graph.Account, c Config, now time.Time) (hit, bool) {
	if !a.Active() || a.Root {
		return hit{}, false
	}
	old := func(cr *graph.Credential) bool { return olderThan(cr.RotatedAt(), now, c.AccessKeyMaxAgeDays) }
	creds := activeCreds(a, old, graph.CredentialAccessKey)
	if len(creds) == 0 {
		return hit{}, false
	}
	return hit{
		title: TitleUnrotatedAccessKey,
		short: fmt.Sprintf("%s not rotated for %d days", count(len(creds), "access key"), c.AccessKeyMaxAgeDays+1),
		creds: creds,
	}, true
}

// unusedAccessKey raises "Unused Access Key" on an active account, other
// than the AWS root user, owning active access keys not used for more than
// the limit (or never used and created more than the limit ago).
func unusedAccessKey(a *graph.Account, c Config, now time.Time) (hit, bool) {
	if !a.Active() || a.Root {
		return hit{}, false
	}
	idle := func(cr *graph.Credential) bool { return stale(cr.LastUsed, cr.Created, now, c.AccessKeyUnusedDays) }
	creds := activeCreds(a, idle, graph.CredentialAccessKey)
	if len(creds) == 0 {
		return hit{}, false
	}
	return hit{
		title: TitleUnusedAccessKey,
		short: fmt.Sprintf("%s unused for %d days", count(len(creds), "access key"), c.AccessKeyUnusedDays+1),
		creds: creds,
	}, true
}
