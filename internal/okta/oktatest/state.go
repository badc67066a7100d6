package oktatest

import (
	"time"
)

// User is a user of the fake org. Fields map one to one onto Okta's user
// object; nil times are written as null.
type User struct {
	ID              string
	Status          string // default ACTIVE
	Created         time.Time
	Activated       *time.Time
	StatusChanged   *time.Time
	LastLogin       *time.Time
	LastUpdated     time.Time
	PasswordChanged *time.Time
	TypeID          string
	Login           string
	Email           string
	FirstName       string
	LastName        string
	// Profile holds extra profile attributes, written next to the standard ones.
	Profile map[string]any
}

// Factor is an enrolled factor.
type Factor struct {
	ID         string
	FactorType string // push, sms, call, email, token:software:totp, webauthn, …
	Provider   string // default OKTA
	Status     string // default ACTIVE
	Created    time.Time
}

// Role is an admin role assigned to a user or a group.
type Role struct {
	ID     string
	Type   string // SUPER_ADMIN, ORG_ADMIN, …
	Label  string // default derived from Type
	Status string // default ACTIVE
}

// Group is a group of the fake org.
type Group struct {
	ID          string
	Type        string // default OKTA_GROUP
	Name        string
	Description string
	Created     time.Time
}

// APIToken is the metadata of an API token.
type APIToken struct {
	ID          string
	Name        string
	UserID      string
	ClientName  string
	Created     time.Time
	LastUpdated time.Time
	ExpiresAt   *time.Time
	TokenWindow string // default P30D
}

// Policy is a policy with its rules. Only people conditions are modelled.
type Policy struct {
	ID            string
	Type          string // OKTA_SIGN_ON, ACCESS_POLICY, MFA_ENROLL
	Name          string
	Status        string // default ACTIVE
	Priority      int
	System        bool
	GroupsInclude []string
	Rules         []Rule
}

// Rule is a policy rule. RequireFactor is written for OKTA_SIGN_ON rules,
// FactorMode (1FA or 2FA) for ACCESS_POLICY rules.
type Rule struct {
	ID            string
	Name          string
	Status        string // default ACTIVE
	Priority      int
	UsersInclude  []string
	UsersExclude  []string
	GroupsInclude []string
	GroupsExclude []string
	Access        string // default ALLOW
	RequireFactor bool
	FactorMode    string
}

// Request is a request the fake received. The Authorization header is left
// out, so a test can print requests without printing a token.
type Request struct {
	Method string
	Path   string
	Query  string // the raw query
	Header map[string][]string
	Body   []byte
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func timeOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func stamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func (u *User) json() map[string]any {
	profile := map[string]any{}
	for k, v := range u.Profile {
		profile[k] = v
	}
	profile["login"] = u.Login
	profile["email"] = u.Email
	profile["firstName"] = u.FirstName
	profile["lastName"] = u.LastName
	return map[string]any{
		"id":              u.ID,
		"status":          u.Status,
		"created":         stamp(u.Created),
		"activated":       timeOrNull(u.Activated),
		"statusChanged":   timeOrNull(u.StatusChanged),
		"lastLogin":       timeOrNull(u.LastLogin),
		"lastUpdated":     stamp(u.LastUpdated),
		"passwordChanged": timeOrNull(u.PasswordChanged),
		"type":            map[string]any{"id": u.TypeID},
		"profile":         profile,
		"credentials":     map[string]any{"provider": map[string]any{"type": "OKTA", "name": "OKTA"}},
		"_links":          map[string]any{"self": map[string]any{"href": "/api/v1/users/" + u.ID}},
	}
}

func (f Factor) json() map[string]any {
	return map[string]any{
		"id":          f.ID,
		"factorType":  f.FactorType,
		"provider":    f.Provider,
		"vendorName":  f.Provider,
		"status":      f.Status,
		"created":     stamp(f.Created),
		"lastUpdated": stamp(f.Created),
		"profile":     map[string]any{},
	}
}

func (r Role) json(assignmentType string) map[string]any {
	return map[string]any{
		"id":             r.ID,
		"label":          r.Label,
		"type":           r.Type,
		"status":         r.Status,
		"assignmentType": assignmentType,
		"created":        "2024-01-01T00:00:00.000Z",
		"lastUpdated":    "2024-01-01T00:00:00.000Z",
	}
}

func (g *Group) json() map[string]any {
	return map[string]any{
		"id":                    g.ID,
		"type":                  g.Type,
		"created":               stamp(g.Created),
		"lastUpdated":           stamp(g.Created),
		"lastMembershipUpdated": stamp(g.Created),
		"objectClass":           []string{"okta:user_group"},
		"profile":               map[string]any{"name": g.Name, "description": g.Description},
	}
}

func (t APIToken) json() map[string]any {
	return map[string]any{
		"id":          t.ID,
		"name":        t.Name,
		"userId":      t.UserID,
		"clientName":  t.ClientName,
		"created":     stamp(t.Created),
		"lastUpdated": stamp(t.LastUpdated),
		"expiresAt":   timeOrNull(t.ExpiresAt),
		"tokenWindow": t.TokenWindow,
		"network":     map[string]any{"connection": "ANYWHERE"},
	}
}

func people(usersIn, usersEx, groupsIn, groupsEx []string) map[string]any {
	nz := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	p := map[string]any{}
	if len(usersIn)+len(usersEx) > 0 {
		p["users"] = map[string]any{"include": nz(usersIn), "exclude": nz(usersEx)}
	}
	if len(groupsIn)+len(groupsEx) > 0 {
		p["groups"] = map[string]any{"include": nz(groupsIn), "exclude": nz(groupsEx)}
	}
	return map[string]any{"people": p}
}

func (p *Policy) json() map[string]any {
	return map[string]any{
		"id":         p.ID,
		"type":       p.Type,
		"name":       p.Name,
		"status":     p.Status,
		"priority":   p.Priority,
		"system":     p.System,
		"conditions": people(nil, nil, p.GroupsInclude, nil),
	}
}

func (r Rule) json(policyType string) map[string]any {
	out := map[string]any{
		"id":         r.ID,
		"name":       r.Name,
		"status":     r.Status,
		"priority":   r.Priority,
		"system":     false,
		"conditions": people(r.UsersInclude, r.UsersExclude, r.GroupsInclude, r.GroupsExclude),
	}
	switch policyType {
	case "OKTA_SIGN_ON":
		out["type"] = "SIGN_ON"
		out["actions"] = map[string]any{"signon": map[string]any{
			"access": r.Access, "requireFactor": r.RequireFactor, "factorPromptMode": "ALWAYS",
		}}
	case "ACCESS_POLICY":
		out["type"] = "ACCESS_POLICY"
		out["actions"] = map[string]any{"appSignOn": map[string]any{
			"access": r.Access, "verificationMethod": map[string]any{"type": "ASSURANCE", "factorMode": orDefault(r.FactorMode, "1FA")},
		}}
	default:
		out["type"] = policyType
		out["actions"] = map[string]any{}
	}
	return out
}
