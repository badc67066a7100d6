// Package api is Vigil's JSON API for posture and workflows under /api/v1:
// issues, sources and scans, folders, flows with their versions, endpoint
// settings, test runs and executions, tables, the template catalog and
// connections. It is a thin layer over the domain services the console
// and the CLI use, so the three always agree; it writes no SQL of its own.
//
// Every route requires a permission of the auth package and answers a
// caller without it as auth.RequireAPI does (401 or 403). Errors share the
// shape of the other JSON APIs: {"error": {"code", "message", "field"}}.
// GET /api/openapi.json serves the OpenAPI 3 document of these routes;
// docs/api.md describes them for people.
package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/cluster"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/queue"
)

// Config tunes the API. The zero value of each field means its default.
type Config struct {
	// Logger receives one line per request that failed on the server.
	// Default: discard.
	Logger *slog.Logger
	// Now is the clock, used to check snooze dates and grace periods.
	// Default time.Now.
	Now func() time.Time
	// PublicURL is how callers reach the server; invoke URLs start with it.
	// Empty means the scheme and host of each request.
	PublicURL string
	// PublicURLSetting, when set, is asked at each request instead of
	// PublicURL, so that a change of the saved public URL applies to a
	// running server.
	PublicURLSetting func(ctx context.Context) string
}

// Services are the domain services the API calls: the same values the
// server builds once for the console and the job workers.
type Services struct {
	Issues      *issue.Service
	Sources     *source.Service
	Flows       *flows.Service
	Templates   *template.Catalog
	Connections *connection.Service
	Endpoints   *invoke.Endpoints
	// Identities reads the identity inventory; without it the identity
	// routes answer 503.
	Identities *identity.Service
	// Queue receives the scan jobs POST /api/v1/scans asks for. Without
	// one that route answers 503.
	Queue *queue.Queue
	// Settings reads and saves Admin → Settings. Without it the settings
	// routes answer 503.
	Settings SettingsStore
	// Cluster reads the nodes and the queue depth. Without it GET
	// /api/v1/cluster answers 503.
	Cluster func(ctx context.Context) (cluster.Status, error)
	// Audit reads the audit log; without it GET /api/v1/audit answers 503.
	Audit *audit.Log
}

// API serves the JSON API. It is safe for concurrent use.
type API struct {
	cfg Config
	svc Services
	// doc is the OpenAPI document as JSON, or docErr why it could not be
	// read (the tests rule that out).
	doc    []byte
	docErr error
}

// New returns the API over svc.
func New(cfg Config, svc Services) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{cfg: cfg, svc: svc}
	a.doc, a.docErr = OpenAPI()
	return a
}

// route is one URL of the API with the permission it needs. The table of
// routes is the one place that lists them, and the OpenAPI test checks the
// document against it.
type route struct {
	method  string
	pattern string
	perm    auth.Permission
	handle  func(w http.ResponseWriter, r *http.Request) error
}

