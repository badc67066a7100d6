package graph

import (
	"slices"
	"strings"
	"time"
)

// Product names the kind of system an account lives in. The values are exact
// strings shared with Okta ISPM's event payload (sourceProductName), because
// workflows route on them.
type Product string

// The products Vigil reads.
const (
	ProductOkta       Product = "Okta"
	ProductAAD        Product = "AAD"
	ProductGoogle     Product = "Google Workspace"
	ProductSalesforce Product = "Salesforce.com"
	ProductAWS        Product = "AWS"
)

// Products lists every known product in a fixed order, for validation and
// for user interfaces that offer a choice.
func Products() []Product {
	return []Product{ProductOkta, ProductAAD, ProductGoogle, ProductSalesforce, ProductAWS}
}

// Valid reports whether p is one of [Products].
func (p Product) Valid() bool {
	return slices.Contains(Products(), p)
}

// Status is an account's lifecycle state in its source. Sign-in states that
// are temporary (Okta LOCKED_OUT, PASSWORD_EXPIRED, RECOVERY) map to
// StatusActive: the account still exists and can be used again.
type Status string

// Account statuses.
const (
	// StatusActive accounts can sign in or be used; only they raise findings
	// about MFA, privilege and credentials.
	StatusActive Status = "active"
	// StatusStaged accounts were created but never activated (Okta STAGED or
	// PROVISIONED). They cannot sign in yet and raise nothing.
	StatusStaged Status = "staged"
	// StatusSuspended accounts are disabled but kept (Okta SUSPENDED, Entra
	// accountEnabled=false, Google suspended, Salesforce IsActive=false).
	StatusSuspended Status = "suspended"
	// StatusDeprovisioned accounts were deactivated or deleted (Okta
	// DEPROVISIONED, Google archived).
	StatusDeprovisioned Status = "deprovisioned"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusActive, StatusStaged, StatusSuspended, StatusDeprovisioned:
		return true
	}
	return false
}

// Kind tells a person's account from a machine's. See the package
// documentation for the rules adapters follow.
type Kind string

// Account kinds.
const (
	KindHuman   Kind = "human"
	KindService Kind = "service"
)

// Valid reports whether k is a known kind; the empty kind means human.
func (k Kind) Valid() bool {
	return k == "" || k == KindHuman || k == KindService
}

// Privilege is an account's administrative reach in its tenant.
type Privilege string

// Privilege levels, from least to most.
const (
	// PrivilegeNone is a regular account.
	PrivilegeNone Privilege = "none"
	// PrivilegeAdmin holds some administrative role: an Okta admin role
	// other than SUPER_ADMIN, an Entra directory role other than Global
	// Administrator, a Google delegated admin, a Salesforce user with
	// ModifyAllData or ViewAllData, an AWS user with IAM write access.
	PrivilegeAdmin Privilege = "admin"
	// PrivilegeGlobalAdmin controls the whole tenant: Okta SUPER_ADMIN,
	// Entra Global Administrator, Google super admin, AWS root or
	// AdministratorAccess.
	PrivilegeGlobalAdmin Privilege = "global_admin"
)

// Valid reports whether p is a known level; the empty level means none.
func (p Privilege) Valid() bool {
	return p == "" || p == PrivilegeNone || p == PrivilegeAdmin || p == PrivilegeGlobalAdmin
}

// MFAState summarizes an account's second factors.
type MFAState string

// MFA states. The empty state means the source does not say (Salesforce,
// federated accounts); detections never guess and raise no MFA finding then.
const (
	MFAUnknown  MFAState = ""
	MFANone     MFAState = "none"
	MFAPending  MFAState = "pending"
	MFAEnrolled MFAState = "enrolled"
)

// Valid reports whether s is a known state, including unknown.
func (s MFAState) Valid() bool {
	switch s {
	case MFAUnknown, MFANone, MFAPending, MFAEnrolled:
		return true
	}
	return false
}

// Factor types, normalized across sources. Sources may report others
// (for example "security_question"); any string is accepted.
const (
	FactorSMS      = "sms"
	FactorVoice    = "voice"
	FactorEmail    = "email"
	FactorTOTP     = "totp"
	FactorPush     = "push"
	FactorWebAuthn = "webauthn"
	FactorHardware = "hardware"
)

