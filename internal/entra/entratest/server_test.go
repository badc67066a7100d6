package entratest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/entra/entratest"
)

func token(t *testing.T, s *entratest.Server) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {entratest.ClientID},
		"client_secret": {entratest.ClientSecret}, "scope": {s.URL + "/.default"}}
	resp, err := s.Client().PostForm(s.URL+"/"+entratest.TenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("token: %v %+v", err, out)
	}
	return out.AccessToken
}

func get(t *testing.T, s *entratest.Server, tok, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

func TestFakeBehavesLikeGraph(t *testing.T) {
	s := entratest.New(t)
	s.AddUser(entratest.User{ID: "u1", DisplayName: "Ann", UserPrincipalName: "ann@contoso.example",
		AccountEnabled: true, CreatedDateTime: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	tok := token(t, s)

	tests := []struct {
		name       string
		tok, path  string
		wantStatus int
		check      func(t *testing.T, body map[string]any)
	}{
		{"no token", "", "/v1.0/users", 401, nil},
		{"default fields leave out accountEnabled", tok, "/v1.0/users", 200, func(t *testing.T, body map[string]any) {
			u := body["value"].([]any)[0].(map[string]any)
			if _, ok := u["accountEnabled"]; ok {
				t.Error("accountEnabled returned without $select")
			}
			if u["userPrincipalName"] != "ann@contoso.example" {
				t.Errorf("user = %v", u)
			}
		}},
		{"selected fields only", tok, "/v1.0/users?$select=id,accountEnabled,createdDateTime", 200, func(t *testing.T, body map[string]any) {
			u := body["value"].([]any)[0].(map[string]any)
			if len(u) != 3 || u["accountEnabled"] != true || u["createdDateTime"] != "2025-01-01T00:00:00Z" {
				t.Errorf("user = %v", u)
			}
		}},
		{"unknown property", tok, "/v1.0/users?$select=id,shoeSize", 400, func(t *testing.T, body map[string]any) {
			if !strings.Contains(body["error"].(map[string]any)["message"].(string), "shoeSize") {
				t.Errorf("error = %v", body)
			}
		}},
		{"page too large", tok, "/v1.0/users?$top=1000", 400, nil},
		{"made-up skip token", tok, "/v1.0/users?$skiptoken=abc", 400, nil},
		{"unknown segment", tok, "/v1.0/widgets", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, s, tt.tok, tt.path)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%v)", status, tt.wantStatus, body)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

func TestFakeTokenEndpointRefusesBadRequests(t *testing.T) {
	s := entratest.New(t)
	base := url.Values{"grant_type": {"client_credentials"}, "client_id": {entratest.ClientID},
		"client_secret": {entratest.ClientSecret}, "scope": {s.URL + "/.default"}}
	tests := []struct {
		name   string
		tenant string
		key    string
		value  string
		want   int
	}{
		{"ok", entratest.TenantID, "", "", 200},
		{"wrong tenant", "other", "", "", 400},
		{"password grant", entratest.TenantID, "grant_type", "password", 400},
		{"wrong secret", entratest.TenantID, "client_secret", "x", 401},
		{"scope without .default", entratest.TenantID, "scope", s.URL, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range base {
				form[k] = v
			}
			if tt.key != "" {
				form.Set(tt.key, tt.value)
			}
			resp, err := s.Client().PostForm(s.URL+"/"+tt.tenant+"/oauth2/v2.0/token", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestFakeInjectsFaults(t *testing.T) {
	s := entratest.New(t)
	tok := token(t, s)
	s.FailNext(1, http.StatusUnauthorized, "")
	s.FailNext(1, http.StatusForbidden, "")
	for _, want := range []struct {
		status int
		code   string
	}{{401, "InvalidAuthenticationToken"}, {403, "Authorization_RequestDenied"}, {200, ""}} {
		status, body := get(t, s, tok, "/v1.0/users")
		if status != want.status {
			t.Fatalf("status = %d, want %d (%v)", status, want.status, body)
		}
		if want.code == "" {
			continue
		}
		if e, _ := body["error"].(map[string]any); e["code"] != want.code || e["message"] == "" {
			t.Errorf("error = %v, want code %s with a message", body, want.code)
		}
	}
}
