package app

import (
	"context"
	"fmt"
	"github.com/vigil-ispm/vigil/internal/event"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/alert"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/settings"
)

// Services are Vigil's domain services, built once over the app's store,
// secrets box and SSRF-guarded client. The server and the demo share them,
// so that both run exactly what production runs.
type Services struct {
	Auth        *auth.Service
	Hooks       *hooks.Service
	Issues      *issue.Service
	Sources     *source.Service
	Connections *connection.Service
	Flows       *flows.Service
	Templates   *template.Catalog
	Endpoints   *invoke.Endpoints
	Alerts      *alert.Service
}

// NewServices builds the services. Their job workers are registered with
// Register and the queue handed to them with SetQueue once it exists.
func (a *App) NewServices() (*Services, error) {
	cfg := a.Config
	logger := a.Logger
	s := &Services{}
	s.Auth = auth.New(a.Store, auth.Config{Logger: logger, Now: cfg.Now, PublicURL: cfg.PublicURL})
	s.Hooks = hooks.New(a.Store, a.Box, hooks.Config{Client: a.Outbound, Allow: a.Allow, PublicURL: cfg.PublicURL, PublicURLSetting: a.PublicURLNow,
		Now: cfg.Now, Logger: logger.With("component", "hooks"), Retention: cfg.DeliveryRetention,
		RetentionSetting: a.retentionSetting(settings.DeliveryDays.Key, a.given.DeliveryRetention),
		// The issues service is built next and publishes through hooks;
		// it is read when the API asks for the open issues.
		OpenIssues: func(ctx context.Context) ([]event.Issue, error) { return s.Issues.OpenIssues(ctx) }})
	s.Issues = issue.New(a.Store, s.Hooks, issue.Config{PublicURL: cfg.PublicURL, PublicURLSetting: a.PublicURLNow, Now: cfg.Now, Logger: logger.With("component", "issues")})
	s.Sources = source.New(a.Store, a.Box, s.Issues, source.Config{HTTPClient: a.Outbound, Allow: a.Allow, FileDir: cfg.SnapshotDir, Now: cfg.Now,
		Logger: logger.With("component", "sources")})
	s.Connections = connection.New(a.Store, a.Box, connection.Config{Client: a.Outbound, Allow: a.Allow, Now: cfg.Now,
		Logger: logger.With("component", "connections")})
	cat := catalog.New()
	if err := connector.New(connector.Config{Connections: s.Connections, Client: a.Outbound, Now: cfg.Now}).Register(cat); err != nil {
		return nil, fmt.Errorf("register the connector actions: %w", err)
	}
	s.Flows = flows.New(a.Store, a.Box, flows.Config{Catalog: cat, Checker: connector.Checker{Connections: s.Connections},
		HTTPClient: a.Outbound, Now: cfg.Now, Logger: logger.With("component", "flows"), Retention: cfg.HistoryRetention,
		RetentionSetting: a.retentionSetting(settings.HistoryDays.Key, a.given.HistoryRetention),
		Lease:            cfg.ExecutionLease, MaintenanceEvery: cfg.ExecutionLease})
	s.Alerts = alert.New(a.Store, alert.Config{Connections: s.Connections, PublicURL: cfg.PublicURL, Now: cfg.Now,
		Caller: connector.New(connector.Config{Connections: s.Connections, Client: a.Outbound, Now: cfg.Now}),
		Logger: logger.With("component", "alerts")})
	s.Flows.WatchFaults(s.Alerts)
	templates, err := template.Load()
	if err != nil {
		return nil, fmt.Errorf("load the embedded templates: %w", err)
	}
	s.Templates = templates
	s.Endpoints = invoke.NewEndpoints(a.Store, a.Box, cfg.Now)
	return s, nil
}

// Register adds every service's job workers to workers and returns the
// periodic jobs they need.
func (s *Services) Register(workers *river.Workers) []*river.PeriodicJob {
	s.Hooks.Register(workers)
	issue.Register(workers, s.Issues)
	source.Register(workers, s.Sources)
	s.Flows.Register(workers)
	s.Alerts.Register(workers)
	var periodic []*river.PeriodicJob
	periodic = append(periodic, s.Hooks.PeriodicJobs()...)
	periodic = append(periodic, issue.PeriodicJobs()...)
	periodic = append(periodic, source.PeriodicJobs()...)
	periodic = append(periodic, s.Flows.PeriodicJobs()...)
	return periodic
}

// SetQueue gives the services that insert jobs the queue.
func (s *Services) SetQueue(q *queue.Queue) {
	s.Hooks.SetQueue(q)
	s.Flows.SetQueue(q)
	s.Sources.SetQueue(q)
	s.Alerts.SetQueue(q)
}
