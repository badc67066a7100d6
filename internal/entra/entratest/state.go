package entratest

import (
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

// User is a directory user as the fake stores it. Zero times are sent as
// null, as Graph does for a user who never signed in.
type User struct {
	ID                         string
	DisplayName                string
	UserPrincipalName          string
	Mail                       string
	AccountEnabled             bool
	UserType                   string // "Member" (default) or "Guest"
	CreatedDateTime            time.Time
	LastPasswordChangeDateTime time.Time
	LastSignInDateTime         time.Time
	LastNonInteractiveSignIn   time.Time
	// MethodsRegistered feeds userRegistrationDetails; any method other than
	// "email" and "securityQuestion" counts as an MFA method there.
	MethodsRegistered []string
}

// userDefault is what Graph returns for a user when $select is absent.
var userDefault = []string{"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName"}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (u *User) props() map[string]any {
	typ := u.UserType
	if typ == "" {
		typ = "Member"
	}
	var activity any
	if !u.LastSignInDateTime.IsZero() || !u.LastNonInteractiveSignIn.IsZero() {
		last := u.LastSignInDateTime
		if u.LastNonInteractiveSignIn.After(last) {
			last = u.LastNonInteractiveSignIn
		}
		activity = map[string]any{
			"lastSignInDateTime":               timeOrNil(u.LastSignInDateTime),
			"lastSignInRequestId":              "a1b2c3",
			"lastNonInteractiveSignInDateTime": timeOrNil(u.LastNonInteractiveSignIn),
			"lastSuccessfulSignInDateTime":     timeOrNil(last),
		}
	}
	return map[string]any{
		"@odata.type": "#microsoft.graph.user",
		"id":          u.ID, "displayName": u.DisplayName, "userPrincipalName": u.UserPrincipalName,
		"mail": nilIfEmpty(u.Mail), "accountEnabled": u.AccountEnabled, "userType": typ,
		"createdDateTime":            timeOrNil(u.CreatedDateTime),
		"lastPasswordChangeDateTime": timeOrNil(u.LastPasswordChangeDateTime),
		"signInActivity":             activity,
		"businessPhones":             []string{}, "givenName": nil, "surname": nil, "jobTitle": nil,
		"mobilePhone": nil, "officeLocation": nil, "preferredLanguage": nil,
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Role is an activated directory role.
type Role struct {
	ID             string
	DisplayName    string
	RoleTemplateID string
	// MemberIDs are ids of users or service principals.
	MemberIDs []string
}

func (r *Role) props() map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.directoryRole", "id": r.ID,
		"displayName": r.DisplayName, "roleTemplateId": r.RoleTemplateID, "description": nil, "deletedDateTime": nil}
}

// Credential is a client secret or certificate of an app.
type Credential struct {
	KeyID         string
	DisplayName   string
	StartDateTime time.Time
	EndDateTime   time.Time
}

func creds(cs []Credential, secret bool) []map[string]any {
	out := []map[string]any{}
	for _, c := range cs {
		m := map[string]any{"keyId": c.KeyID, "displayName": c.DisplayName,
			"startDateTime": timeOrNil(c.StartDateTime), "endDateTime": timeOrNil(c.EndDateTime),
			"customKeyIdentifier": nil}
		if secret {
			m["hint"] = "abc"
			m["secretText"] = nil
		} else {
			m["type"] = "AsymmetricX509Cert"
			m["usage"] = "Verify"
			m["key"] = nil
		}
		out = append(out, m)
	}
	return out
}

// ServicePrincipal is an app's identity in the tenant.
type ServicePrincipal struct {
	ID                  string
	AppID               string
	DisplayName         string
	AccountEnabled      bool
	PasswordCredentials []Credential
	KeyCredentials      []Credential
}

var spDefault = []string{"id", "appId", "displayName", "accountEnabled", "servicePrincipalType"}

func (sp *ServicePrincipal) props() map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.servicePrincipal", "id": sp.ID, "appId": sp.AppID,
		"displayName": sp.DisplayName, "accountEnabled": sp.AccountEnabled, "servicePrincipalType": "Application",
		"passwordCredentials": creds(sp.PasswordCredentials, true), "keyCredentials": creds(sp.KeyCredentials, false)}
}

