package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/app"
)

// Profiles are served only with Pprof on, and only to administrators.
func TestPprofAdminOnly(t *testing.T) {
	get := func(r *running, token string) (int, string) {
		return call(t, http.MethodGet, r.url+"/debug/pprof/goroutine?debug=1", token, "")
	}

	on := startNode(t, "sqlite://"+t.TempDir()+"/v.db", "", nil, func(c *app.Config) { c.Pprof = true })
	admin, viewer := adminAndViewer(t, on)
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
	admin, _ = adminAndViewer(t, off)
	if code, body := get(off, admin); code == 200 && strings.Contains(body, "goroutine profile") {
		t.Errorf("profiles served without Pprof: %d", code)
	}
}
