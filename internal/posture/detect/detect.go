// Package detect finds risky identities in an identity graph: every title
// of Vigil's detection catalog, which uses Okta ISPM's issue titles.
//
// Each detection is a pure function of the graph, the thresholds and the
// time of the scan; nothing here reads the clock, a database or the
// network. The families live one per file: mfa.go, privilege.go,
// credentials.go and lifecycle.go.
//
// Rules shared by the families:
//
//   - Only active accounts raise MFA, privilege and credential findings;
//     staged, suspended and deprovisioned accounts raise only lifecycle
//     issues (through their person).
//   - Titles in a family differ only by tier (Account, Admin Account, Global
//     Admin Account, and the Service Account variants); an account gets the
//     one title of its tier, never two tiers of the same family.
//   - The AWS root user gets the root titles ("Root Account without MFA",
//     "Root Access Key Present") instead of the tiered MFA and access key
//     titles; it never gets "Unused …" or "Old Password …" titles, because
//     AWS recommends never using it and it has no password age to report.
//   - Service accounts get no MFA title and never "Unused Account"; they
//     have their own "… Service Account" titles.
//   - Unknown data raises nothing: an account whose source does not report
//     MFA, a password change date or a creation date is not guessed about.
//   - Token and key findings are raised on the owning account, with the
//     tokens or keys listed in additionalData.unrotatedTokens.
//   - Lifecycle titles need a primary identity provider in the graph; if it
//     is missing (for example its scan failed) they raise nothing.
package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// EntityType is the kind of thing an issue is about (affectedEntity.type).
type EntityType string

// Entity types.
const (
	// EntityAccount is one account in one source.
	EntityAccount EntityType = "Account"
	// EntityUser is a person across sources.
	EntityUser EntityType = "User"
	// EntityTenant is a whole tenant.
	EntityTenant EntityType = "Tenant"
)

// Finding is one detection raised on one entity. Its JSON form is the
// eventData of the issue event without the fields that the issue store
// owns (id, detectedAt, status, link), so an event is a Finding plus those.
type Finding struct {
	Title                string   `json:"title"`
	Category             Category `json:"category"`
	Severity             Severity `json:"severity"`
	ShortDescription     string   `json:"shortDescription"`
	FullDescription      string   `json:"fullDescription"`
	SuggestedRemediation string   `json:"suggestedRemediation"`
	RiskAndImpact        string   `json:"riskAndImpact"`
	Entity               Entity   `json:"affectedEntity"`

	// Fingerprint identifies the issue across scans: the hex SHA-256 of
	// the title and the entity key. A rescan that finds the same problem
	// on the same entity produces the same fingerprint.
	Fingerprint string `json:"-"`
	// Source is the configured source the finding belongs to: the
	// account's or tenant's source, or the primary source for a User.
	Source string `json:"-"`
	// Sources lists every source whose data the finding depends on,
	// Source first. An open issue may be resolved only by a scan in which
	// all of them completed, so that a failed scan of one source never
	// resolves another's issues.
	Sources []string `json:"-"`
}

// Key is what tells issues apart: a title and an entity key.
type Key struct {
	Title  string
	Entity string
}

// Key returns the finding's title and entity key.
func (f *Finding) Key() Key { return Key{f.Title, f.Entity.Key} }

// Entity is the affected entity (affectedEntity in the issue event).
type Entity struct {
	Type EntityType `json:"type"`
	// Key identifies the entity independently of Vigil's configuration:
	// see AccountKey, UserKey and TenantKey.
	Key                 string         `json:"-"`
	DisplayName         string         `json:"displayName"`
	IDInService         string         `json:"idInService"`
	IdentifierInService string         `json:"identifierInService"`
	SourceProductName   graph.Product  `json:"sourceProductName"`
	SourceProductTenant string         `json:"sourceProductTenant"`
	AdditionalData      AdditionalData `json:"additionalData"`

	// Account is set for Account entities, Person for User entities and
	// Tenant for every entity, for callers that need more than the payload.
	Account *graph.Account `json:"-"`
	Person  *graph.Person  `json:"-"`
	Tenant  *graph.Tenant  `json:"-"`
}

