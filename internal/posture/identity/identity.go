// Package identity serves the identity inventory: the people and accounts
// the last scan found, with their privilege, MFA, credentials and issues,
// as the console, the API and the CLI list and show them. Scans write the
// inventory (internal/posture/source) in the transaction that reconciles
// issues, so an identity and its issues always come from the same scan.
package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/store"
)

// ErrNotFound is matched by the error of a lookup of a person that does
// not exist.
var ErrNotFound = store.ErrNotFound

// InvalidError is a filter that cannot be applied; its message is one
// sentence for the user and Field names the parameter at fault.
type InvalidError = input.InvalidError

// InactiveDays is how long without a sign-in makes an active account
// inactive, as the detection catalog's "Unused" titles count.
const InactiveDays = 90

// MaxLimit bounds a page.
const MaxLimit = 500

// Filter selects people or accounts; see store.IdentityFilter for how
// account conditions combine.
type Filter = store.IdentityFilter

// Values of the filter parameters.
var (
	MFAStates  = []string{"none", "pending", "enrolled", "unknown"}
	Kinds      = []string{"human", "service"}
	Statuses   = []string{"active", "staged", "suspended", "deprovisioned"}
	Activities = []string{"active", "inactive"}
)

// ParseFilter reads the filter parameters shared by the console and the
// API: q, source, privileged (true|false), mfa, type, status, activity
// (active|inactive: signed in within InactiveDays or not), minIssues,
// limit and offset. A bad value is an *InvalidError.
func ParseFilter(q url.Values, now time.Time) (Filter, error) {
	f := Filter{Search: strings.TrimSpace(q.Get("q")), Source: strings.TrimSpace(q.Get("source"))}
	if v := q.Get("privileged"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, &InvalidError{Field: "privileged", Message: fmt.Sprintf("privileged is %q; give true or false.", v)}
		}
		f.Privileged = &b
	}
	pick := func(name, v string, allowed []string) (string, error) {
		if v == "" || slices.Contains(allowed, v) {
			return v, nil
		}
		return "", &InvalidError{Field: name, Message: fmt.Sprintf("%s is %q; give one of %s.", name, v, strings.Join(allowed, ", "))}
	}
	var err error
	if f.MFA, err = pick("mfa", q.Get("mfa"), MFAStates); err != nil {
		return f, err
	}
	if f.Kind, err = pick("type", q.Get("type"), Kinds); err != nil {
		return f, err
	}
	if f.Status, err = pick("status", q.Get("status"), Statuses); err != nil {
		return f, err
	}
	activity, err := pick("activity", q.Get("activity"), Activities)
	if err != nil {
		return f, err
	}
	cutoff := now.Add(-InactiveDays * 24 * time.Hour)
	switch activity {
	case "active":
		f.ActiveSince = cutoff
	case "inactive":
		f.InactiveBefore = cutoff
	}
	num := func(name string, max int) (int, error) {
		v := q.Get(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > max {
			return 0, &InvalidError{Field: name, Message: fmt.Sprintf("%s is %q; give a whole number from 0 to %d.", name, v, max)}
		}
		return n, nil
	}
	if f.MinIssues, err = num("minIssues", 1_000_000); err != nil {
		return f, err
	}
	if f.Limit, err = num("limit", MaxLimit); err != nil {
		return f, err
	}
	if f.Offset, err = num("offset", 10_000_000); err != nil {
		return f, err
	}
	return f, nil
}

// Person is a person of the inventory.
type Person struct {
	ID          string     `json:"id"`
	DisplayName string     `json:"displayName"`
	Email       string     `json:"email"`
	Status      string     `json:"status"`
	Accounts    int        `json:"accounts"`
	LastLogin   *time.Time `json:"lastLogin,omitempty"`
	OpenIssues  int        `json:"openIssues"`
	ScannedAt   time.Time  `json:"scannedAt"`
}

// Credential is a token, client secret or access key of an account, with
// its age; never the secret.
type Credential struct {
	ID          string     `json:"id"`
	Name        string     `json:"name,omitempty"`
	Kind        string     `json:"kind"`
	Active      bool       `json:"active"`
	Created     *time.Time `json:"created,omitempty"`
	LastUsed    *time.Time `json:"lastUsed,omitempty"`
	LastRotated *time.Time `json:"lastRotated,omitempty"`
	// AgeDays counts the days since the secret was last set.
	AgeDays int `json:"ageDays"`
}

// Account is an account of the inventory.
type Account struct {
	ID                  string       `json:"id"`
	PersonID            string       `json:"personId,omitempty"`
	PersonName          string       `json:"personName,omitempty"`
	Source              string       `json:"source"`
	SourceProductName   string       `json:"sourceProductName"`
	SourceProductTenant string       `json:"sourceProductTenant"`
	IDInService         string       `json:"idInService"`
	Login               string       `json:"login,omitempty"`
	Email               string       `json:"email,omitempty"`
	DisplayName         string       `json:"displayName,omitempty"`
	Status              string       `json:"status"`
	Type                string       `json:"type"`
	Privilege           string       `json:"privilege"`
	PrivilegeReasons    []string     `json:"privilegeReasons"`
	MFA                 string       `json:"mfa"`
	MFAFactors          []string     `json:"mfaFactors"`
	Root                bool         `json:"root,omitempty"`
	Created             *time.Time   `json:"created,omitempty"`
	LastLogin           *time.Time   `json:"lastLogin,omitempty"`
	PasswordChanged     *time.Time   `json:"passwordChanged,omitempty"`
	Credentials         []Credential `json:"credentials"`
	OpenIssues          int          `json:"openIssues"`
}

