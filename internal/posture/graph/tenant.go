package graph

// Tenant is one configured source's tenant: an Okta org, an Entra tenant, a
// Google Workspace customer, a Salesforce org or an AWS account.
type Tenant struct {
	// Source is Vigil's name for the configured source ("okta-prod"); it
	// scopes scans and issues.
	Source  string
	Product Product
	// Name is the tenant as the product names it (sourceProductTenant):
	// "example.okta.com", a tenant domain or id, an AWS account id.
	Name string
	// Primary is true for the tenant of the primary identity provider.
	Primary bool
	// Counts are computed by Build.
	Counts Counts
}

// Counts summarize a tenant's accounts. Only active accounts count as
// humans, services, admins or global admins; the AWS root user is left out
// of Admins and GlobalAdmins because it is not an assignable role.
type Counts struct {
	Accounts     int
	Active       int
	Humans       int
	Services     int
	Admins       int // admins and global admins
	GlobalAdmins int
}

func (c *Counts) add(a *Account) {
	c.Accounts++
	if !a.Active() {
		return
	}
	c.Active++
	if a.Service() {
		c.Services++
	} else {
		c.Humans++
	}
	if a.Root {
		return
	}
	if a.Admin() {
		c.Admins++
	}
	if a.GlobalAdmin() {
		c.GlobalAdmins++
	}
}