// AdditionalData is affectedEntity.additionalData. Lists are never nil, so
// they encode as [] as Okta's payload does.
type AdditionalData struct {
	Username string `json:"username"`
	// Types lists the account's privileged or special types with the
	// reasons, e.g. {Admin, [Member of Org Admins group]}.
	Types []TypeReasons `json:"types"`
	// LastLogin is null when the account never signed in.
	LastLogin *time.Time `json:"lastLogin"`
	// UnrotatedTokens lists the tokens, secrets or keys a credential
	// finding is about.
	UnrotatedTokens []Token `json:"unrotatedTokens"`
	// ActiveAccounts lists a User's active accounts outside the primary
	// identity provider.
	ActiveAccounts []AccountRef `json:"activeAccounts"`
}

// TypeReasons is one entry of additionalData.types.
type TypeReasons struct {
	Type    string   `json:"type"`
	Reasons []string `json:"reasons"`
}

// Token describes a credential in additionalData.unrotatedTokens.
type Token struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Type        graph.CredentialKind `json:"type"`
	Created     *time.Time           `json:"created"`
	LastUsed    *time.Time           `json:"lastUsed"`
	LastRotated *time.Time           `json:"lastRotated"`
}

// AccountRef describes an account in additionalData.activeAccounts.
type AccountRef struct {
	DisplayName         string        `json:"displayName"`
	IDInService         string        `json:"idInService"`
	IdentifierInService string        `json:"identifierInService"`
	SourceProductName   graph.Product `json:"sourceProductName"`
	SourceProductTenant string        `json:"sourceProductTenant"`
	Status              graph.Status  `json:"status"`
	LastLogin           *time.Time    `json:"lastLogin"`
}

// hit is what a detection function returns for one entity.
type hit struct {
	title string
	short string
	creds []graph.Credential
}

type accountRule func(a *graph.Account, c Config, now time.Time) (hit, bool)

// Run evaluates the whole catalog over g at the instant now and returns
// the findings: account findings in graph order, then tenant findings,
// then user findings. g must come from graph.Build.
func Run(g *graph.Graph, cfg Config, now time.Time) []Finding {
	cfg = cfg.WithDefaults()
	r := &runner{cat: detectionsByTitle(CatalogFor(cfg)), g: g}
	rules := [...]accountRule{
		noMFA, pendingMFA, mfaNotEnforced, weakMFA, rootWithoutMFA,
		unused, highlyPrivilegedToken, rootAccessKey,
		oldPassword, unrotatedToken, unrotatedAccessKey, unusedAccessKey,
	}
	for _, a := range g.Accounts {
		for _, rule := range rules {
			if h, ok := rule(a, cfg, now); ok {
				r.emitAccount(a, h)
			}
		}
		if h, ok := orphaned(g, a); ok {
			f := r.emitAccount(a, h)
			f.Sources = append(f.Sources, g.Primary.Source)
		}
	}
	for _, t := range g.Tenants {
		for _, rule := range [...]func(*graph.Tenant, Config) (hit, bool){excessiveGlobalAdmins, excessiveAdmins} {
			if h, ok := rule(t, cfg); ok {
				r.emitTenant(t, h)
			}
		}
	}
	for _, p := range g.People {
		if h, ok := partiallyOffboarded(g, p); ok {
			r.emitUser(p, h)
		}
	}
	return r.out
}

type runner struct {
	cat map[string]*Detection
	g   *graph.Graph
	out []Finding
}

func (r *runner) emit(h hit, e Entity, source string) *Finding {
	d := r.cat[h.title]
	r.out = append(r.out, Finding{
		Title:                d.Title,
		Category:             d.Category,
		Severity:             d.Severity,
		ShortDescription:     h.short,
		FullDescription:      d.FullDescription,
		SuggestedRemediation: d.SuggestedRemediation,
		RiskAndImpact:        d.RiskAndImpact,
		Entity:               e,
		Fingerprint:          Fingerprint(d.Title, e.Key),
		Source:               source,
		Sources:              []string{source},
	})
	return &r.out[len(r.out)-1]
}

func (r *runner) emitAccount(a *graph.Account, h hit) *Finding {
	t := a.Tenant
	e := Entity{
		Type:                EntityAccount,
		Key:                 AccountKey(t.Product, t.Name, a.IDInService),
		DisplayName:         a.Name(),
		IDInService:         a.IDInService,
		IdentifierInService: a.Identifier(),
		SourceProductName:   t.Product,
		SourceProductTenant: t.Name,
		AdditionalData: AdditionalData{
			Username:        a.Identifier(),
			Types:           types(a),
			LastLogin:       a.LastLogin,
			UnrotatedTokens: tokens(h.creds),
			ActiveAccounts:  []AccountRef{},
		},
		Account: a,
		Person:  a.Person,
		Tenant:  t,
	}
	return r.emit(h, e, t.Source)
}

