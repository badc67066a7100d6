package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-ispm/vigil/internal/entra"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// entraReader reads a Microsoft Entra ID tenant through Microsoft Graph:
// users with their sign-in activity, MFA registration, directory roles,
// and the service principals that hold a role or a client secret.
type entraReader struct {
	name   string
	tenant string
	client *entra.Client
	now    func() time.Time
	m      *meter
}

func (s *Service) newEntraReader(name string, set Settings, cred Credentials, m *meter) (Reader, error) {
	c, err := entra.New(entra.Config{TenantID: set.Tenant, ClientID: set.ClientID, ClientSecret: cred.ClientSecret,
		GraphURL: set.GraphURL, LoginURL: set.LoginURL, HTTPClient: m.client(s.httpClient()), PageSize: s.cfg.PageSize,
		Retry: s.retry()})
	if err != nil {
		return nil, err
	}
	return &entraReader{name: name, tenant: set.Tenant, client: c, now: s.cfg.Now, m: m}, nil
}

func (r *entraReader) Read(ctx context.Context, _ ProgressFunc) (*Result, error) {
	c := r.client
	res := &Result{}
	r.m.stepTo("organization")
	tenant := r.tenant
	org, err := c.Organization(ctx)
	switch {
	case err == nil:
		if d := org.DefaultDomain(); d != "" {
			tenant = d
		}
	case errors.Is(err, entra.ErrForbidden):
		// Organization.Read.All is optional: the configured tenant names it.
	default:
		return nil, err
	}

	r.m.stepTo("users")
	users, err := c.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	// Graph leaves signInActivity out both for a user who never signed in
	// and for every user of a tenant without the licence it needs. When no
	// user has it, it is the licence: "never signed in" would be a guess,
	// so the creation date is left unknown and Unused Account stays quiet.
	activity := slices.ContainsFunc(users, func(u entra.User) bool { return u.SignInActivity != nil })
	byID := make(map[string]*graph.Account, len(users))
	accounts := make([]*graph.Account, 0, len(users))
	for _, u := range users {
		if u.ID == "" {
			return nil, errors.New("entra: list users: Microsoft Graph returned a user without an id")
		}
		if byID[u.ID] != nil {
			continue
		}
		a := &graph.Account{IDInService: u.ID, Login: u.UserPrincipalName, Email: u.Mail, DisplayName: u.DisplayName,
			Status: graph.StatusActive, Kind: graph.KindHuman}
		if !u.AccountEnabled {
			a.Status = graph.StatusSuspended
		}
		if !u.LastPasswordChangeDateTime.IsZero() {
			t := u.LastPasswordChangeDateTime
			a.PasswordChanged = &t
		}
		if activity {
			a.Created = u.CreatedDateTime
			if u.SignInActivity != nil && !u.SignInActivity.LastSignInDateTime.IsZero() {
				t := u.SignInActivity.LastSignInDateTime
				a.LastLogin = &t
			}
		}
		byID[u.ID] = a
		accounts = append(accounts, a)
	}
	if !activity && len(users) > 0 {
		res.Warnings = append(res.Warnings, "Microsoft Graph returned no sign-in activity (it needs an Entra ID P1 licence and AuditLog.Read.All); unused-account checks are skipped for this tenant.")
	}
	r.m.setAccounts(len(accounts))

	r.m.stepTo("MFA registration")
	details, err := c.ListRegistrationDetails(ctx)
	switch {
	case err == nil:
		for _, d := range details {
			if a := byID[d.ID]; a != nil {
				a.MFA = entraMFA(d)
			}
		}
	case errors.Is(err, entra.ErrForbidden):
		res.Warnings = append(res.Warnings, fmt.Sprintf("Microsoft Graph refused the MFA registration report (%v); MFA checks are skipped for this tenant.", err))
	default:
		return nil, err
	}

	r.m.stepTo("directory roles")
	roles, err := c.ListDirectoryRoles(ctx)
	if err != nil {
		return nil, err
	}
	r.m.stepTo("service principals")
	sps, err := c.ListServicePrincipals(ctx)
	if err != nil {
		return nil, err
	}
	apps, err := c.ListApplications(ctx)
	if err != nil {
		return nil, err
	}
	spAccounts := r.servicePrincipals(sps, apps, roles)
	for _, a := range spAccounts {
		if byID[a.IDInService] == nil {
			byID[a.IDInService] = a
			accounts = append(accounts, a)
		}
	}
	for _, role := range roles {
		for _, mem := range role.Members {
			a := byID[mem.ID]
			if a == nil {
				if mem.Kind() == "group" {
					res.Warnings = append(res.Warnings, fmt.Sprintf("The %s role is assigned to the group %s, whose members Vigil does not read; they are not counted as admins.", role.DisplayName, mem.DisplayName))
				}
				continue
			}
			grant(a, role.IsGlobalAdministrator(), role.DisplayName+" role")
		}
	}
	r.m.setAccounts(len(accounts))
	res.Parts = []graph.Source{{Name: r.name, Product: graph.ProductAAD, Tenant: tenant, Accounts: accounts}}
	return res, nil
}

