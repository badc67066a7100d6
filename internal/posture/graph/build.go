package graph

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error Build and ReadSnapshot return for
// input that breaks the format, so callers can tell bad data from I/O
// failures with errors.Is.
var ErrInvalid = errors.New("invalid identity data")

// Source is what one scan of one configured source produced: its product,
// its tenant and its accounts. It is also a snapshot file's source object.
type Source struct {
	// Name is Vigil's name for the configured source; unique in a graph.
	Name    string  `json:"name"`
	Product Product `json:"product"`
	// Tenant is the tenant as the product names it (sourceProductTenant).
	Tenant   string     `json:"tenant"`
	Accounts []*Account `json:"accounts"`
}

// Options tune Build. The zero value is the documented default.
type Options struct {
	// Primary names the source whose accounts define people. Empty means
	// the first source whose product is Okta. When the named source is
	// absent (for example because its scan failed and the caller left it
	// out), the graph has no primary and no people: lifecycle detections
	// then raise nothing instead of calling everyone an orphan.
	Primary string
	// NoLocalPartMatch turns off the fallback that joins an account with no
	// email address at all (an AWS IAM user named "ali.lesch") to the one
	// person whose address has that local part. The fallback never joins
	// when two people share the local part.
	NoLocalPartMatch bool
}

// Graph is the joined view of every source of one scan. Once built it is
// only read, so any number of goroutines may read it at once.
type Graph struct {
	// Tenants are in the order of the sources given to Build.
	Tenants []*Tenant
	// Accounts are all accounts, source by source, in input order.
	Accounts []*Account
	// People are in the order of their first primary account.
	People []*Person
	// Primary is the primary identity provider's tenant, or nil when there
	// is none.
	Primary *Tenant

	byKey    map[string]*Person
	bySource map[string]*Tenant
}

// Person returns the person with the given join key, or nil.
func (g *Graph) Person(key string) *Person { return g.byKey[key] }

// Tenant returns the tenant of the named source, or nil.
func (g *Graph) Tenant(source string) *Tenant { return g.bySource[source] }

// Build validates the sources and joins their accounts into a graph. It
// takes ownership of the accounts: it fills their defaults (empty kind is
// human, empty privilege is none, Root implies global admin, WeakOnly from
// the factors) and sets their Tenant and Person. Building again from the
// same accounts gives the same graph.
//
// Joining is linear in the number of accounts: one map lookup per key.
// An account joins the first person any of its keys (email, then an
// email-shaped login) already belongs to; two primary accounts with the
// same address are one person.
func Build(sources []Source, opts Options) (*Graph, error) {
	total := 0
	for _, s := range sources {
		total += len(s.Accounts)
	}
	g := &Graph{
		Tenants:  make([]*Tenant, 0, len(sources)),
		Accounts: make([]*Account, 0, total),
		bySource: make(map[string]*Tenant, len(sources)),
	}
	var names shared
	for i := range sources {
		s := &sources[i]
		if err := validateSource(s); err != nil {
			return nil, fmt.Errorf("source %d: %w", i, err)
		}
		if _, dup := g.bySource[s.Name]; dup {
			return nil, invalidf("source %d: the name %q is used twice", i, s.Name)
		}
		t := &Tenant{Source: s.Name, Product: s.Product, Name: s.Tenant}
		g.Tenants = append(g.Tenants, t)
		g.bySource[s.Name] = t
		if g.Primary == nil && (s.Name == opts.Primary || opts.Primary == "" && s.Product == ProductOkta) {
			t.Primary = true
			g.Primary = t
		}
		ids := make(map[string]struct{}, len(s.Accounts))
		for j, a := range s.Accounts {
			if a == nil {
				return nil, invalidf("source %q, account %d: the account is null", s.Name, j)
			}
			if err := validateAccount(a); err != nil {
				return nil, fmt.Errorf("source %q, account %d: %w", s.Name, j, err)
			}
			if _, dup := ids[a.IDInService]; dup {
				return nil, invalidf("source %q, account %d: the idInService %q appears twice", s.Name, j, a.IDInService)
			}
			ids[a.IDInService] = struct{}{}
			a.normalize()
			a.share(&names)
			a.Tenant = t
			a.Person = nil
			t.Counts.add(a)
			g.Accounts = append(g.Accounts, a)
		}
	}
	g.join(opts)
	return g, nil
}

