package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigil-ispm/vigil/internal/okta"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

// oktaReader reads an Okta org: users of every status, the factors of
// active users, admin roles (direct and through groups), API tokens, and
// the policies that tell whether MFA is required of super admins.
type oktaReader struct {
	name        string
	tenant      string
	client      *okta.Client
	concurrency int
	now         func() time.Time
	m           *meter
}

// OktaScopes are the OAuth scopes a scan asks an Okta service app for.
func OktaScopes() []string {
	return []string{"okta.users.read", "okta.groups.read", "okta.roles.read", "okta.apiTokens.read",
		"okta.policies.read", "okta.factors.read"}
}

func (s *Service) newOktaReader(name string, set Settings, cred Credentials, m *meter) (Reader, error) {
	cfg := okta.Config{BaseURL: set.URL, Token: cred.Token, HTTPClient: m.client(s.httpClient()), PageSize: s.cfg.PageSize,
		Retry: s.retry()}
	if cred.PrivateKey != "" {
		key, kid, err := okta.ParsePrivateKey([]byte(cred.PrivateKey))
		if err != nil {
			return nil, err
		}
		if set.KeyID != "" {
			kid = set.KeyID
		}
		scopes := set.Scopes
		if len(scopes) == 0 {
			scopes = OktaScopes()
		}
		cfg.Token = ""
		cfg.OAuth = &okta.OAuthConfig{ClientID: set.ClientID, Key: key, KeyID: kid, Scopes: scopes}
	}
	c, err := okta.New(cfg)
	if err != nil {
		return nil, err
	}
	tenant := set.Tenant
	if tenant == "" {
		tenant = hostOf(set.URL)
	}
	return &oktaReader{name: name, tenant: tenant, client: c, concurrency: s.cfg.Concurrency, now: s.cfg.Now, m: m}, nil
}

func (r *oktaReader) Read(ctx context.Context, _ ProgressFunc) (*Result, error) {
	c := r.client
	res := &Result{}

	r.m.stepTo("users")
	users, err := c.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	accounts := make([]*graph.Account, 0, len(users))
	byID := make(map[string]*graph.Account, len(users))
	for i := range users {
		u := &users[i]
		if u.ID == "" {
			return nil, errors.New("okta: list users: Okta returned a user without an id")
		}
		if byID[u.ID] != nil {
			continue // a user whose status changed between the two lists
		}
		a := oktaAccount(u)
		byID[u.ID] = a
		accounts = append(accounts, a)
	}
	r.m.setAccounts(len(accounts))

	r.m.stepTo("admin roles")
	userRoles, err := r.userRoles(ctx, byID)
	if err != nil {
		return nil, err
	}
	r.m.stepTo("groups")
	groups, err := c.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	ms := newMembership()
	groupRoles, err := r.groupRoles(ctx, groups, userRoles, ms)
	if err != nil {
		return nil, err
	}
	superAdmins := applyOktaRoles(byID, userRoles, groups, groupRoles, ms)

	r.m.stepTo("factors")
	if err := r.factors(ctx, accounts); err != nil {
		return nil, err
	}

	r.m.stepTo("API tokens")
	tokens, err := c.ListAPITokens(ctx)
	if err != nil {
		return nil, err
	}
	now := r.now()
	for _, t := range tokens {
		a := byID[t.UserID]
		if a == nil {
			continue // owned by a user neither list returned
		}
		a.Credentials = append(a.Credentials, graph.Credential{ID: t.ID, Name: t.Name, Kind: graph.CredentialAPIToken,
			Active: t.ExpiresAt == nil || t.ExpiresAt.After(now), Created: t.Created})
	}

	if len(superAdmins) > 0 {
		r.m.stepTo("policies")
		warn, err := r.mfaEnforcement(ctx, superAdmins, groups, ms)
		if err != nil {
			return nil, err
		}
		if warn != "" {
			res.Warnings = append(res.Warnings, warn)
		}
	}
	res.Parts = []graph.Source{{Name: r.name, Product: graph.ProductOkta, Tenant: r.tenant, Accounts: accounts}}
	return res, nil
}

// oktaAccount maps an Okta user; roles, factors and tokens are added later.
func oktaAccount(u *okta.User) *graph.Account {
	p := &u.Profile
	a := &graph.Account{
		IDInService:     u.ID,
		Login:           p.Login,
		Email:           p.Email,
		DisplayName:     p.DisplayName,
		Status:          oktaStatus(u.Status),
		Created:         u.Created,
		LastLogin:       u.LastLogin,
		PasswordChanged: u.PasswordChanged,
	}
	if a.DisplayName == "" {
		a.DisplayName = strings.TrimSpace(p.FirstName + " " + p.LastName)
	}
	if t := p.UserType; strings.Contains(strings.ToLower(t), "service") {
		a.Kind = graph.KindService
		a.KindReasons = []string{"Okta user type " + t}
	}
	return a
}