// grant raises an account's privilege and adds a reason.
func grant(a *graph.Account, global bool, reason string) {
	switch {
	case global:
		a.Privilege = graph.PrivilegeGlobalAdmin
	case a.Privilege != graph.PrivilegeGlobalAdmin:
		a.Privilege = graph.PrivilegeAdmin
	}
	if !slices.Contains(a.PrivilegeReasons, reason) {
		a.PrivilegeReasons = append(a.PrivilegeReasons, reason)
	}
}

// servicePrincipals returns an account for each service principal that
// holds a directory role or a client secret (its own or its app
// registration's): those are the machine identities that matter. Their
// use is not read, so their creation date is left unknown and they never
// count as unused.
func (r *entraReader) servicePrincipals(sps []entra.ServicePrincipal, apps []entra.Application, roles []entra.DirectoryRole) []*graph.Account {
	now := r.now()
	appByID := make(map[string]*entra.Application, len(apps))
	for i := range apps {
		appByID[apps[i].AppID] = &apps[i]
	}
	inRole := map[string]bool{}
	for _, role := range roles {
		for _, mem := range role.Members {
			inRole[mem.ID] = true
		}
	}
	var out []*graph.Account
	for _, sp := range sps {
		creds := slices.Clone(sp.PasswordCredentials)
		if app := appByID[sp.AppID]; app != nil {
			creds = append(creds, app.PasswordCredentials...)
		}
		if len(creds) == 0 && !inRole[sp.ID] {
			continue
		}
		a := &graph.Account{IDInService: sp.ID, Login: sp.AppID, DisplayName: sp.DisplayName, Status: graph.StatusActive,
			Kind: graph.KindService, KindReasons: []string{"Entra service principal"}}
		if !sp.AccountEnabled {
			a.Status = graph.StatusSuspended
		}
		seen := map[string]bool{}
		for _, c := range creds {
			if c.KeyID == "" || seen[c.KeyID] {
				continue
			}
			seen[c.KeyID] = true
			a.Credentials = append(a.Credentials, graph.Credential{ID: c.KeyID, Name: c.DisplayName,
				Kind: graph.CredentialClientSecret, Active: !c.Expired(now), Created: c.StartDateTime})
		}
		out = append(out, a)
	}
	return out
}

// entraMFA reads a user's registration details: enrolled when a strong
// method is registered, with the methods as factor types.
func entraMFA(d entra.RegistrationDetail) graph.MFA {
	if !d.IsMfaRegistered {
		return graph.MFA{State: graph.MFANone}
	}
	var fs []string
	for _, m := range d.MethodsRegistered {
		if t := entraMethod(m); t != "" && !slices.Contains(fs, t) {
			fs = append(fs, t)
		}
	}
	return graph.MFA{State: graph.MFAEnrolled, Factors: fs}
}

// entraMethod maps Graph's methodsRegistered values to factor types; ""
// for methods that are not a second factor.
func entraMethod(m string) string {
	switch m {
	case "mobilePhone", "alternateMobilePhone", "sms":
		return graph.FactorSMS
	case "officePhone", "voiceMobile", "voiceAlternateMobile", "voiceOffice":
		return graph.FactorVoice
	case "email":
		return graph.FactorEmail
	case "microsoftAuthenticatorPush", "microsoftAuthenticatorPasswordless":
		return graph.FactorPush
	case "softwareOneTimePasscode":
		return graph.FactorTOTP
	case "hardwareOneTimePasscode":
		return graph.FactorHardware
	case "fido2", "passKeyDeviceBound", "passKeyDeviceBoundAuthenticator", "passKeyDeviceBoundWindowsHello",
		"windowsHelloForBusiness", "macOsSecureEnclaveKey", "platformCredential":
		return graph.FactorWebAuthn
	case "securityQuestion", "temporaryAccessPass", "appPassword", "":
		return ""
	}
	return m
}