func (r *runner) emitTenant(t *graph.Tenant, h hit) *Finding {
	e := Entity{
		Type:                EntityTenant,
		Key:                 TenantKey(t.Product, t.Name),
		DisplayName:         t.Name,
		IDInService:         t.Name,
		IdentifierInService: t.Name,
		SourceProductName:   t.Product,
		SourceProductTenant: t.Name,
		AdditionalData:      AdditionalData{Types: []TypeReasons{}, UnrotatedTokens: []Token{}, ActiveAccounts: []AccountRef{}},
		Tenant:              t,
	}
	return r.emit(h, e, t.Source)
}

func (r *runner) emitUser(p *graph.Person, h hit) *Finding {
	t := r.g.Primary
	first := p.Primary[0]
	others := p.OtherActive()
	refs := make([]AccountRef, len(others))
	for i, a := range others {
		refs[i] = AccountRef{
			DisplayName:         a.Name(),
			IDInService:         a.IDInService,
			IdentifierInService: a.Identifier(),
			SourceProductName:   a.Tenant.Product,
			SourceProductTenant: a.Tenant.Name,
			Status:              a.Status,
			LastLogin:           a.LastLogin,
		}
	}
	e := Entity{
		Type:                EntityUser,
		Key:                 UserKey(t.Product, t.Name, p.Key),
		DisplayName:         p.DisplayName,
		IDInService:         first.IDInService,
		IdentifierInService: first.Identifier(),
		SourceProductName:   t.Product,
		SourceProductTenant: t.Name,
		AdditionalData: AdditionalData{
			Username:        first.Identifier(),
			Types:           []TypeReasons{},
			LastLogin:       first.LastLogin,
			UnrotatedTokens: []Token{},
			ActiveAccounts:  refs,
		},
		Person: p,
		Tenant: t,
	}
	f := r.emit(h, e, t.Source)
	for _, a := range others {
		if !contains(f.Sources, a.Tenant.Source) {
			f.Sources = append(f.Sources, a.Tenant.Source)
		}
	}
	return f
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// types describes an account's special types for additionalData.types.
func types(a *graph.Account) []TypeReasons {
	out := []TypeReasons{}
	reasons := func(r []string) []string {
		if r == nil {
			return []string{}
		}
		return r
	}
	switch {
	case a.Root:
		out = append(out, TypeReasons{"Root", []string{"AWS account root user"}})
	case a.GlobalAdmin():
		out = append(out, TypeReasons{"Global Admin", reasons(a.PrivilegeReasons)})
	case a.Admin():
		out = append(out, TypeReasons{"Admin", reasons(a.PrivilegeReasons)})
	}
	if a.Service() {
		out = append(out, TypeReasons{"Service Account", reasons(a.KindReasons)})
	}
	return out
}

func tokens(creds []graph.Credential) []Token {
	out := make([]Token, len(creds))
	for i, c := range creds {
		out[i] = Token{ID: c.ID, Name: c.Name, Type: c.Kind, LastUsed: c.LastUsed, LastRotated: c.LastRotated}
		if !c.Created.IsZero() {
			created := c.Created
			out[i].Created = &created
		}
	}
	return out
}

// Fingerprint returns the issue fingerprint of a title raised on an entity
// key: hex SHA-256 of the two, so it is stable across scans and restarts.
func Fingerprint(title, entityKey string) string {
	sum := sha256.Sum256([]byte(title + "\n" + entityKey))
	return hex.EncodeToString(sum[:])
}

// AccountKey is the entity key of an account: its product, tenant and id
// in the source. It does not use Vigil's source name, so renaming a
// configured source keeps its issues.
func AccountKey(product graph.Product, tenant, idInService string) string {
	return keyOf("Account", string(product), tenant, idInService)
}

// UserKey is the entity key of a person: the primary identity provider's
// product and tenant and the person's join key.
func UserKey(product graph.Product, tenant, personKey string) string {
	return keyOf("User", string(product), tenant, personKey)
}

// TenantKey is the entity key of a tenant.
func TenantKey(product graph.Product, tenant string) string {
	return keyOf("Tenant", string(product), tenant)
}

// keyOf joins parts with "|", escaping "|" and "\" inside them so that
// different parts never make the same key.
func keyOf(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('|')
		}
		if strings.ContainsAny(p, `|\`) {
			p = strings.NewReplacer(`\`, `\\`, `|`, `\|`).Replace(p)
		}
		b.WriteString(p)
	}
	return b.String()
}