// routes lists every route of the API.
func (a *API) routes() []route {
	return []route{
		{"GET", "/api/v1/issues", auth.PermViewIssues, a.listIssues},
		{"GET", "/api/v1/issues/{id}", auth.PermViewIssues, a.getIssue},
		{"POST", "/api/v1/issues/{id}/acknowledge", auth.PermRespondIssues, a.acknowledgeIssue},
		{"POST", "/api/v1/issues/{id}/snooze", auth.PermRespondIssues, a.snoozeIssue},
		{"POST", "/api/v1/issues/{id}/false-positive", auth.PermRespondIssues, a.markFalsePositive},
		{"POST", "/api/v1/issues/{id}/reopen", auth.PermRespondIssues, a.reopenIssue},
		{"POST", "/api/v1/issues/{id}/run-flow", auth.PermManageFlows, a.runFlowOnIssue},

		{"GET", "/api/v1/identities", auth.PermViewIssues, a.listIdentities},
		{"GET", "/api/v1/identities/{id}", auth.PermViewIssues, a.getIdentity},
		{"GET", "/api/v1/accounts", auth.PermViewIssues, a.listAccounts},

		{"GET", "/api/v1/sources", auth.PermManageSources, a.listSources},
		{"POST", "/api/v1/sources", auth.PermManageSources, a.addSource},
		{"GET", "/api/v1/sources/{name}", auth.PermManageSources, a.getSource},
		{"DELETE", "/api/v1/sources/{name}", auth.PermManageSources, a.removeSource},
		{"PUT", "/api/v1/sources/{name}/schedule", auth.PermManageSources, a.setSchedule},
		{"GET", "/api/v1/scans", auth.PermManageSources, a.listScans},
		{"POST", "/api/v1/scans", auth.PermManageSources, a.startScan},

		{"GET", "/api/v1/folders", auth.PermViewFlows, a.listFolders},
		{"POST", "/api/v1/folders", auth.PermManageFlows, a.createFolder},
		{"PUT", "/api/v1/folders/{id}", auth.PermManageFlows, a.updateFolder},
		{"DELETE", "/api/v1/folders/{id}", auth.PermManageFlows, a.deleteFolder},
		{"GET", "/api/v1/folders/{id}/tables", auth.PermViewFlows, a.listTables},
		{"GET", "/api/v1/tables/{id}/rows", auth.PermViewFlows, a.listRows},
		{"GET", "/api/v1/tables/{id}/export.csv", auth.PermViewFlows, a.exportTable},
		{"GET", "/api/v1/flows", auth.PermViewFlows, a.listFlows},
		{"POST", "/api/v1/flows", auth.PermManageFlows, a.createFlow},
		{"GET", "/api/v1/flows/{id}", auth.PermViewFlows, a.getFlow},
		{"PUT", "/api/v1/flows/{id}", auth.PermManageFlows, a.saveFlow},
		{"DELETE", "/api/v1/flows/{id}", auth.PermManageFlows, a.deleteFlow},
		{"GET", "/api/v1/flows/{id}/versions", auth.PermViewFlows, a.listVersions},
		{"GET", "/api/v1/flows/{id}/versions/{version}", auth.PermViewFlows, a.getVersion},
		{"POST", "/api/v1/flows/{id}/on", auth.PermManageFlows, a.turnFlowOn},
		{"POST", "/api/v1/flows/{id}/off", auth.PermManageFlows, a.turnFlowOff},
		{"POST", "/api/v1/flows/{id}/run", auth.PermManageFlows, a.runFlow},
		{"GET", "/api/v1/flows/{id}/endpoint", auth.PermViewFlows, a.getEndpoint},
		{"POST", "/api/v1/flows/{id}/endpoint/rotate-token", auth.PermManageEndpointTokens, a.rotateToken},
		{"POST", "/api/v1/flows/{id}/endpoint/signing-secret", auth.PermManageEndpointTokens, a.setSigningSecret},
		{"GET", "/api/v1/executions", auth.PermViewFlows, a.listExecutions},
		{"GET", "/api/v1/executions/{id}", auth.PermViewFlows, a.getExecution},
		{"POST", "/api/v1/executions/{id}/cancel", auth.PermManageFlows, a.cancelExecution},
		{"GET", "/api/v1/approvals", auth.PermDecideApprovals, a.listApprovals},
		{"POST", "/api/v1/approvals/{id}/approve", auth.PermDecideApprovals, a.approve},
		{"POST", "/api/v1/approvals/{id}/deny", auth.PermDecideApprovals, a.deny},

		{"GET", "/api/v1/templates", auth.PermViewFlows, a.listTemplates},
		{"GET", "/api/v1/templates/{name}", auth.PermViewFlows, a.getTemplate},
		{"POST", "/api/v1/templates/{name}/add", auth.PermManageTemplates, a.addTemplate},

		{"GET", "/api/v1/connections", auth.PermManageConnections, a.listConnections},
		{"POST", "/api/v1/connections", auth.PermManageConnections, a.createConnection},
		{"GET", "/api/v1/connections/{name}", auth.PermManageConnections, a.getConnection},
		{"PUT", "/api/v1/connections/{name}", auth.PermManageConnections, a.updateConnection},
		{"DELETE", "/api/v1/connections/{name}", auth.PermManageConnections, a.deleteConnection},
		{"POST", "/api/v1/connections/{name}/test", auth.PermManageConnections, a.testConnection},
		{"PUT", "/api/v1/connections/{name}/dry-run", auth.PermManageConnections, a.setDryRun},

		{"GET", "/api/v1/settings", auth.PermManageSettings, a.getSettings},
		{"PUT", "/api/v1/settings", auth.PermManageSettings, a.putSettings},
		{"GET", "/api/v1/cluster", auth.PermManageSettings, a.getCluster},

		{"GET", "/api/v1/audit", auth.PermViewAudit, a.listAudit},
	}
}

// Register adds every route of the API to mux, each behind
// auth.RequireAPI with its permission, and GET /api/openapi.json, which
// is open to all: it describes the API and holds no data. The server wraps
// mux with the auth service's Authenticate, which resolves the caller
// from the session cookie or an "Authorization: Bearer" API token.
func (a *API) Register(mux auth.Mux) {
	for _, rt := range a.routes() {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := rt.handle(w, r); err != nil {
				a.writeError(w, r, err)
			}
		})
		mux.Handle(rt.method+" "+rt.pattern, auth.RequireAPI(rt.perm, h))
	}
	mux.Handle("GET /api/openapi.json", auth.OpenFunc(a.serveOpenAPI))
}

// publicURL is the URL callers reach the server at.
func (a *API) publicURL(r *http.Request) string {
	if a.cfg.PublicURLSetting != nil {
		return a.cfg.PublicURLSetting(r.Context())
	}
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// userName names the caller in the history of what they change.
func userName(r *http.Request) string {
	if u, ok := auth.UserFrom(r.Context()); ok {
		return u.Name
	}
	return ""
}

// can tells whether the caller has perm.
func can(r *http.Request, perm auth.Permission) bool {
	u, ok := auth.UserFrom(r.Context())
	return ok && u.Can(perm)
}