// oktaStatus maps Okta's user statuses. Temporary sign-in states count as
// active: the account exists and will be usable again. An unknown status
// counts as active too, so that it is checked rather than ignored.
func oktaStatus(s string) graph.Status {
	switch s {
	case okta.StatusStaged, okta.StatusProvisioned:
		return graph.StatusStaged
	case okta.StatusSuspended:
		return graph.StatusSuspended
	case okta.StatusDeprovisioned:
		return graph.StatusDeprovisioned
	}
	return graph.StatusActive
}

// userRoles reads the admin roles of every user holding one.
func (r *oktaReader) userRoles(ctx context.Context, byID map[string]*graph.Account) (map[string][]okta.Role, error) {
	assignees, err := r.client.ListRoleAssignees(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]okta.Role{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.concurrency)
	seen := map[string]bool{}
	for _, as := range assignees {
		if seen[as.ID] || byID[as.ID] == nil {
			continue
		}
		seen[as.ID] = true
		g.Go(func() error {
			roles, err := r.client.ListUserRoles(gctx, as.ID)
			if err != nil {
				return err
			}
			mu.Lock()
			out[as.ID] = roles
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// membership records the members of the groups a read looked into.
type membership struct {
	mu     sync.Mutex
	read   map[string]bool            // group ids whose members were read
	byUser map[string]map[string]bool // user id → group ids
}

func newMembership() *membership {
	return &membership{read: map[string]bool{}, byUser: map[string]map[string]bool{}}
}

func (ms *membership) add(groupID string, users []okta.User) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.read[groupID] = true
	for _, u := range users {
		if ms.byUser[u.ID] == nil {
			ms.byUser[u.ID] = map[string]bool{}
		}
		ms.byUser[u.ID][groupID] = true
	}
}

// readMembers reads the members of the groups not read yet.
func (r *oktaReader) readMembers(ctx context.Context, ids []string, ms *membership) error {
	var todo []string
	ms.mu.Lock()
	for _, gid := range ids {
		if !ms.read[gid] {
			todo = append(todo, gid)
		}
	}
	ms.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.concurrency)
	for _, gid := range todo {
		g.Go(func() error {
			users, err := r.client.ListGroupUsers(gctx, gid)
			if err != nil {
				return err
			}
			ms.add(gid, users)
			return nil
		})
	}
	return g.Wait()
}

// groupRoles returns the roles of each group holding one, and reads those
// groups' members, when some user holds a role through a group: that is
// what lets the privilege reason name the group ("Member of Org Admins
// group"). It costs a request per group, so it is skipped otherwise.
func (r *oktaReader) groupRoles(ctx context.Context, groups []okta.Group, userRoles map[string][]okta.Role, ms *membership) (map[string][]okta.Role, error) {
	viaGroup := false
	for _, rs := range userRoles {
		for _, role := range rs {
			viaGroup = viaGroup || role.AssignmentType == "GROUP"
		}
	}
	if !viaGroup {
		return nil, nil
	}
	holding := make([][]okta.Role, len(groups))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.concurrency)
	for i := range groups {
		g.Go(func() error {
			rs, err := r.client.ListGroupRoles(gctx, groups[i].ID)
			holding[i] = rs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := map[string][]okta.Role{}
	var ids []string
	for i, rs := range holding {
		if len(rs) > 0 {
			out[groups[i].ID] = rs
			ids = append(ids, groups[i].ID)
		}
	}
	return out, r.readMembers(ctx, ids, ms)
}

// roleName names a role for a reason: its type, or its label for a
// custom role.
func roleName(role okta.Role) string {
	if role.Type == "" || role.Type == "CUSTOM" {
		if role.Label != "" {
			return role.Label
		}
	}
	return role.Type
}

func roleActive(role okta.Role) bool { return role.Status == "" || role.Status == "ACTIVE" }

// applyOktaRoles sets each role holder's privilege and reasons, and
// returns the super admins.
func applyOktaRoles(byID map[string]*graph.Account, userRoles map[string][]okta.Role, groups []okta.Group,
	groupRoles map[string][]okta.Role, ms *membership) []*graph.Account {
	names := make(map[string]string, len(groups))
	for _, g := range groups {
		names[g.ID] = g.Profile.Name
	}
	var supers []*graph.Account
	ids := make([]string, 0, len(userRoles))
	for uid := range userRoles {
		ids = append(ids, uid)
	}
	slices.Sort(ids)
	for _, uid := range ids {
		a := byID[uid]
		var reasons []string
		global, holds := false, false
		add := func(reason string) {
			if !slices.Contains(reasons, reason) {
				reasons = append(reasons, reason)
			}
		}
		for _, role := range userRoles[uid] {
			if !roleActive(role) {
				continue
			}
			holds = true
			global = global || role.Type == okta.RoleSuperAdmin
			if role.AssignmentType != "GROUP" {
				add(roleName(role) + " role")
				continue
			}
			named := false
			for gid := range ms.byUser[uid] {
				if slices.ContainsFunc(groupRoles[gid], func(gr okta.Role) bool { return gr.Type == role.Type && roleActive(gr) }) {
					add("Member of " + names[gid] + " group")
					named = true
				}
			}
			if !named {
				add(roleName(role) + " role through a group")
			}
		}
		if !holds {
			continue
		}
		slices.Sort(reasons)
		a.PrivilegeReasons = reasons
		a.Privilege = graph.PrivilegeAdmin
		if global {
			a.Privilege = graph.PrivilegeGlobalAdmin
			supers = append(supers, a)
		}
	}
	return supers
}

// factors reads the factors of every active account.
func (r *oktaReader) factors(ctx context.Context, accounts []*graph.Account) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.concurrency)
	for _, a := range accounts {
		if !a.Active() {
			continue
		}
		g.Go(func() error {
			fs, err := r.client.ListFactors(gctx, a.IDInService)
			if err != nil {
				return err
			}
			a.MFA = oktaMFA(fs)
			return nil
		})
	}
	return g.Wait()
}

// oktaMFA summarizes a user's factors: enrolled when one is ACTIVE,
// pending when some await activation, none otherwise.
func oktaMFA(fs []okta.Factor) graph.MFA {
	var active []string
	pending := false
	for _, f := range fs {
		switch f.Status {
		case "ACTIVE":
			if t := oktaFactor(f.FactorType); !slices.Contains(active, t) {
				active = append(active, t)
			}
		case "PENDING_ACTIVATION":
			pending = true
		}
	}
	switch {
	case len(active) > 0:
		return graph.MFA{State: graph.MFAEnrolled, Factors: active}
	case pending:
		return graph.MFA{State: graph.MFAPending}
	}
	return graph.MFA{State: graph.MFANone}
}

// oktaFactor normalizes Okta's factor types to the graph's.
func oktaFactor(t string) string {
	switch t {
	case "sms":
		return graph.FactorSMS
	case "call":
		return graph.FactorVoice
	case "email":
		return graph.FactorEmail
	case "push":
		return graph.FactorPush
	case "token:software:totp":
		return graph.FactorTOTP
	case "token", "token:hardware", "token:hotp":
		return graph.FactorHardware
	case "webauthn", "u2f":
		return graph.FactorWebAuthn
	case "question":
		return "security_question"
	}
	return t
}

// mfaEnforcement decides, for each super admin, whether Okta's policies
// require MFA to reach the Admin Console (okta.MFARequired). When the
// policies cannot be read for lack of permission it returns a warning and
// leaves enforcement unknown, so no issue is raised on a guess.
func (r *oktaReader) mfaEnforcement(ctx context.Context, supers []*graph.Account, groups []okta.Group, ms *membership) (string, error) {
	signOn, err := r.client.ListPoliciesWithRules(ctx, okta.PolicyOktaSignOn)
	if err == nil {
		var access []okta.PolicyWithRules
		access, err = r.client.ListPoliciesWithRules(ctx, okta.PolicyAccess)
		if err == nil {
			return "", r.enforce(ctx, supers, groups, ms, signOn, access)
		}
	}
	if errors.Is(err, okta.ErrForbidden) || errors.Is(err, okta.ErrNotFound) {
		return fmt.Sprintf("Okta did not let Vigil read the sign-on policies (%v); whether MFA is enforced for super admins is unknown.", err), nil
	}
	return "", err
}

func (r *oktaReader) enforce(ctx context.Context, supers []*graph.Account, groups []okta.Group, ms *membership, signOn, access []okta.PolicyWithRules) error {
	everyone := ""
	for _, g := range groups {
		if g.Type == "BUILT_IN" && g.Profile.Name == "Everyone" {
			everyone = g.ID
		}
	}
	referenced := map[string]bool{}
	note := func(c *okta.PolicyConditions) {
		if c == nil || c.People == nil || c.People.Groups == nil {
			return
		}
		for _, id := range append(slices.Clone(c.People.Groups.Include), c.People.Groups.Exclude...) {
			if id != everyone {
				referenced[id] = true
			}
		}
	}
	for _, ps := range [][]okta.PolicyWithRules{signOn, access} {
		for _, p := range ps {
			note(p.Conditions)
			for _, rule := range p.Rules {
				note(rule.Conditions)
			}
		}
	}
	ids := make([]string, 0, len(referenced))
	for id := range referenced {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if err := r.readMembers(ctx, ids, ms); err != nil {
		return err
	}
	for _, a := range supers {
		var gids []string
		if everyone != "" {
			gids = append(gids, everyone)
		}
		for gid := range ms.byUser[a.IDInService] {
			gids = append(gids, gid)
		}
		enforced := okta.MFARequired(a.IDInService, gids, signOn, access)
		a.MFA.Enforced = &enforced
	}
	return nil
}
