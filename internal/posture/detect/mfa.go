package detect

import (
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// tier picks the title of a's tier: account, admin or global admin.
func tier(a *graph.Account, account, admin, global string) string {
	switch {
	case a.GlobalAdmin():
		return global
	case a.Admin():
		return admin
	}
	return account
}

// who names a's tier in a short description.
func who(a *graph.Account) string {
	prefix := tier(a, "Account", "Admin account", "Global admin account")
	if a.Service() {
		prefix = tier(a, "Service account", "Admin service account", "Global admin service account")
	}
	return prefix
}

// humanMFASubject reports whether a is subject to the tiered MFA titles:
// an active human account other than the AWS root user.
func humanMFASubject(a *graph.Account) bool {
	return a.Active() && !a.Service() && !a.Root
}

// noMFA raises "No MFA - …" for an active human account whose source says
// it has no factor at all.
func noMFA(a *graph.Account, _ Config, _ time.Time) (hit, bool) {
	if !humanMFASubject(a) || a.MFA.State != graph.MFANone {
		return hit{}, false
	}
	return hit{
		title: tier(a, TitleNoMFAAccount, TitleNoMFAAdmin, TitleNoMFAGlobalAdmin),
		short: who(a) + " has no MFA factor enrolled",
	}, true
}

// pendingMFA raises "Pending MFA - …" for an active human account whose
// factors all wait for activation.
func pendingMFA(a *graph.Account, _ Config, _ time.Time) (hit, bool) {
	if !humanMFASubject(a) || a.MFA.State != graph.MFAPending {
		return hit{}, false
	}
	return hit{
		title: tier(a, TitlePendingMFAAccount, TitlePendingMFAAdmin, TitlePendingMFAGlobalAdmin),
		short: who(a) + " has MFA enrollment pending activation",
	}, true
}

// mfaNotEnforced raises "No MFA Enforced - Global Admin Account" when the
// source says no policy requires MFA for an active human global admin. It
// is about policy, not enrollment, so it can accompany a "No MFA" title.
func mfaNotEnforced(a *graph.Account, _ Config, _ time.Time) (hit, bool) {
	if !humanMFASubject(a) || !a.GlobalAdmin() || a.MFA.Enforced == nil || *a.MFA.Enforced {
		return hit{}, false
	}
	return hit{title: TitleNoMFAEnforcedGlobalAdmin, short: "No policy requires MFA for this global admin"}, true
}

// weakMFA raises "Weak MFA - Admin Account" for an active human admin or
// global admin whose active factors are all SMS, voice or email.
func weakMFA(a *graph.Account, _ Config, _ time.Time) (hit, bool) {
	if !humanMFASubject(a) || !a.Admin() || a.MFA.State != graph.MFAEnrolled || !a.MFA.WeakOnly {
		return hit{}, false
	}
	short := who(a) + " uses only weak MFA factors"
	if len(a.MFA.Factors) > 0 {
		short += " (" + strings.Join(a.MFA.Factors, ", ") + ")"
	}
	return hit{title: TitleWeakMFAAdmin, short: short}, true
}

// rootWithoutMFA raises "Root Account without MFA" for the AWS root user
// when its MFA is known not to be active.
func rootWithoutMFA(a *graph.Account, _ Config, _ time.Time) (hit, bool) {
	if !a.Active() || !a.Root || (a.MFA.State != graph.MFANone && a.MFA.State != graph.MFAPending) {
		return hit{}, false
	}
	return hit{title: TitleRootWithoutMFA, short: "AWS root user has no MFA device"}, true
}
