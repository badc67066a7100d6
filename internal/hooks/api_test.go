package hooks

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		rc := newReceiver(t, nil)
		mux := http.NewServeMux()
		// The guard stands in for the auth package's permission check.
		b.svc.RegisterAPI(mux, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-Test-User") != "admin" {
					http.Error(w, "forbidden", http.StatusForbidden)
					return
				}
				next.ServeHTTP(w, r)
			})
		})
		srv := httptest.NewServer(mux)
		defer srv.Close()

		steps := []struct {
			name   string
			method string
			path   string
			body   string
			anon   bool
			want   int
			check  func(t *testing.T, body string)
		}{
			{"guarded", "GET", "/api/v1/hooks", "", true, 403, nil},
			{"create", "POST", "/api/v1/hooks", `{"name":"WF","url":"https://example.com/hook","keys":[{"name":"clientToken","placement":"param","value":"token-value-123456"}]}`, false, 201,
				func(t *testing.T, body string) {
					var c struct {
						Integration Integration `json:"integration"`
						Secret      string      `json:"signingSecret"`
					}
					json.Unmarshal([]byte(body), &c)
					if !strings.HasPrefix(c.Secret, "whsec_") || !strings.HasPrefix(c.Integration.ID, "hk_") || strings.Contains(body, "token-value-123456") ||
						c.Integration.Keys[0].Masked != "••••••••3456" {
						t.Errorf("created: %s", body)
					}
				}},
			{"duplicate", "POST", "/api/v1/hooks", `{"name":"WF","url":"https://example.com/other"}`, false, 409, nil},
			{"invalid", "POST", "/api/v1/hooks", `{"name":"x","url":"http://example.com/hook"}`, false, 400,
				func(t *testing.T, body string) {
					if !strings.Contains(body, `"field":"url"`) || !strings.Contains(body, "must use https") {
						t.Errorf("invalid: %s", body)
					}
				}},
			{"unknown field", "POST", "/api/v1/hooks", `{"name":"x","url":"https://example.com","secret":"x"}`, false, 400, nil},
			{"list", "GET", "/api/v1/hooks", "", false, 200,
				func(t *testing.T, body string) {
					if strings.Count(body, `"id":"hk_`) != 1 || strings.Contains(body, "token-value") {
						t.Errorf("list: %s", body)
					}
				}},
			{"get by name", "GET", "/api/v1/hooks/WF", "", false, 200, nil},
			{"missing", "GET", "/api/v1/hooks/nope", "", false, 404, nil},
			{"automate", "PUT", "/api/v1/hooks/WF/automation", `{"titles":["Unused Admin Account"],"severities":["High","Critical"]}`, false, 200,
				func(t *testing.T, body string) {
					if !strings.Contains(body, `"autoSend":true`) || !strings.Contains(body, `"eventTypes":["issue.created"]`) {
						t.Errorf("automation: %s", body)
					}
				}},
			{"automate unknown title", "PUT", "/api/v1/hooks/WF/automation", `{"titles":["Nope"]}`, false, 400, nil},
			{"automations", "GET", "/api/v1/hooks/automations", "", false, 200,
				func(t *testing.T, body string) {
					if !strings.Contains(body, "Unused Admin Account") {
						t.Errorf("automations: %s", body)
					}
				}},
			{"test unsaved", "POST", "/api/v1/hooks/test", `{"name":"new","url":"` + rc.URL + `/t","keys":[{"name":"k","placement":"header","value":"v"}]}`, false, 200,
				func(t *testing.T, body string) {
					if !strings.Contains(body, `"ok":true`) || !strings.Contains(body, `"statusCode":200`) {
						t.Errorf("test: %s", body)
					}
				}},
			{"rotate", "POST", "/api/v1/hooks/WF/rotate-secret", `{"graceSeconds":3600}`, false, 200,
				func(t *testing.T, body string) {
					if !strings.Contains(body, `"signingSecret":"whsec_`) {
						t.Errorf("rotate: %s", body)
					}
				}},
			{"bad status filter", "GET", "/api/v1/hooks/deliveries?status=lost", "", false, 400, nil},
			{"deliveries", "GET", "/api/v1/hooks/WF/deliveries?status=dead", "", false, 200,
				func(t *testing.T, body string) {
					if body != "{\"deliveries\":[]}\n" {
						t.Errorf("deliveries: %q", body)
					}
				}},
			{"pause", "POST", "/api/v1/hooks/WF/pause", `{"reason":"maintenance window"}`, false, 200,
				func(t *testing.T, body string) {
					if !strings.Contains(body, `"state":"paused"`) || !strings.Contains(body, "maintenance window") {
						t.Errorf("pause: %s", body)
					}
				}},
			{"resume", "POST", "/api/v1/hooks/WF/resume", "", false, 200,
				func(t *testing.T, body string) {
					if body != "{\"queued\":0}\n" {
						t.Errorf("resume: %q", body)
					}
				}},
			{"resend nothing", "POST", "/api/v1/hooks/deliveries/resend", `{"ids":[]}`, false, 400, nil},
			{"resend unknown", "POST", "/api/v1/hooks/deliveries/resend", `{"ids":["hkd_x"]}`, false, 404, nil},
			{"delete", "DELETE", "/api/v1/hooks/WF", "", false, 204, nil},
			{"deleted", "GET", "/api/v1/hooks/WF", "", false, 404, nil},
		}
		for _, s := range steps {
			req, _ := http.NewRequest(s.method, srv.URL+s.path, strings.NewReader(s.body))
			if !s.anon {
				req.Header.Set("X-Test-User", "admin")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != s.want {
				t.Errorf("%s: %s %s = %d %s, want %d", s.name, s.method, s.path, resp.StatusCode, body, s.want)
				continue
			}
			if s.check != nil {
				s.check(t, string(body))
			}
		}
	})
}
