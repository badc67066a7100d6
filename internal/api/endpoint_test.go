package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/engine/enginetest"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		path := "/api/v1/flows/" + b.echo.ID + "/endpoint"
		get := func(role auth.Role) Endpoint {
			t.Helper()
			var ep Endpoint
			r := b.do(role, "GET", path, nil)
			want(t, string(role)+" endpoint", r, http.StatusOK, "")
			r.decode(t, &ep)
			return ep
		}
		admin := get(auth.RoleWorkflowsAdmin)
		if !strings.HasPrefix(admin.InvokeURL, "https://vigil.example.com/api/flo/") || !strings.HasSuffix(admin.InvokeURL, "/invoke") ||
			admin.Security != "clientToken" || admin.Response != "async" || admin.ClientToken == "" || admin.FlowID != b.echo.ID {
			t.Fatalf("endpoint for a workflows admin: %+v", admin)
		}
		if super := get(auth.RoleSuperAdmin); super.ClientToken != admin.ClientToken || super.InvokeURL != admin.InvokeURL {
			t.Errorf("a second read changed the endpoint: %+v then %+v", admin, super)
		}
		for _, role := range []auth.Role{auth.RoleIssueViewer, auth.RoleIssueResponder} {
			r := b.do(role, "GET", path, nil)
			want(t, string(role)+" endpoint", r, http.StatusForbidden, "forbidden")
			if strings.Contains(string(r.body), admin.ClientToken) {
				t.Errorf("%s sees the client token", role)
			}
		}

		// The invoke handler tells which tokens work.
		alias := strings.TrimSuffix(strings.TrimPrefix(admin.InvokeURL, "https://vigil.example.com/api/flo/"), "/invoke")
		inv := invoke.NewHandler(invoke.Config{Now: func() time.Time { return testNow }}, st, b.svc.Endpoints, b.svc.Flows.Invoke(), nil, nil)
		works := func(token string) bool {
			t.Helper()
			req := httptest.NewRequest("POST", "/api/flo/"+alias+"/invoke", strings.NewReader(`{}`))
			req.SetPathValue("alias", alias)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("x-api-client-token", token)
			rec := httptest.NewRecorder()
			inv.ServeHTTP(rec, req)
			return rec.Code == http.StatusAccepted
		}
		if _, err := b.svc.Flows.SetOn(b.ctx, b.echo.ID, true); err != nil {
			t.Fatal(err)
		}
		if !works(admin.ClientToken) || works("not-the-token") {
			t.Fatal("the invoke URL does not accept exactly the client token shown")
		}

		rotate := path + "/rotate-token"
		for _, tc := range []struct {
			role   auth.Role
			body   any
			status int
			code   string
		}{
			{auth.RoleIssueViewer, nil, 403, "forbidden"},
			{auth.RoleIssueResponder, map[string]any{"graceSeconds": 60}, 403, "forbidden"},
			{auth.RoleWorkflowsAdmin, map[string]any{"graceSeconds": -1}, 400, "invalid"},
			{auth.RoleWorkflowsAdmin, map[string]any{"graceSeconds": 31 * 24 * 3600}, 400, "invalid"},
			{auth.RoleWorkflowsAdmin, map[string]any{"grace": 60}, 400, "invalid"},
			{auth.RoleWorkflowsAdmin, `{"graceSeconds": "1h"}`, 400, "invalid"},
		} {
			want(t, string(tc.role)+" rotate", b.do(tc.role, "POST", rotate, tc.body), tc.status, tc.code)
		}
		if got := get(auth.RoleWorkflowsAdmin); got.ClientToken != admin.ClientToken || got.PreviousTokenExpiresAt != nil {
			t.Fatal("a refused rotation changed the client token")
		}

		// With a grace period both tokens work; without, only the new one.
		var graced Endpoint
		r := b.do(auth.RoleWorkflowsAdmin, "POST", rotate, map[string]any{"graceSeconds": 3600})
		want(t, "rotate with grace", r, http.StatusOK, "")
		r.decode(t, &graced)
		if graced.ClientToken == "" || graced.ClientToken == admin.ClientToken || graced.PreviousTokenExpiresAt == nil ||
			!graced.PreviousTokenExpiresAt.Equal(testNow.Add(time.Hour)) || graced.InvokeURL != admin.InvokeURL {
			t.Fatalf("rotated with an hour's grace: %+v", graced)
		}
		if again := get(auth.RoleSuperAdmin); again.ClientToken != graced.ClientToken || again.PreviousTokenExpiresAt == nil {
			t.Errorf("after the rotation the endpoint shows %+v", again)
		}
		if !works(graced.ClientToken) || !works(admin.ClientToken) {
			t.Error("during the grace period the new and the old token should both work")
		}
		var now Endpoint
		b.do(auth.RoleSuperAdmin, "POST", rotate, nil).decode(t, &now)
		if now.ClientToken == graced.ClientToken || now.PreviousTokenExpiresAt != nil {
			t.Fatalf("rotated without grace: %+v", now)
		}
		if !works(now.ClientToken) || works(graced.ClientToken) || works(admin.ClientToken) {
			t.Error("after a rotation without grace only the new token should work")
		}

		// A public endpoint has no token; a helper flow has no endpoint.
		var open Endpoint
		b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/"+b.open.ID+"/endpoint", nil).decode(t, &open)
		if open.Security != "public" || open.Response != "sync" || open.ClientToken != "" {
			t.Errorf("public endpoint: %+v", open)
		}
		want(t, "rotate public", b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/flows/"+b.open.ID+"/endpoint/rotate-token", nil), http.StatusConflict, "conflict")
		want(t, "helper endpoint", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/"+b.okta.ID+"/endpoint", nil), http.StatusNotFound, "not_found")
		want(t, "helper rotate", b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/flows/"+b.okta.ID+"/endpoint/rotate-token", nil), http.StatusNotFound, "not_found")
		want(t, "unknown endpoint", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/nope/endpoint", nil), http.StatusNotFound, "not_found")
	})
}

// TestEndpointSigningSecret sets the secret a signed endpoint checks: the
// caller's own, then a generated one; the settings show how many are set,
// never a secret of the caller's own; only who may manage endpoint tokens
// may; a bad secret or a flow that does not verify signatures changes
// nothing.
func TestEndpointSigningSecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		res, err := b.svc.Flows.SaveFlow(b.ctx, flows.SaveParams{FolderID: b.folder.ID, Document: []byte(enginetest.SignedFlow), By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/flows/" + res.Flow.ID + "/endpoint"
		read := func() Endpoint {
			t.Helper()
			var ep Endpoint
			b.do(auth.RoleWorkflowsAdmin, "GET", path, nil).decode(t, &ep)
			return ep
		}
		if ep := read(); ep.Signature == nil || ep.Signature.Scheme != "hmac-sha256" || ep.Signature.Header != "X-Hub-Signature-256" || ep.Signature.Secrets != 0 {
			t.Fatalf("a signed endpoint before any secret: %+v", ep.Signature)
		}
		set := path + "/signing-secret"
		const own = "It's a Secret to Everybody"
		for _, tc := range []struct {
			role   auth.Role
			path   string
			body   any
			status int
			code   string
		}{
			{auth.RoleIssueResponder, set, map[string]any{"secret": own}, 403, "forbidden"},
			{auth.RoleWorkflowsAdmin, set, map[string]any{"secret": "short"}, 400, "invalid"},
			{auth.RoleWorkflowsAdmin, set, map[string]any{}, 400, "invalid"},
			{auth.RoleWorkflowsAdmin, set, map[string]any{"secret": own, "generate": true}, 400, "invalid"},
			{auth.RoleWorkflowsAdmin, "/api/v1/flows/" + b.open.ID + "/endpoint/signing-secret", map[string]any{"generate": true}, 409, "conflict"},
		} {
			want(t, string(tc.role)+" set "+tc.path, b.do(tc.role, "POST", tc.path, tc.body), tc.status, tc.code)
		}
		if ep := read(); ep.Signature.Secrets != 0 {
			t.Fatalf("a refused change set a secret: %+v", ep.Signature)
		}
		r := b.do(auth.RoleWorkflowsAdmin, "POST", set, map[string]any{"secret": own})
		want(t, "own secret", r, http.StatusOK, "")
		if strings.Contains(string(r.body), "Secret to Everybody") {
			t.Errorf("the answer echoes the caller's own secret: %s", r.body)
		}
		var got struct {
			Endpoint
			SigningSecret string `json:"signingSecret"`
		}
		r = b.do(auth.RoleSuperAdmin, "POST", set, map[string]any{"generate": true, "keepPrevious": true})
		want(t, "generated secret", r, http.StatusOK, "")
		r.decode(t, &got)
		if len(got.SigningSecret) != 64 || got.Signature == nil || got.Signature.Secrets != 2 {
			t.Fatalf("generated, keeping the previous: %+v", got)
		}
		if ep := read(); ep.Signature.Secrets != 2 || strings.Contains(fmt.Sprint(ep), got.SigningSecret) {
			t.Errorf("after a generated secret the settings show %+v", ep.Signature)
		}
	})
}
