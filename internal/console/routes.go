package console

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// routes is the one place that lists every URL of the console, with the
// permission each one needs. The few open to everyone say so with
// auth.Open, so that every route declares who may call it (Routes).
func (c *Console) routes() *auth.RouteTable {
	mux := auth.NewRouteTable()
	p := c.need

	mux.Handle("GET /static/{file...}", auth.Open(staticHandler()))
	mux.Handle("GET /login", auth.OpenFunc(c.showLoginPage))
	mux.Handle("POST /login", auth.OpenFunc(c.login))
	mux.Handle("POST /logout", auth.OpenFunc(c.logout))
	mux.Handle("GET /{$}", p(auth.PermSelf, c.showLanding))

	// ISPM
	mux.Handle("GET /ispm", p(auth.PermViewDashboard, c.showDashboard))
	mux.Handle("GET /ispm/issues", p(auth.PermViewIssues, c.showIssueList))
	mux.Handle("POST /ispm/issues/bulk", p(auth.PermRespondIssues, c.bulkChangeIssues))
	mux.Handle("POST /ispm/issues/bulk/run-flow", p(auth.PermManageFlows, c.runFlowOnIssues))
	mux.Handle("GET /ispm/issues/{id}", p(auth.PermViewIssues, c.showIssue))
	mux.Handle("POST /ispm/issues/{id}/run-flow", p(auth.PermManageFlows, c.runFlowOnIssue))
	mux.Handle("GET /ispm/identities", p(auth.PermViewIssues, c.showIdentityList))
	mux.Handle("GET /ispm/identities/{id}", p(auth.PermViewIssues, c.showIdentity))
	mux.Handle("GET /ispm/sources", p(auth.PermManageSources, c.showSourceList))
	mux.Handle("GET /ispm/sources/new", p(auth.PermManageSources, c.showNewSourceForm))
	mux.Handle("POST /ispm/sources", p(auth.PermManageSources, c.saveSource))
	mux.Handle("GET /ispm/sources/{name}/edit", p(auth.PermManageSources, c.showEditSourceForm))
	mux.Handle("POST /ispm/sources/{name}", p(auth.PermManageSources, c.saveSource))
	mux.Handle("POST /ispm/sources/{name}/delete", p(auth.PermManageSources, c.removeSource))
	mux.Handle("POST /ispm/scans", p(auth.PermManageSources, c.startScan))
	mux.Handle("GET /ispm/scans/{id}", p(auth.PermManageSources, c.showScan))
	mux.Handle("GET /ispm/scans/{id}/progress", p(auth.PermManageSources, c.scanProgress))
	mux.Handle("GET /ispm/settings/integrations", p(auth.PermViewHooks, c.showIntegrationList))
	mux.Handle("GET /ispm/settings/integrations/webhook", p(auth.PermManageHooks, c.showConnectWebhookForm))
	mux.Handle("POST /ispm/settings/integrations/webhook", p(auth.PermManageHooks, c.saveIntegration))
	mux.Handle("GET /ispm/settings/integrations/{id}", p(auth.PermViewHooks, c.showIntegration))
	mux.Handle("GET /ispm/settings/integrations/{id}/edit", p(auth.PermManageHooks, c.showEditIntegrationForm))
	mux.Handle("POST /ispm/settings/integrations/{id}", p(auth.PermManageHooks, c.saveIntegration))
	mux.Handle("POST /ispm/settings/integrations/{id}/automation", p(auth.PermManageHooks, c.saveAutomation))
	mux.Handle("POST /ispm/settings/integrations/{id}/pause", p(auth.PermManageHooks, c.pauseIntegration))
	mux.Handle("POST /ispm/settings/integrations/{id}/resume", p(auth.PermManageHooks, c.resumeIntegration))
	mux.Handle("POST /ispm/settings/integrations/{id}/delete", p(auth.PermManageHooks, c.removeIntegration))
	mux.Handle("POST /ispm/settings/integrations/{id}/resend", p(auth.PermManageHooks, c.resendDeliveries))
	mux.Handle("POST /ispm/settings/integrations/{id}/resend-dead", p(auth.PermManageHooks, c.resendDeadLetters))
	mux.Handle("GET /ispm/settings/integrations/{id}/deliveries/{did}", p(auth.PermViewHooks, c.showDelivery))

	// Workflows
	mux.Handle("GET /workflows", p(auth.PermViewFlows, redirectTo("/workflows/flows")))
	mux.Handle("GET /workflows/templates", p(auth.PermViewFlows, c.showTemplateList))
	mux.Handle("POST /workflows/templates/{name}", p(auth.PermManageTemplates, c.addTemplate))
	mux.Handle("GET /workflows/flows", p(auth.PermViewFlows, c.showFlowList))
	mux.Handle("POST /workflows/folders", p(auth.PermManageFlows, c.createFolder))
	mux.Handle("POST /workflows/folders/{id}/on", p(auth.PermManageFlows, c.turnOnFolder))
	mux.Handle("GET /workflows/flows/new", p(auth.PermManageFlows, c.showNewFlowPage))
	mux.Handle("POST /workflows/flows", p(auth.PermManageFlows, c.createFlow))
	mux.Handle("GET /workflows/flows/{id}", p(auth.PermViewFlows, c.showFlow))
	mux.Handle("POST /workflows/flows/{id}", p(auth.PermManageFlows, c.saveFlow))
	mux.Handle("POST /workflows/flows/{id}/state", p(auth.PermManageFlows, c.switchFlow))
	mux.Handle("POST /workflows/flows/{id}/connections", p(auth.PermManageFlows, c.pickConnections))
	mux.Handle("POST /workflows/flows/{id}/test", p(auth.PermManageFlows, c.startTestRun))
	mux.Handle("GET /workflows/flows/{id}/builder", p(auth.PermViewFlows, c.showFlowBuilder))
	mux.Handle("POST /workflows/flows/{id}/builder", p(auth.PermManageFlows, c.editFlowBuilder))
	mux.Handle("GET /workflows/flows/{id}/endpoint", p(auth.PermManageEndpointTokens, c.showFlowEndpoint))
	mux.Handle("POST /workflows/flows/{id}/endpoint/rotate", p(auth.PermManageEndpointTokens, c.rotateFlowToken))
	mux.Handle("POST /workflows/flows/{id}/endpoint/signing-secret", p(auth.PermManageEndpointTokens, c.setFlowSigningSecret))
	mux.Handle("GET /workflows/history", p(auth.PermViewFlows, c.showExecutionList))
	mux.Handle("GET /workflows/executions/{id}", p(auth.PermViewFlows, c.showExecution))
	mux.Handle("POST /workflows/executions/{id}/cancel", p(auth.PermManageFlows, c.cancelExecution))
	mux.Handle("GET /workflows/alerts", p(auth.PermViewFlows, c.showAlertList))
	mux.Handle("POST /workflows/alerts", p(auth.PermManageFlows, c.addAlert))
	mux.Handle("POST /workflows/alerts/{id}/delete", p(auth.PermManageFlows, c.removeAlert))
	mux.Handle("GET /workflows/approvals", p(auth.PermDecideApprovals, c.showApprovalList))
	mux.Handle("POST /workflows/approvals/{id}/{decision}", p(auth.PermDecideApprovals, c.decideApproval))
	mux.Handle("GET /workflows/connections", p(auth.PermManageConnections, c.showConnectionList))
	mux.Handle("GET /workflows/connections/new", p(auth.PermManageConnections, c.showNewConnectionForm))
	mux.Handle("POST /workflows/connections", p(auth.PermManageConnections, c.addConnection))
	mux.Handle("POST /workflows/connections/{name}/test", p(auth.PermManageConnections, c.checkConnection))
	mux.Handle("POST /workflows/connections/{name}/dry-run", p(auth.PermManageConnections, c.switchDryRun))
	mux.Handle("POST /workflows/connections/{name}/delete", p(auth.PermManageConnections, c.removeConnection))
	mux.Handle("GET /workflows/connections/{name}/edit", p(auth.PermManageConnections, c.showEditConnectionForm))
	mux.Handle("POST /workflows/connections/{name}/edit", p(auth.PermManageConnections, c.editConnection))
	mux.Handle("GET /workflows/tables", p(auth.PermViewFlows, c.showTableList))
	mux.Handle("GET /workflows/tables/{id}", p(auth.PermViewFlows, c.showTable))
	mux.Handle("GET /workflows/tables/{id}/export", p(auth.PermViewFlows, c.exportTable))

	// Administration
	mux.Handle("GET /admin/users", p(auth.PermManageUsers, c.showUserList))
	mux.Handle("POST /admin/users", p(auth.PermManageUsers, c.createUser))
	mux.Handle("POST /admin/users/{id}", p(auth.PermManageUsers, c.updateUser))
	mux.Handle("POST /admin/users/{id}/password", p(auth.PermManageUsers, c.resetPassword))
	mux.Handle("GET /admin/password", p(auth.PermSelf, c.showPasswordForm))
	mux.Handle("POST /admin/password", auth.SessionOnly(p(auth.PermSelf, c.changePassword)))
	mux.Handle("GET /admin/tokens", p(auth.PermSelf, c.showTokenList))
	mux.Handle("POST /admin/tokens", auth.SessionOnly(p(auth.PermSelf, c.createToken)))
	mux.Handle("POST /admin/tokens/{id}/revoke", p(auth.PermSelf, c.revokeToken))
	mux.Handle("GET /admin/settings", p(auth.PermManageSettings, c.showSettings))
	mux.Handle("POST /admin/settings", p(auth.PermManageSettings, c.saveSettings))
	mux.Handle("GET /admin/audit", p(auth.PermViewAudit, c.showAuditLog))

	mux.Handle("/", auth.OpenFunc(c.notFound))
	return mux
}

