package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRequirement(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	s := New(nil, Config{})
	tests := []struct {
		name     string
		h        http.Handler
		method   string
		want     Permission
		declared bool
		session  bool
	}{
		{"RequireAPI", RequireAPI(PermViewIssues, ok), "GET", PermViewIssues, true, false},
		{"RequirePage", RequirePage(PermManageUsers, ok), "POST", PermManageUsers, true, false},
		{"Require", Require(PermManageFlows, ok), "DELETE", PermManageFlows, true, false},
		{"GuardMethods read", GuardMethods(PermViewHooks, PermManageHooks)(ok), "GET", PermViewHooks, true, false},
		{"GuardMethods write", GuardMethods(PermViewHooks, PermManageHooks)(ok), "PUT", PermManageHooks, true, false},
		{"Open", Open(ok), "POST", Anyone, true, false},
		{"WithOwnCredential", WithOwnCredential(ok), "POST", OwnCredential, true, false},
		{"behind ensure", s.ensure(RequireAPI(PermSelf, ok)), "GET", PermSelf, true, false},
		{"SessionOnly", s.ensure(SessionOnly(RequireAPI(PermSelf, ok))), "POST", PermSelf, true, true},
		{"plain handler", ok, "GET", "", false, false},
		{"SessionOnly without a guard", SessionOnly(ok), "POST", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, declared := Requirement(tt.h, tt.method)
			if got != tt.want || declared != tt.declared {
				t.Errorf("Requirement = %q, %v; want %q, %v", got, declared, tt.want, tt.declared)
			}
			if IsSessionOnly(tt.h) != tt.session {
				t.Errorf("IsSessionOnly = %v; want %v", !tt.session, tt.session)
			}
		})
	}
}

// TestSessionOnly checks that a SessionOnly route refuses a caller signed
// in by an API token before the route runs, as JSON under /api/ and as a
// plain 403 elsewhere, and lets a session through.
func TestSessionOnly(t *testing.T) {
	ran := false
	h := SessionOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true }))
	u := &User{Name: "ann", Role: RoleSuperAdmin}
	for _, tc := range []struct {
		path   string
		method Method
		want   int
		ran    bool
		ctype  string
	}{
		{"/api/v1/tokens", MethodToken, http.StatusForbidden, false, "application/json"},
		{"/admin/tokens", MethodToken, http.StatusForbidden, false, "text/plain; charset=utf-8"},
		{"/admin/tokens", MethodSession, http.StatusOK, true, ""},
	} {
		ran = false
		req := httptest.NewRequest("POST", tc.path, nil)
		req = req.WithContext(WithUser(req.Context(), u, tc.method))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want || ran != tc.ran || rec.Header().Get("Content-Type") != tc.ctype {
			t.Errorf("%s by %s: %d %q, ran %v; want %d %q, ran %v", tc.path, tc.method, rec.Code, rec.Header().Get("Content-Type"), ran, tc.want, tc.ctype, tc.ran)
		}
	}
}

// TestRouteTable checks that the table serves what it lists.
func TestRouteTable(t *testing.T) {
	tab := NewRouteTable()
	tab.Handle("GET /a", Open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })))
	tab.HandleFunc("POST /b", func(w http.ResponseWriter, r *http.Request) {})
	routes := tab.Routes()
	if len(routes) != 2 || routes[0].Pattern != "GET /a" || routes[1].Pattern != "POST /b" {
		t.Fatalf("Routes = %+v", routes)
	}
	if p, ok := Requirement(routes[0].Handler, "GET"); p != Anyone || !ok {
		t.Errorf("GET /a requires %q, %v", p, ok)
	}
	if _, ok := Requirement(routes[1].Handler, "POST"); ok {
		t.Error("POST /b declares a requirement it was not given")
	}
	rec := httptest.NewRecorder()
	tab.ServeHTTP(rec, httptest.NewRequest("GET", "/a", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("GET /a: %d", rec.Code)
	}
}
