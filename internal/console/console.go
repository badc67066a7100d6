// Package console serves Vigil's web console: server-rendered pages for both
// halves (ISPM and Workflows) and for administration, in the order of the
// click-by-click walkthrough admins follow.
//
// Every URL is listed in one function (routes.go) and every handler lives in
// a file named after its entity and action (issue_list.go serves GET
// /ispm/issues). Templates and static assets are embedded and parsed once at
// start-up: New fails if a view is missing, so a broken build never reaches a
// user. The view helper fills in the signed-in user, their permissions and
// the flash message, so no handler forgets them.
//
// The console reaches the services through the small interfaces of
// Services. Every page and action checks a permission of internal/auth (never
// a role), and state changes only on POST.
package console

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/secret"
)

// Config tunes the console. The zero value of each field means its default.
type Config struct {
	// PublicURL is how browsers and other systems reach this server; invoke
	// URLs and curl examples are built from it. Default: the request's host.
	PublicURL string
	// PublicURLSetting, when set, is asked at each request instead of
	// PublicURL, so that a change of the saved public URL applies to a
	// running server.
	PublicURLSetting func(ctx context.Context) string
	// Logger receives server errors. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Box seals the secrets a page shows once after a form's redirect
	// (reveal.go). Give the server's box, so that any node can open what
	// another sealed; default a box with a random key, which only this
	// process can open.
	Box *secret.Box
}

// Console is the web console's handler.
type Console struct {
	cfg     Config
	svc     Services
	log     *slog.Logger
	views   map[string]*template.Template
	handler http.Handler
	// table lists the routes handler serves.
	table *auth.RouteTable
	box   *secret.Box
}

// New parses every view and returns the console. It fails when a view or an
// asset is missing, or when svc has no Auth.
func New(cfg Config, svc Services) (*Console, error) {
	if svc.Auth == nil {
		return nil, errors.New("console: Services.Auth is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Box == nil {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("console: make a key: %w", err)
		}
		box, err := secret.New(key)
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		cfg.Box = box
	}
	if svc.Titles == nil {
		svc.Titles = detect.Catalog
	}
	views, err := parseViews()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, svc: svc, log: cfg.Logger.With("component", "console"), views: views, box: cfg.Box}
	c.table = c.routes()
	c.handler = svc.Auth.Authenticate(c.table)
	return c, nil
}

// ServeHTTP serves the console. It authenticates each request itself, so
// the application mounts it at "/" without other middleware than
// cross-origin protection.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.handler.ServeHTTP(w, r)
}

// publicURL is the base of links given to other systems: the configured
// public URL, or the one the browser used.
func (c *Console) publicURL(r *http.Request) string {
	if c.cfg.PublicURLSetting != nil {
		return c.cfg.PublicURLSetting(r.Context())
	}
	if c.cfg.PublicURL != "" {
		return c.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
