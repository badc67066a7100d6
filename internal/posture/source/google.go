package source

import (
	"context"
	"errors"
	"strings"

	"github.com/vigil-ispm/vigil/internal/google"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// googleReader reads a Google Workspace's users through the Admin SDK
// Directory API, acting as an admin through domain-wide delegation.
type googleReader struct {
	name   string
	tenant string
	client *google.Client
	m      *meter
}

func (s *Service) newGoogleReader(name string, set Settings, cred Credentials, m *meter) (Reader, error) {
	c, err := google.New(google.Config{CredentialsJSON: []byte(cred.ServiceAccountKey), Subject: set.Subject,
		Scopes: []string{google.ScopeUserReadonly}, BaseURL: set.URL, Customer: set.Customer,
		HTTPClient: m.client(s.httpClient()), Retry: s.retry()})
	if err != nil {
		return nil, err
	}
	tenant := set.Tenant
	if tenant == "" {
		if _, domain, ok := strings.Cut(set.Subject, "@"); ok {
			tenant = strings.ToLower(domain)
		}
	}
	return &googleReader{name: name, tenant: tenant, client: c, m: m}, nil
}

func (r *googleReader) Read(ctx context.Context, _ ProgressFunc) (*Result, error) {
	r.m.stepTo("users")
	users, err := r.client.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(users))
	accounts := make([]*graph.Account, 0, len(users))
	for _, u := range users {
		if u.ID == "" {
			return nil, errors.New("google: list users: Google returned a user without an id")
		}
		if seen[u.ID] {
			continue
		}
		seen[u.ID] = true
		accounts = append(accounts, googleAccount(u))
	}
	r.m.setAccounts(len(accounts))
	return &Result{Parts: []graph.Source{{Name: r.name, Product: graph.ProductGoogle, Tenant: r.tenant, Accounts: accounts}}}, nil
}

// googleAccount maps a Workspace user. 2-Step Verification says whether a
// second factor is on, not which: the factor types stay unknown.
func googleAccount(u google.User) *graph.Account {
	a := &graph.Account{IDInService: u.ID, Login: u.PrimaryEmail, Email: u.PrimaryEmail, DisplayName: u.FullName,
		Status: graph.StatusActive, Kind: graph.KindHuman, Created: u.CreationTime}
	switch {
	case u.Archived:
		a.Status = graph.StatusDeprovisioned
	case u.Suspended:
		a.Status = graph.StatusSuspended
	}
	switch {
	case u.IsAdmin:
		a.Privilege = graph.PrivilegeGlobalAdmin
		a.PrivilegeReasons = []string{"Super admin"}
	case u.IsDelegatedAdmin:
		a.Privilege = graph.PrivilegeAdmin
		a.PrivilegeReasons = []string{"Delegated admin role"}
	}
	a.MFA.State = graph.MFANone
	if u.IsEnrolledIn2Sv {
		a.MFA.State = graph.MFAEnrolled
	}
	enforced := u.IsEnforcedIn2Sv
	a.MFA.Enforced = &enforced
	if !u.LastLoginTime.IsZero() {
		t := u.LastLoginTime
		a.LastLogin = &t
	}
	return a
}