// WeakFactor reports whether a factor type is one that phishing, SIM swaps
// or mailbox takeover defeat: SMS, voice call or email.
func WeakFactor(t string) bool {
	return t == FactorSMS || t == FactorVoice || t == FactorEmail
}

// MFA describes an account's multi-factor authentication.
type MFA struct {
	// State is none, pending (factors enrolled, none activated) or
	// enrolled (at least one active factor); empty when unknown.
	State MFAState `json:"state,omitempty"`
	// Factors lists the types of the active factors.
	Factors []string `json:"factors,omitempty"`
	// WeakOnly is true when every active factor is SMS, voice or email.
	// Build derives it from Factors when Factors is not empty; a source that
	// knows only the flag may set it alone.
	WeakOnly bool `json:"weakOnly,omitempty"`
	// Enforced tells whether a policy requires MFA when this account signs
	// in (Okta sign-on policies, Google isEnforcedIn2Sv); nil when the source
	// cannot tell.
	Enforced *bool `json:"enforced,omitempty"`
}

// CredentialKind names a long-lived secret an account authenticates with.
type CredentialKind string

// Credential kinds.
const (
	CredentialAPIToken     CredentialKind = "api_token"
	CredentialClientSecret CredentialKind = "client_secret"
	CredentialAccessKey    CredentialKind = "access_key"
)

// Valid reports whether k is a known kind.
func (k CredentialKind) Valid() bool {
	return k == CredentialAPIToken || k == CredentialClientSecret || k == CredentialAccessKey
}

// Credential is a token, client secret or access key owned by an account.
// It never carries the secret itself, only what identifies and dates it.
type Credential struct {
	// ID is the source's identifier (Okta token id, Entra keyId, AWS access
	// key id).
	ID   string         `json:"id"`
	Name string         `json:"name,omitempty"`
	Kind CredentialKind `json:"kind"`
	// Active is false for revoked or deactivated credentials, which raise
	// nothing.
	Active  bool      `json:"active"`
	Created time.Time `json:"created,omitzero"`
	// LastUsed is nil when the credential was never used or the source does
	// not record use.
	LastUsed *time.Time `json:"lastUsed,omitempty"`
	// LastRotated is nil when the credential was never rotated; its age is
	// then measured from Created.
	LastRotated *time.Time `json:"lastRotated,omitempty"`
}

// RotatedAt returns when the credential's secret was last set: LastRotated,
// else Created (zero when neither is known).
func (c Credential) RotatedAt() time.Time {
	if c.LastRotated != nil {
		return *c.LastRotated
	}
	return c.Created
}

// Account is one identity in one source: a user, a service principal or an
// IAM user. The JSON tags are the snapshot format's account object.
type Account struct {
	// IDInService is the source's own immutable id (Okta user id, Entra
	// object id, AWS user ARN or name); unique within a source.
	IDInService string `json:"idInService"`
	// Login is the sign-in name (identifierInService).
	Login       string `json:"login,omitempty"`
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Status      Status `json:"status"`

	Kind Kind `json:"kind,omitempty"`
	// KindReasons say why a service account is one, e.g. "Okta user type
	// Service".
	KindReasons []string `json:"kindReasons,omitempty"`

	Privilege Privilege `json:"privilege,omitempty"`
	// PrivilegeReasons say where the privilege comes from, e.g. "Member of
	// Org Admins group" or "SUPER_ADMIN role".
	PrivilegeReasons []string `json:"privilegeReasons,omitempty"`

	MFA MFA `json:"mfa,omitzero"`
	// Root marks the AWS account root user.
	Root bool `json:"root,omitempty"`

	Created time.Time `json:"created,omitzero"`
	// LastLogin is the last interactive sign-in; nil means never (or, for a
	// service account, never through a login).
	LastLogin *time.Time `json:"lastLogin,omitempty"`
	// PasswordChanged is nil when the account has no password or the source
	// does not say.
	PasswordChanged *time.Time   `json:"passwordChanged,omitempty"`
	Credentials     []Credential `json:"credentials,omitempty"`

	// Tenant is the tenant the account was read from; Build sets it.
	Tenant *Tenant `json:"-"`
	// Person is who the account belongs to, or nil for an account that
	// matches no person of the primary source; Build sets it.
	Person *Person `json:"-"`
}

