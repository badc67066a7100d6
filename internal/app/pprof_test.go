package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
)

// Profiles are served only with Pprof on, and only to administrators.
func TestPprofAdminOnly(t *testing.T) {
	ctx := context.Background()
	get := func(r *running, token string) (int, string) {
		return call(t, http.MethodGet, r.url+"/debug/pprof/goroutine?debug=1", token, "")
	}
	tokens := func(r *running) (admin, viewer string) {
		au := r.srv.Services().Auth
		a, err := au.UserByName(ctx, auth.BootstrapName)
		if err != nil {
			t.Fatal(err)
		}
		v, err := au.CreateUser(ctx, "vera", auth.RoleIssueViewer, "a long enough password")
		if err != nil {
			t.Fatal(err)
		}
		if _, admin, err = au.CreateToken(ctx, a.ID, "t", time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, viewer, err = au.CreateToken(ctx, v.ID, "t", time.Hour); err != nil {
			t.Fatal(err)
		}
		return admin, viewer
	}

	on := startNode(t, "sqlite://"+t.TempDir()+"/v.db", "", nil, func(c *app.Config) { c.Pprof = true })
	admin, viewer := tokens(on)
	if code, body := get(on, admin); code != 200 || !strings.Contains(body, "goroutine profile") {
		t.Errorf("admin: %d %.200s", code, body)
	}
	if code, _ := get(on, viewer); code != 403 {
		t.Errorf("viewer: %d; want 403", code)
	}
	if code, _ := get(on, ""); code != 401 {
		t.Errorf("anonymous: %d; want 401", code)
	}

	off := startNode(t, "sqlite://"+t.TempDir()+"/v.db", "", nil)
	admin, _ = tokens(off)
	if code, body := get(off, admin); code == 200 && strings.Contains(body, "goroutine profile") {
		t.Errorf("profiles served without Pprof: %d", code)
	}
}
