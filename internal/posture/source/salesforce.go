package source

import (
	"context"
	"errors"
	"slices"

	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/salesforce"
)

// salesforceReader reads a Salesforce org's users and the permission sets
// and profiles that give Modify All Data or View All Data.
type salesforceReader struct {
	name   string
	tenant string
	client *salesforce.Client
	m      *meter
}

func (s *Service) newSalesforceReader(name string, set Settings, cred Credentials, m *meter) (Reader, error) {
	c, err := salesforce.New(salesforce.Config{InstanceURL: set.URL, ClientID: set.ClientID, ClientSecret: cred.ClientSecret,
		APIVersion: set.APIVersion, HTTPClient: m.client(s.httpClient()), Retry: s.retry()})
	if err != nil {
		return nil, err
	}
	tenant := set.Tenant
	if tenant == "" {
		tenant = hostOf(set.URL)
	}
	return &salesforceReader{name: name, tenant: tenant, client: c, m: m}, nil
}

func (r *salesforceReader) Read(ctx context.Context, _ ProgressFunc) (*Result, error) {
	r.m.stepTo("users")
	users, err := r.client.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*graph.Account, len(users))
	profiles := make(map[string]string, len(users))
	accounts := make([]*graph.Account, 0, len(users))
	for _, u := range users {
		if u.ID == "" {
			return nil, errors.New("salesforce: query User: Salesforce returned a user without an Id")
		}
		if byID[u.ID] != nil {
			continue
		}
		a := salesforceAccount(u)
		byID[u.ID] = a
		profiles[u.ID] = u.ProfileName
		accounts = append(accounts, a)
	}
	r.m.setAccounts(len(accounts))

	r.m.stepTo("admin permissions")
	grants, err := r.client.ListAdminGrants(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		a := byID[g.UserID]
		if a == nil {
			continue
		}
		via := "permission set " + orName(g.Label, g.PermissionSet)
		if g.ViaProfile {
			via = "profile " + orName(profiles[g.UserID], g.Label)
		}
		if g.ModifyAllData {
			grant(a, false, "Modify All Data through "+via)
		}
		if g.ViewAllData {
			grant(a, false, "View All Data through "+via)
		}
	}
	return &Result{Parts: []graph.Source{{Name: r.name, Product: graph.ProductSalesforce, Tenant: r.tenant, Accounts: accounts}}}, nil
}

func orName(label, name string) string {
	if label != "" {
		return label
	}
	return name
}

// salesforceHumanTypes are the user types of people: employees, and
// partner and customer community members. Other types (AutomatedProcess,
// Guest, integration users) belong to machines or anonymous sites.
var salesforceHumanTypes = []string{"Standard", "PowerPartner", "PowerCustomerSuccess", "CustomerSuccess", "CspLitePortal",
	"CSPLitePortal", "SelfService"}

// salesforceAccount maps a Salesforce user. Salesforce does not report
// MFA through the User object, so MFA stays unknown.
func salesforceAccount(u salesforce.User) *graph.Account {
	a := &graph.Account{IDInService: u.ID, Login: u.Username, Email: u.Email, DisplayName: u.Name,
		Status: graph.StatusActive, Kind: graph.KindHuman, Created: u.CreatedDate}
	if !u.IsActive {
		a.Status = graph.StatusSuspended
	}
	if u.UserType != "" && !slices.Contains(salesforceHumanTypes, u.UserType) {
		a.Kind = graph.KindService
		a.KindReasons = []string{"Salesforce user type " + u.UserType}
	}
	if !u.LastLoginDate.IsZero() {
		t := u.LastLoginDate
		a.LastLogin = &t
	}
	if !u.LastPasswordChangeDate.IsZero() {
		t := u.LastPasswordChangeDate
		a.PasswordChanged = &t
	}
	return a
}
