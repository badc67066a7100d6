package auth

// Single sign-on is not built yet. This file is the seam it will use, so
// that adding it changes no caller:
//
//   - An OIDC handler (coreos/go-oidc: Provider, Verifier, an oauth2.Config
//     with the authorization-code flow and PKCE) verifies the ID token and
//     reads its subject, e-mail and groups claim into an ExternalIdentity.
//   - GroupRoles maps the groups to a Role; no matching group means no access.
//   - The handler finds or creates the local user named after the identity
//     (with an empty password hash, so a password can never sign it in, see
//     Login), updates its role from the mapping on every sign-in, and calls
//     StartSession and SetSessionCookie exactly as SignIn does. Sessions,
//     Require and everything downstream then work unchanged.

// ExternalIdentity is what a single sign-on provider vouches for.
type ExternalIdentity struct {
	// Subject is the provider's stable user id (the "sub" claim).
	Subject string
	// Name is the login to use locally, normally the e-mail address.
	Name string
	// Groups are the values of the configured groups claim.
	Groups []string
}

// GroupRoles maps identity-provider group names to Vigil roles.
type GroupRoles map[string]Role

// RoleFor returns the most powerful role any of groups maps to, and false
// when none maps to a role (the person gets no access).
func (m GroupRoles) RoleFor(groups []string) (Role, bool) {
	member := make(map[Role]bool, len(groups))
	for _, g := range groups {
		if r, ok := m[g]; ok {
			member[r] = true
		}
	}
	for _, r := range Roles() {
		if member[r] {
			return r, true
		}
	}
	return "", false
}