// Application is an app registration.
type Application struct {
	ID                  string
	AppID               string
	DisplayName         string
	CreatedDateTime     time.Time
	PasswordCredentials []Credential
	KeyCredentials      []Credential
}

var appDefault = []string{"id", "appId", "displayName", "createdDateTime"}

func (a *Application) props() map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.application", "id": a.ID, "appId": a.AppID,
		"displayName": a.DisplayName, "createdDateTime": timeOrNil(a.CreatedDateTime),
		"passwordCredentials": creds(a.PasswordCredentials, true), "keyCredentials": creds(a.KeyCredentials, false)}
}

// Group is a security group that members can be added to.
type Group struct {
	ID          string
	DisplayName string
	MemberIDs   []string
}

// Organization is the tenant.
type Organization struct {
	ID            string
	DisplayName   string
	DefaultDomain string
}

func (o Organization) props() map[string]any {
	return map[string]any{"id": o.ID, "displayName": o.DisplayName, "verifiedDomains": []map[string]any{
		{"name": "contoso.onmicrosoft.com", "isDefault": o.DefaultDomain == "", "isInitial": true, "type": "Managed"},
		{"name": o.DefaultDomain, "isDefault": o.DefaultDomain != "", "isInitial": false, "type": "Managed"},
	}}
}

// AddUser adds or replaces a user.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, old := range s.users {
		if old.ID == u.ID {
			s.users[i] = &u
			return
		}
	}
	s.users = append(s.users, &u)
}

// User returns a copy of the stored user with that id.
func (s *Server) User(id string) (User, bool) {
	return vendorfake.Lookup(&s.mu, func() *User { return s.user(id) })
}

// AddRole adds an activated directory role with its members.
func (s *Server) AddRole(r Role) {
	vendorfake.Append(&s.mu, &s.roles, &r)
}

// AddServicePrincipal adds a service principal.
func (s *Server) AddServicePrincipal(sp ServicePrincipal) {
	vendorfake.Append(&s.mu, &s.sps, &sp)
}

// AddApplication adds an app registration.
func (s *Server) AddApplication(a Application) {
	vendorfake.Append(&s.mu, &s.apps, &a)
}

// AddGroup adds a group.
func (s *Server) AddGroup(g Group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[g.ID] = &g
}

// GroupMembers returns the member ids of a group.
func (s *Server) GroupMembers(groupID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.groups[groupID]; g != nil {
		return append([]string(nil), g.MemberIDs...)
	}
	return nil
}

// SetOrganization replaces the tenant's name and default domain.
func (s *Server) SetOrganization(o Organization) {
	vendorfake.Set(&s.mu, &s.org, o)
}

func (s *Server) user(id string) *User {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (s *Server) role(id string) *Role {
	for _, r := range s.roles {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// object finds a user or service principal by id, as directoryObjects does.
func (s *Server) object(id string) map[string]any {
	if u := s.user(id); u != nil {
		return u.props()
	}
	for _, sp := range s.sps {
		if sp.ID == id {
			return sp.props()
		}
	}
	return nil
}

func (s *Server) userObjects() []map[string]any {
	out := make([]map[string]any, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u.props())
	}
	return out
}

func (s *Server) registrationObjects() []map[string]any {
	admins := map[string]bool{}
	for _, r := range s.roles {
		for _, id := range r.MemberIDs {
			admins[id] = true
		}
	}
	out := []map[string]any{}
	for _, u := range s.users {
		mfa := false
		for _, m := range u.MethodsRegistered {
			if m != "email" && m != "securityQuestion" {
				mfa = true
			}
		}
		methods := append([]string{}, u.MethodsRegistered...)
		out = append(out, map[string]any{
			"id": u.ID, "userPrincipalName": u.UserPrincipalName, "userDisplayName": u.DisplayName,
			"userType": "member", "isAdmin": admins[u.ID], "isMfaRegistered": mfa, "isMfaCapable": mfa,
			"isPasswordlessCapable": false, "isSsprRegistered": false, "isSsprEnabled": false, "isSsprCapable": false,
			"isSystemPreferredAuthenticationMethodEnabled": false, "methodsRegistered": methods,
			"lastUpdatedDateTime": time.Now().UTC().Format(time.RFC3339),
		})
	}
	return out
}