// Active reports whether the account can be used now.
func (a *Account) Active() bool { return a.Status == StatusActive }

// Service reports whether the account belongs to a machine.
func (a *Account) Service() bool { return a.Kind == KindService }

// Admin reports whether the account has any administrative privilege.
func (a *Account) Admin() bool {
	return a.Privilege == PrivilegeAdmin || a.Privilege == PrivilegeGlobalAdmin
}

// GlobalAdmin reports whether the account controls its whole tenant.
func (a *Account) GlobalAdmin() bool { return a.Privilege == PrivilegeGlobalAdmin }

// Identifier returns the account's sign-in name, falling back to its email
// and then its id, so there is always something to show.
func (a *Account) Identifier() string {
	switch {
	case a.Login != "":
		return a.Login
	case a.Email != "":
		return a.Email
	}
	return a.IDInService
}

// Name returns the display name, falling back to Identifier.
func (a *Account) Name() string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	return a.Identifier()
}

// LastUse returns the latest of the last login and the last use of any
// active credential, or nil if there was none. Service accounts are used
// through their credentials more than through logins.
func (a *Account) LastUse() *time.Time {
	last := a.LastLogin
	for i := range a.Credentials {
		c := &a.Credentials[i]
		if !c.Active || c.LastUsed == nil {
			continue
		}
		if last == nil || c.LastUsed.After(*last) {
			last = c.LastUsed
		}
	}
	return last
}

// share points the account's strings and lists that many accounts repeat
// at one copy: the enums at their constants, the email at the login when
// the two are equal (as they are for most users), and the lists of factors
// and reasons at the first equal list s has seen. Decoding gives every
// account copies of its own, and at a million accounts those copies were
// tens of megabytes of the live heap that a scan keeps until its inventory
// is stored. The lists are shared, so a built graph's lists are read-only.
func (a *Account) share(s *shared) {
	a.Status = canonical(a.Status, StatusActive, StatusStaged, StatusSuspended, StatusDeprovisioned)
	a.Kind = canonical(a.Kind, KindHuman, KindService)
	a.Privilege = canonical(a.Privilege, PrivilegeNone, PrivilegeAdmin, PrivilegeGlobalAdmin)
	a.MFA.State = canonical(a.MFA.State, MFANone, MFAPending, MFAEnrolled)
	if a.Email == a.Login {
		a.Email = a.Login
	}
	a.KindReasons = s.list(a.KindReasons)
	a.PrivilegeReasons = s.list(a.PrivilegeReasons)
	a.MFA.Factors = s.list(a.MFA.Factors)
	for i := range a.Credentials {
		c := &a.Credentials[i]
		c.Kind = canonical(c.Kind, CredentialAPIToken, CredentialClientSecret, CredentialAccessKey)
	}
}

// canonical returns the constant among known that equals v, or v.
func canonical[T ~string](v T, known ...T) T {
	for _, k := range known {
		if v == k {
			return k
		}
	}
	return v
}

// shared holds the lists Build has seen, by their elements joined with
// NUL bytes.
type shared struct {
	lists map[string][]string
}

// list returns the first list equal to v that s has seen, or v, which it
// then keeps.
func (s *shared) list(v []string) []string {
	if len(v) == 0 {
		return v
	}
	key := v[0] // most lists have one element: no key to make
	if len(v) > 1 {
		key = strings.Join(v, "\x00")
	}
	if l, ok := s.lists[key]; ok && slices.Equal(l, v) {
		return l
	}
	if s.lists == nil {
		s.lists = map[string][]string{}
	}
	s.lists[key] = v
	return v
}

// normalize fills the defaults of empty enums and derives the weak-only
// flag, so every reader of a built graph sees explicit values.
func (a *Account) normalize() {
	if a.Kind == "" {
		a.Kind = KindHuman
	}
	if a.Privilege == "" {
		a.Privilege = PrivilegeNone
	}
	if a.Root {
		a.Privilege = PrivilegeGlobalAdmin
	}
	if len(a.MFA.Factors) > 0 {
		weak := true
		for _, f := range a.MFA.Factors {
			if !WeakFactor(f) {
				weak = false
				break
			}
		}
		a.MFA.WeakOnly = weak
	}
}