// Issue is an issue of a person or of one of their accounts.
type Issue struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Severity   string    `json:"severity"`
	Status     string    `json:"status"`
	Product    string    `json:"sourceProductName"`
	AccountID  string    `json:"accountId,omitempty"`
	DetectedAt time.Time `json:"detectedAt"`
}

// PersonDetail is a person with every account and every issue.
type PersonDetail struct {
	Person
	AccountList []Account `json:"accountList"`
	Issues      []Issue   `json:"issues"`
}

// Service reads the inventory.
type Service struct {
	st  *store.Store
	now func() time.Time
}

// New returns a Service over st; now defaults to time.Now.
func New(st *store.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, now: now}
}

// Now is the service's clock, for ParseFilter.
func (s *Service) Now() time.Time { return s.now() }

// People returns one page of the people f selects, by name, and the total.
func (s *Service) People(ctx context.Context, f Filter) ([]Person, int, error) {
	rows, total, err := s.st.IdentityPeople(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list people: %w", err)
	}
	out := make([]Person, 0, len(rows))
	for _, p := range rows {
		out = append(out, personOf(p))
	}
	return out, total, nil
}

// Accounts returns one page of the accounts f selects and the total.
func (s *Service) Accounts(ctx context.Context, f Filter) ([]Account, int, error) {
	rows, total, err := s.st.IdentityAccounts(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list accounts: %w", err)
	}
	out := make([]Account, 0, len(rows))
	for _, a := range rows {
		out = append(out, s.accountOf(a))
	}
	return out, total, nil
}

// Person returns a person with every account and issue; ErrNotFound if
// there is none.
func (s *Service) Person(ctx context.Context, id string) (*PersonDetail, error) {
	p, err := s.st.IdentityPerson(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read person %s: %w", id, err)
	}
	d := &PersonDetail{Person: personOf(p), AccountList: []Account{}, Issues: []Issue{}}
	accounts, _, err := s.Accounts(ctx, Filter{PersonID: id, Limit: MaxLimit})
	if err != nil {
		return nil, err
	}
	d.AccountList = append(d.AccountList, accounts...)
	byKey := map[string]string{}
	rows, _, err := s.st.IdentityAccounts(ctx, Filter{PersonID: id, Limit: MaxLimit})
	if err != nil {
		return nil, err
	}
	for _, a := range rows {
		byKey[a.EntityKey] = a.ID
	}
	issues, err := s.st.IdentityIssues(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read the issues of person %s: %w", id, err)
	}
	for _, i := range issues {
		d.Issues = append(d.Issues, Issue{ID: i.ID, Title: i.Title, Severity: i.Severity, Status: i.Status,
			Product: i.Product, AccountID: byKey[i.EntityKey], DetectedAt: i.DetectedAt})
	}
	return d, nil
}

// IsNotFound tells whether err says a person does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func personOf(p *store.IdentityPerson) Person {
	return Person{ID: p.ID, DisplayName: p.DisplayName, Email: p.Email, Status: p.Status, Accounts: p.Accounts,
		LastLogin: timePtr(p.LastLogin), OpenIssues: p.OpenIssues, ScannedAt: p.ScannedAt}
}

// storedCredential is a credential as the scan stored it (graph.Credential).
type storedCredential struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Kind        string     `json:"kind"`
	Active      bool       `json:"active"`
	Created     time.Time  `json:"created"`
	LastUsed    *time.Time `json:"lastUsed"`
	LastRotated *time.Time `json:"lastRotated"`
}

func (s *Service) accountOf(a *store.IdentityAccount) Account {
	out := Account{ID: a.ID, PersonID: a.PersonID, PersonName: a.PersonName, Source: a.Source, SourceProductName: a.Product,
		SourceProductTenant: a.Tenant, IDInService: a.IDInService, Login: a.Login, Email: a.Email, DisplayName: a.DisplayName,
		Status: a.Status, Type: a.Kind, Privilege: a.Privilege, PrivilegeReasons: []string{}, MFA: a.MFA, MFAFactors: []string{},
		Root: a.Root, Created: timePtr(a.CreatedAt), LastLogin: timePtr(a.LastLogin), PasswordChanged: timePtr(a.PasswordChanged),
		Credentials: []Credential{}, OpenIssues: a.OpenIssues}
	if out.MFA == "" {
		out.MFA = "unknown"
	}
	_ = json.Unmarshal([]byte(a.PrivilegeReasons), &out.PrivilegeReasons)
	_ = json.Unmarshal([]byte(a.MFAFactors), &out.MFAFactors)
	var creds []storedCredential
	_ = json.Unmarshal([]byte(a.Credentials), &creds)
	now := s.now()
	for _, c := range creds {
		set := c.Created
		if c.LastRotated != nil {
			set = *c.LastRotated
		}
		cr := Credential{ID: c.ID, Name: c.Name, Kind: c.Kind, Active: c.Active, Created: timePtr(c.Created),
			LastUsed: c.LastUsed, LastRotated: c.LastRotated}
		if !set.IsZero() {
			cr.AgeDays = int(now.Sub(set).Hours() / 24)
		}
		out.Credentials = append(out.Credentials, cr)
	}
	return out
}