// Routes lists every route of the console with its handler, whose
// auth.Requirement is the permission the route needs.
func (c *Console) Routes() []auth.Route { return c.table.Routes() }

// need lets a request through only if its user has perm: a visitor who is
// not signed in goes to the sign-in page, a user whose role lacks perm gets
// a 403 page that says so.
func (c *Console) need(perm auth.Permission, h http.HandlerFunc) http.Handler {
	return pageGuard{perm: perm, next: auth.RequirePage(auth.PermSelf, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !can(r, perm) {
			c.forbidden(w, r)
			return
		}
		h(w, r)
	}))}
}

// pageGuard is what need returns: a console route with the permission it
// checks, declared for auth.Requirement.
type pageGuard struct {
	perm auth.Permission
	next http.Handler
}

func (p pageGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.next.ServeHTTP(w, r) }

// Requires is the page's permission, whatever the method.
func (p pageGuard) Requires(string) auth.Permission { return p.perm }

func redirectTo(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusSeeOther)
	}
}

// showLanding sends a signed-in user to the first page their role opens.
func (c *Console) showLanding(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.UserFrom(r.Context())
	http.Redirect(w, r, landing(u), http.StatusSeeOther)
}

// unavailable answers for an area whose service this server does not run.
func (c *Console) unavailable(w http.ResponseWriter, r *http.Request, area string) {
	c.errorPage(w, r, http.StatusServiceUnavailable, area+" are not available on this server.")
}
