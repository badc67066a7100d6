package okta

import (
	"context"
	"errors"
	"net/url"
	"slices"
)

// Policy types Vigil reads.
const (
	PolicyOktaSignOn = "OKTA_SIGN_ON"  // global session policies
	PolicyAccess     = "ACCESS_POLICY" // app authentication policies
	PolicyMFAEnroll  = "MFA_ENROLL"    // authenticator enrollment policies
)

// AdminConsolePolicyName is the name Okta gives the authentication policy
// of the Okta Admin Console app. MFARequired reads only that access policy.
const AdminConsolePolicyName = "Okta Admin Console"

// Policy is an Okta policy. Only the people conditions are decoded: they
// are what decides whom a policy covers.
type Policy struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Name       string            `json:"name"`
	Status     string            `json:"status"`
	Priority   int               `json:"priority"`
	System     bool              `json:"system"`
	Conditions *PolicyConditions `json:"conditions"`
}

// PolicyConditions are the conditions of a policy or a rule.
type PolicyConditions struct {
	People *PeopleCondition `json:"people"`
}

// PeopleCondition limits a policy or rule to some users and groups.
type PeopleCondition struct {
	Users  *IncludeExclude `json:"users"`
	Groups *IncludeExclude `json:"groups"`
}

// IncludeExclude lists ids included and excluded by a condition.
type IncludeExclude struct {
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
}

// PolicyRule is a rule of a policy, with the actions that tell whether it
// asks for a second factor.
type PolicyRule struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Status     string            `json:"status"`
	Priority   int               `json:"priority"`
	System     bool              `json:"system"`
	Conditions *PolicyConditions `json:"conditions"`
	Actions    struct {
		// Signon is set on OKTA_SIGN_ON rules.
		Signon *struct {
			Access           string `json:"access"` // ALLOW or DENY
			RequireFactor    bool   `json:"requireFactor"`
			FactorPromptMode string `json:"factorPromptMode"`
		} `json:"signon"`
		// AppSignOn is set on ACCESS_POLICY rules.
		AppSignOn *struct {
			Access             string `json:"access"` // ALLOW or DENY
			VerificationMethod *struct {
				Type       string `json:"type"`       // ASSURANCE, …
				FactorMode string `json:"factorMode"` // 1FA or 2FA
			} `json:"verificationMethod"`
		} `json:"appSignOn"`
	} `json:"actions"`
}

// PolicyWithRules is a policy and its rules.
type PolicyWithRules struct {
	Policy
	Rules []PolicyRule
}

// ListPolicies returns the policies of one type, such as PolicyOktaSignOn.
func (c *Client) ListPolicies(ctx context.Context, policyType string) ([]Policy, error) {
	if policyType == "" {
		return nil, errors.New("okta: list policies: the policy type is empty")
	}
	return list[Policy](ctx, c, "list "+policyType+" policies", "/api/v1/policies", url.Values{"type": {policyType}})
}

// ListPolicyRules returns the rules of a policy.
func (c *Client) ListPolicyRules(ctx context.Context, policyID string) ([]PolicyRule, error) {
	if policyID == "" {
		return nil, errors.New("okta: list policy rules: the policy id is empty")
	}
	return list[PolicyRule](ctx, c, "list rules of policy "+policyID, "/api/v1/policies/"+url.PathEscape(policyID)+"/rules", nil)
}

// ListPoliciesWithRules returns the policies of one type, each with its rules.
func (c *Client) ListPoliciesWithRules(ctx context.Context, policyType string) ([]PolicyWithRules, error) {
	policies, err := c.ListPolicies(ctx, policyType)
	if err != nil {
		return nil, err
	}
	out := make([]PolicyWithRules, 0, len(policies))
	for _, p := range policies {
		rules, err := c.ListPolicyRules(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, PolicyWithRules{Policy: p, Rules: rules})
	}
	return out, nil
}

// MFARequired tells whether Okta's policies make the user present a second
// factor before reaching the Admin Console. It is the rule behind "No MFA
// Enforced - Global Admin Account", deliberately simple:
//
//   - Policies are evaluated as Okta does: ACTIVE policies by priority
//     (1 first), the first whose people condition covers the user; then that
//     policy's ACTIVE rules by priority, the first whose people condition
//     covers the user. Other conditions (network, device, risk) are
//     ignored, i.e. the rule is assumed to apply.
//   - MFA is required if the matching rule of the global session policies
//     (signOn, type OKTA_SIGN_ON) has requireFactor true, or if the matching
//     rule of the Admin Console's authentication policy (the ACCESS_POLICY
//     in access named AdminConsolePolicyName) has factorMode 2FA. A matching
//     rule that denies access also counts: no sign-in without MFA is possible.
//
// groupIDs are the groups the user belongs to; include the id of the
// built-in Everyone group, which policies use to cover all users.
func MFARequired(userID string, groupIDs []string, signOn, access []PolicyWithRules) bool {
	if r, ok := matchingRule(userID, groupIDs, signOn, func(p PolicyWithRules) bool { return p.Type == "" || p.Type == PolicyOktaSignOn }); ok {
		if s := r.Actions.Signon; s != nil && (s.Access == "DENY" || s.RequireFactor) {
			return true
		}
	}
	if r, ok := matchingRule(userID, groupIDs, access, func(p PolicyWithRules) bool { return p.Name == AdminConsolePolicyName }); ok {
		if a := r.Actions.AppSignOn; a != nil && (a.Access == "DENY" || (a.VerificationMethod != nil && a.VerificationMethod.FactorMode == "2FA")) {
			return true
		}
	}
	return false
}

// matchingRule finds the rule Okta would apply to the user among the
// policies that pass keep.
func matchingRule(userID string, groupIDs []string, policies []PolicyWithRules, keep func(PolicyWithRules) bool) (PolicyRule, bool) {
	ps := slices.Clone(policies)
	slices.SortStableFunc(ps, func(a, b PolicyWithRules) int { return a.Priority - b.Priority })
	for _, p := range ps {
		if p.Status != "ACTIVE" || !keep(p) || !covers(p.Conditions, userID, groupIDs) {
			continue
		}
		rules := slices.Clone(p.Rules)
		slices.SortStableFunc(rules, func(a, b PolicyRule) int { return a.Priority - b.Priority })
		for _, r := range rules {
			if r.Status == "ACTIVE" && covers(r.Conditions, userID, groupIDs) {
				return r, true
			}
		}
		return PolicyRule{}, false
	}
	return PolicyRule{}, false
}

// covers reports whether a people condition includes the user: not
// excluded by id or group, and included by id or group when anything is
// included at all.
func covers(c *PolicyConditions, userID string, groupIDs []string) bool {
	if c == nil || c.People == nil {
		return true
	}
	inGroup := func(ids []string) bool {
		return slices.ContainsFunc(ids, func(id string) bool { return slices.Contains(groupIDs, id) })
	}
	var includes bool
	var included bool
	if u := c.People.Users; u != nil {
		if slices.Contains(u.Exclude, userID) {
			return false
		}
		includes = includes || len(u.Include) > 0
		included = included || slices.Contains(u.Include, userID)
	}
	if g := c.People.Groups; g != nil {
		if inGroup(g.Exclude) {
			return false
		}
		includes = includes || len(g.Include) > 0
		included = included || inGroup(g.Include)
	}
	return !includes || included
}
