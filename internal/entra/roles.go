package entra

import (
	"context"
	"net/url"
	"strings"
)

// DirectoryRole is an activated directory role and who holds it.
type DirectoryRole struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// RoleTemplateID is the same in every tenant for a built-in role; compare
	// it with GlobalAdministratorTemplateID to find global admins.
	RoleTemplateID string `json:"roleTemplateId"`
	// Members are the role's direct members: users, service principals or
	// role-assignable groups.
	Members []DirectoryObject `json:"-"`
}

// IsGlobalAdministrator says whether r is the Global Administrator role.
func (r DirectoryRole) IsGlobalAdministrator() bool {
	return r.RoleTemplateID == GlobalAdministratorTemplateID
}

// DirectoryObject is a member of a role or group.
type DirectoryObject struct {
	// ODataType is "#microsoft.graph.user", "#microsoft.graph.servicePrincipal"
	// or "#microsoft.graph.group".
	ODataType         string `json:"@odata.type"`
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// Kind is the object's type without the "#microsoft.graph." prefix:
// "user", "servicePrincipal" or "group".
func (o DirectoryObject) Kind() string {
	return strings.TrimPrefix(o.ODataType, "#microsoft.graph.")
}

// ListDirectoryRoles lists the tenant's activated directory roles with all their
// members. Members are read per role, following each role's next links,
// because $expand=members stops at 20 members and a large tenant can have
// more admins than that in one role.
func (c *Client) ListDirectoryRoles(ctx context.Context) ([]DirectoryRole, error) {
	roles, err := list[DirectoryRole](ctx, c, "list directory roles",
		c.endpoint("directoryRoles", "$select", "id,displayName,roleTemplateId"))
	if err != nil {
		return nil, err
	}
	for i := range roles {
		members, err := list[DirectoryObject](ctx, c, "list members of role "+roles[i].DisplayName,
			c.endpoint("directoryRoles/"+url.PathEscape(roles[i].ID)+"/members"))
		if err != nil {
			return nil, err
		}
		roles[i].Members = members
	}
	return roles, nil
}
