package auth

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRolePermissions(t *testing.T) {
	tests := []struct {
		role Role
		can  []Permission
		not  []Permission
	}{
		{RoleSuperAdmin, AllPermissions(), nil},
		{RoleWorkflowsAdmin,
			[]Permission{PermSelf, PermViewIssues, PermManageFlows, PermViewFlows, PermManageConnections, PermManageTables, PermManageTemplates, PermManageEndpointTokens},
			[]Permission{PermManageSources, PermManageHooks, PermViewHooks, PermManageUsers, PermRevealSecrets, PermRespondIssues, PermManageSettings}},
		{RoleIssueResponder,
			[]Permission{PermSelf, PermViewIssues, PermRespondIssues, PermViewHooks, PermViewDashboard},
			[]Permission{PermManageHooks, PermManageFlows, PermViewFlows, PermManageSources, PermManageUsers, PermRevealSecrets}},
		{RoleIssueViewer,
			[]Permission{PermSelf, PermViewIssues, PermViewDashboard},
			[]Permission{PermRespondIssues, PermViewHooks, PermManageFlows, PermViewFlows, PermManageSources, PermManageUsers}},
		{Role("root"), nil, AllPermissions()},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			for _, p := range tt.can {
				if !tt.role.Can(p) {
					t.Errorf("%s cannot %s", tt.role, p)
				}
			}
			for _, p := range tt.not {
				if tt.role.Can(p) {
					t.Errorf("%s can %s", tt.role, p)
				}
			}
		})
	}
}

func TestPermissionsAreKnown(t *testing.T) {
	all := AllPermissions()
	for _, r := range Roles() {
		for _, p := range r.Permissions() {
			if !slices.Contains(all, p) {
				t.Errorf("%s has %s, which AllPermissions does not list", r, p)
			}
		}
	}
	seen := map[Permission]bool{}
	for _, p := range all {
		if seen[p] {
			t.Errorf("%s listed twice", p)
		}
		seen[p] = true
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles() {
		if got, err := ParseRole(" " + string(r) + " "); err != nil || got != r {
			t.Errorf("ParseRole(%s) = %q, %v", r, got, err)
		}
	}
	for _, s := range []string{"", "admin", "Super_Admin", "super-admin"} {
		if _, err := ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) accepted", s)
		}
	}
}

func TestDisabledUserCanNothing(t *testing.T) {
	u := &User{Role: RoleSuperAdmin, Disabled: true}
	if u.Can(PermSelf) {
		t.Error("a disabled user can act")
	}
	var nobody *User
	if nobody.Can(PermSelf) {
		t.Error("a nil user can act")
	}
}

// TestDocumentedMatrix keeps the matrix in docs/auth.md equal to the code.
func TestDocumentedMatrix(t *testing.T) {
	doc, err := os.ReadFile("../../docs/auth.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_:]+)` \\|(.*)\\|\\s*$")
	rows := row.FindAllStringSubmatch(string(doc), -1)
	documented := map[Permission]bool{}
	for _, m := range rows {
		p := Permission(m[1])
		documented[p] = true
		cells := strings.Split(m[2], "|")
		if len(cells) != len(Roles()) {
			t.Errorf("docs row %s has %d role columns; want %d", p, len(cells), len(Roles()))
			continue
		}
		for i, r := range Roles() {
			yes := strings.TrimSpace(cells[i]) == "✓"
			if yes != r.Can(p) {
				t.Errorf("docs say %s %s %s = %v; the code says %v", r, "has", p, yes, r.Can(p))
			}
		}
	}
	for _, p := range AllPermissions() {
		if !documented[p] {
			t.Errorf("docs/auth.md has no row for %s", p)
		}
	}
}

func TestGroupRoles(t *testing.T) {
	m := GroupRoles{"vigil-admins": RoleSuperAdmin, "wf": RoleWorkflowsAdmin, "soc": RoleIssueResponder, "all": RoleIssueViewer}
	tests := []struct {
		groups []string
		want   Role
		ok     bool
	}{
		{nil, "", false},
		{[]string{"marketing"}, "", false},
		{[]string{"all"}, RoleIssueViewer, true},
		{[]string{"all", "soc"}, RoleIssueResponder, true},
		{[]string{"soc", "wf", "all"}, RoleWorkflowsAdmin, true},
		{[]string{"all", "vigil-admins"}, RoleSuperAdmin, true},
	}
	for _, tt := range tests {
		got, ok := m.RoleFor(tt.groups)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RoleFor(%v) = %q, %v; want %q, %v", tt.groups, got, ok, tt.want, tt.ok)
		}
	}
}