// join makes people from the primary source's accounts and attaches every
// other account to the person it matches.
func (g *Graph) join(opts Options) {
	if g.Primary == nil {
		g.byKey = map[string]*Person{}
		return
	}
	g.byKey = make(map[string]*Person, g.Primary.Counts.Accounts)
	for _, a := range g.Accounts {
		if a.Tenant != g.Primary {
			continue
		}
		k1, k2 := joinKeys(a)
		p := g.lookup(k1, k2)
		if p == nil {
			key := k1
			if key == "" {
				key = "id:" + a.IDInService
			}
			email := a.Email
			if email == "" && k1 != "" {
				email = a.Login
			}
			p = &Person{Key: key, Email: email, DisplayName: a.Name()}
			g.People = append(g.People, p)
			g.byKey[key] = p
		}
		for _, k := range [2]string{k1, k2} {
			if _, taken := g.byKey[k]; k != "" && !taken {
				g.byKey[k] = p
			}
		}
		a.Person = p
		p.Primary = append(p.Primary, a)
		p.Accounts = append(p.Accounts, a)
	}

	var byLocal map[string]*Person // built on first need; nil value = ambiguous
	for _, a := range g.Accounts {
		if a.Tenant == g.Primary {
			continue
		}
		p := g.lookup(joinKeys(a))
		if p == nil && !opts.NoLocalPartMatch {
			if name := localName(a); name != "" {
				if byLocal == nil {
					byLocal = g.localParts()
				}
				p = byLocal[name]
			}
		}
		if p == nil {
			continue
		}
		a.Person = p
		p.Accounts = append(p.Accounts, a)
	}
}

func (g *Graph) lookup(k1, k2 string) *Person {
	if k1 != "" {
		if p := g.byKey[k1]; p != nil {
			return p
		}
	}
	if k2 != "" {
		return g.byKey[k2]
	}
	return nil
}

// localParts maps the local part of every person's address keys to that
// person, or to nil when two people share it.
func (g *Graph) localParts() map[string]*Person {
	m := make(map[string]*Person, len(g.People))
	for key, p := range g.byKey {
		at := len(key) - 1
		for at >= 0 && key[at] != '@' {
			at--
		}
		if at <= 0 {
			continue
		}
		local := key[:at]
		if q, seen := m[local]; seen && q != p {
			m[local] = nil
			continue
		}
		m[local] = p
	}
	return m
}

func validateSource(s *Source) error {
	switch {
	case s.Name == "":
		return invalidf("the name is empty")
	case !s.Product.Valid():
		return invalidf("the product %q is not one of Okta, AAD, Google Workspace, Salesforce.com, AWS", s.Product)
	case s.Tenant == "":
		return invalidf("the tenant is empty")
	}
	return nil
}

// invalidError is a validation failure: its message alone is shown, and
// errors.Is matches it to ErrInvalid and to its cause, if any.
type invalidError struct {
	msg   string
	cause error
}

func (e *invalidError) Error() string { return e.msg }

// Is makes errors.Is(err, ErrInvalid) true for every validation failure.
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }
func (e *invalidError) Unwrap() error        { return e.cause }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// fieldError names the offending field of an account or credential.
type fieldError struct {
	Field string
	Msg   string
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Msg }
func (e *fieldError) Unwrap() error { return ErrInvalid }

func validateAccount(a *Account) error {
	switch {
	case a.IDInService == "":
		return &fieldError{"idInService", "is required"}
	case a.Status == "":
		return &fieldError{"status", "is required (active, staged, suspended or deprovisioned)"}
	case !a.Status.Valid():
		return &fieldError{"status", fmt.Sprintf("%q is not active, staged, suspended or deprovisioned", a.Status)}
	case !a.Kind.Valid():
		return &fieldError{"kind", fmt.Sprintf("%q is not human or service", a.Kind)}
	case !a.Privilege.Valid():
		return &fieldError{"privilege", fmt.Sprintf("%q is not none, admin or global_admin", a.Privilege)}
	case !a.MFA.State.Valid():
		return &fieldError{"mfa.state", fmt.Sprintf("%q is not none, pending or enrolled", a.MFA.State)}
	}
	for i, c := range a.Credentials {
		switch {
		case c.ID == "":
			return &fieldError{fmt.Sprintf("credentials[%d].id", i), "is required"}
		case !c.Kind.Valid():
			return &fieldError{fmt.Sprintf("credentials[%d].kind", i), fmt.Sprintf("%q is not api_token, client_secret or access_key", c.Kind)}
		}
	}
	return nil
}
