package invoke

import (
	"net/http"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestCORS checks that a browser preflight is answered for the flow's
// allowed origins only (none by default), that an unknown alias answers a
// preflight like a refused origin, and that the answer to an authenticated
// request from an allowed origin lets the page read it.
func TestCORS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		api := clientToken()
		b := setup(t, st, api, Config{})
		preflight := func(url, origin, method string) *answer {
			t.Helper()
			resp, _ := b.do(t, http.MethodOptions, url, "", map[string]string{"Origin": origin, "Access-Control-Request-Method": method,
				"Access-Control-Request-Headers": "content-type, x-api-client-token"})
			return resp
		}
		if resp := preflight(b.url, "https://app.example.com", "POST"); resp.StatusCode != http.StatusForbidden ||
			resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight with no allowed origins: %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}

		b.flows.target.Endpoint.AllowedOrigins = []string{"https://app.example.com"}
		resp := preflight(b.url, "https://app.example.com", "POST")
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			resp.Header.Get("Access-Control-Allow-Methods") != "GET, POST" || resp.Header.Get("Access-Control-Allow-Headers") != corsAllowHeaders {
			t.Errorf("preflight from an allowed origin: %d %v", resp.StatusCode, resp.Header)
		}
		for _, tc := range []struct{ name, url, origin, method string }{
			{"other origin", b.url, "https://evil.example.com", "POST"},
			{"origin differing in port", b.url, "https://app.example.com:8443", "POST"},
			{"method", b.url, "https://app.example.com", "DELETE"},
			{"unknown alias", b.srv.URL + "/api/flo/nope/invoke", "https://app.example.com", "POST"},
		} {
			if resp := preflight(tc.url, tc.origin, tc.method); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s: preflight answered %d %q", tc.name, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}

		resp, _ = b.do(t, http.MethodPost, b.url, `{}`, map[string]string{"Origin": "https://app.example.com", "x-api-client-token": b.token})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			resp.Header.Get("Access-Control-Expose-Headers") == "" {
			t.Errorf("request from an allowed origin: %d %v", resp.StatusCode, resp.Header)
		}
		resp, _ = b.do(t, http.MethodPost, b.url, `{}`, map[string]string{"Origin": "https://app.example.com", "x-api-client-token": "wrong"})
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("a wrong token from an allowed origin: %d %q; want 401 without CORS headers", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		resp, _ = b.do(t, http.MethodPost, b.url, `{}`, map[string]string{"Origin": "https://evil.example.com", "x-api-client-token": b.token})
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Error("a request from another origin got CORS headers")
		}
		b.flows.target.Endpoint.AllowedOrigins = []string{"*"}
		if resp := preflight(b.url, "https://any.example.org", "GET"); resp.StatusCode != http.StatusNoContent ||
			resp.Header.Get("Access-Control-Allow-Origin") != "https://any.example.org" {
			t.Errorf("preflight with *: %d %v", resp.StatusCode, resp.Header)
		}
	})
}
