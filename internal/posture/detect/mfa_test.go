package detect

import (
	"slices"
	"testing"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

func TestMFA(t *testing.T) {
	t.Parallel()
	notEnforced := func(a *graph.Account) { a.MFA.Enforced = boolp(false) }
	unknownEnforcement := func(a *graph.Account) { a.MFA.Enforced = nil }
	tests := []struct {
		name string
		a    *graph.Account
		want []string
	}{
		{"healthy", with(), nil},
		{"healthy global admin", with(global), nil},
		{"no MFA", with(mfa(graph.MFANone)), []string{TitleNoMFAAccount}},
		{"no MFA admin", with(admin, mfa(graph.MFANone)), []string{TitleNoMFAAdmin}},
		{"no MFA global admin", with(global, mfa(graph.MFANone)), []string{TitleNoMFAGlobalAdmin}},
		{"pending", with(mfa(graph.MFAPending)), []string{TitlePendingMFAAccount}},
		{"pending admin", with(admin, mfa(graph.MFAPending)), []string{TitlePendingMFAAdmin}},
		{"pending global admin", with(global, mfa(graph.MFAPending)), []string{TitlePendingMFAGlobalAdmin}},
		{"unknown MFA raises nothing", with(global, mfa(graph.MFAUnknown)), nil},
		{"global admin not enforced", with(global, notEnforced), []string{TitleNoMFAEnforcedGlobalAdmin}},
		{"not enforced and no MFA are both raised", with(global, notEnforced, mfa(graph.MFANone)), []string{TitleNoMFAGlobalAdmin, TitleNoMFAEnforcedGlobalAdmin}},
		{"enforcement unknown", with(global, unknownEnforcement), nil},
		{"admin not enforced is not a global admin title", with(admin, notEnforced), nil},
		{"weak admin", with(admin, mfa(graph.MFAEnrolled, graph.FactorSMS, graph.FactorVoice)), []string{TitleWeakMFAAdmin}},
		{"weak global admin", with(global, mfa(graph.MFAEnrolled, graph.FactorEmail)), []string{TitleWeakMFAAdmin}},
		{"weak plus strong is not weak", with(admin, mfa(graph.MFAEnrolled, graph.FactorSMS, graph.FactorWebAuthn)), nil},
		{"weak non-admin is not raised", with(mfa(graph.MFAEnrolled, graph.FactorSMS)), nil},
		{"weak flag without factors", with(admin, func(a *graph.Account) { a.MFA = graph.MFA{State: graph.MFAEnrolled, WeakOnly: true} }), []string{TitleWeakMFAAdmin}},
		{"service account never", with(service, global, mfa(graph.MFANone), notEnforced), nil},
		{"suspended never", with(status(graph.StatusSuspended), mfa(graph.MFANone)), nil},
		{"deprovisioned never", with(status(graph.StatusDeprovisioned), global, mfa(graph.MFANone)), nil},
		{"staged never", with(status(graph.StatusStaged), mfa(graph.MFAPending)), nil},
		{"root without MFA", with(root, mfa(graph.MFANone), unknownEnforcement), []string{TitleRootWithoutMFA}},
		{"root pending", with(root, mfa(graph.MFAPending)), []string{TitleRootWithoutMFA}},
		{"root not enforced is not a global admin title", with(root, notEnforced), nil},
		{"root with MFA", with(root, mfa(graph.MFAEnrolled, graph.FactorSMS)), nil},
		{"root unknown", with(root, mfa(graph.MFAUnknown)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := titles(t, tt.a, Config{}, noMFA, pendingMFA, mfaNotEnforced, weakMFA, rootWithoutMFA)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("titles = %q, want %q", got, want)
			}
		})
	}
}
