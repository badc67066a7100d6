package okta

import (
	"testing"
)

func TestMFARequiredRules(t *testing.T) {
	const user, everyone, admins, contractors = "00u1", "00gEveryone", "00gAdmins", "00gContractors"
	groups := []string{everyone, admins}
	signOnRule := func(priority int, requireFactor bool, access string, people *PeopleCondition) PolicyRule {
		r := PolicyRule{Status: "ACTIVE", Priority: priority, Conditions: &PolicyConditions{People: people}}
		r.Actions.Signon = &struct {
			Access           string `json:"access"`
			RequireFactor    bool   `json:"requireFactor"`
			FactorPromptMode string `json:"factorPromptMode"`
		}{Access: access, RequireFactor: requireFactor}
		return r
	}
	consoleRule := func(priority int, mode string) PolicyRule {
		r := PolicyRule{Status: "ACTIVE", Priority: priority}
		r.Actions.AppSignOn = &struct {
			Access             string `json:"access"`
			VerificationMethod *struct {
				Type       string `json:"type"`
				FactorMode string `json:"factorMode"`
			} `json:"verificationMethod"`
		}{Access: "ALLOW", VerificationMethod: &struct {
			Type       string `json:"type"`
			FactorMode string `json:"factorMode"`
		}{Type: "ASSURANCE", FactorMode: mode}}
		return r
	}
	policy := func(typ, name string, priority int, include []string, rules ...PolicyRule) PolicyWithRules {
		p := PolicyWithRules{Policy: Policy{Type: typ, Name: name, Status: "ACTIVE", Priority: priority}, Rules: rules}
		if include != nil {
			p.Conditions = &PolicyConditions{People: &PeopleCondition{Groups: &IncludeExclude{Include: include}}}
		}
		return p
	}
	groupsIn := func(ids ...string) *PeopleCondition {
		return &PeopleCondition{Groups: &IncludeExclude{Include: ids}}
	}
	tests := []struct {
		name   string
		signOn []PolicyWithRules
		access []PolicyWithRules
		want   bool
	}{
		{"no policies", nil, nil, false},
		{"default rule without factor", []PolicyWithRules{policy(PolicyOktaSignOn, "Default", 1, []string{everyone}, signOnRule(1, false, "ALLOW", nil))}, nil, false},
		{"default rule with factor", []PolicyWithRules{policy(PolicyOktaSignOn, "Default", 1, []string{everyone}, signOnRule(1, true, "ALLOW", nil))}, nil, true},
		{"first matching rule wins", []PolicyWithRules{policy(PolicyOktaSignOn, "Default", 1, nil,
			signOnRule(2, true, "ALLOW", nil), signOnRule(1, false, "ALLOW", groupsIn(admins)))}, nil, false},
		{"rule for another group skipped", []PolicyWithRules{policy(PolicyOktaSignOn, "Default", 1, nil,
			signOnRule(1, false, "ALLOW", groupsIn(contractors)), signOnRule(2, true, "ALLOW", nil))}, nil, true},
		{"user excluded from rule", []PolicyWithRules{policy(PolicyOktaSignOn, "Default", 1, nil,
			signOnRule(1, true, "ALLOW", &PeopleCondition{Users: &IncludeExclude{Exclude: []string{user}}}),
			signOnRule(2, false, "ALLOW", nil))}, nil, false},
		{"first matching policy wins", []PolicyWithRules{
			policy(PolicyOktaSignOn, "Everyone", 2, []string{everyone}, signOnRule(1, true, "ALLOW", nil)),
			policy(PolicyOktaSignOn, "Admins", 1, []string{admins}, signOnRule(1, false, "ALLOW", nil)),
		}, nil, false},
		{"inactive policy ignored", []PolicyWithRules{
			func() PolicyWithRules {
				p := policy(PolicyOktaSignOn, "Admins", 1, []string{admins}, signOnRule(1, false, "ALLOW", nil))
				p.Status = "INACTIVE"
				return p
			}(),
			policy(PolicyOktaSignOn, "Everyone", 2, []string{everyone}, signOnRule(1, true, "ALLOW", nil)),
		}, nil, true},
		{"deny counts", []PolicyWithRules{policy(PolicyOktaSignOn, "Default", 1, nil, signOnRule(1, false, "DENY", nil))}, nil, true},
		{"admin console 2FA", nil, []PolicyWithRules{policy(PolicyAccess, AdminConsolePolicyName, 1, nil, consoleRule(1, "2FA"))}, true},
		{"admin console 1FA", nil, []PolicyWithRules{policy(PolicyAccess, AdminConsolePolicyName, 1, nil, consoleRule(1, "1FA"))}, false},
		{"other app's 2FA ignored", nil, []PolicyWithRules{policy(PolicyAccess, "Salesforce", 1, nil, consoleRule(1, "2FA"))}, false},
	}
	for _, tt := range tests {
		if got := MFARequired(user, groups, tt.signOn, tt.access); got != tt.want {
			t.Errorf("%s: MFARequired = %v, want %v", tt.name, got, tt.want)
		}
	}
}
