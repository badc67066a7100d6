package app_test

import (
	"context"
	"testing"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/browsertest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestBrowserWalk walks the console of the fully wired server in chromium:
// the template path and the New Flow path of the walkthrough, then the
// ISPM webhook connected to the routing flow through the forms, Test
// Connection, Save, Automate, a scan of a snapshot source, and the
// routing flow's execution with its helper's dry-run request in Flow
// history (see browsertest.Walk). Screenshots of each major page are saved
// in the directory it prints.
func TestBrowserWalk(t *testing.T) {
	browsertest.Walk(t, func(t *testing.T) browsertest.Target {
		const user, password = "walker", "a walk in the browser"
		snapDir := t.TempDir() // snapshot files are read only from the snapshot directory
		r := startNode(t, storetest.DatabaseURL(t, "sqlite"), "", func(ctx context.Context, srv *app.Server) {
			if _, err := srv.Services().Auth.CreateUser(ctx, user, auth.RoleSuperAdmin, password); err != nil {
				t.Fatal(err)
			}
		}, func(c *app.Config) { c.SnapshotDir = snapDir })
		return browsertest.DryRun(t, r.url, user, password, snapDir)
	})
}
