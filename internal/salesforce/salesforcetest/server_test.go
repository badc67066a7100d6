package salesforcetest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/vigil-ispm/vigil/internal/salesforce/salesforcetest"
)

// session is the token endpoint's answer.
type session struct {
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
}

// login gets an access token with the client-credentials grant and checks
// that the instance URL is the fake's.
func login(t *testing.T, s *salesforcetest.Server) session {
	t.Helper()
	var tok session
	resp, err := s.Client().PostForm(s.URL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {salesforcetest.ClientID}, "client_secret": {salesforcetest.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.AccessToken == "" || tok.InstanceURL != s.URL {
		t.Fatalf("token = %+v", tok)
	}
	return tok
}

func TestFakeRefusesWhatSalesforceRefuses(t *testing.T) {
	s := salesforcetest.New(t)
	s.AddUser(salesforcetest.User{ID: "005A", Username: "a@acme.example", IsActive: true})
	tok := login(t, s)
	tests := []struct {
		name     string
		path     string
		token    string
		wantCode string
		want     int
	}{
		{"no session", "/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Id FROM User"), "x", "INVALID_SESSION_ID", 401},
		{"ok", "/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Id, Username FROM User"), tok.AccessToken, "", 200},
		{"not SOQL", "/services/data/v62.0/query?q=" + url.QueryEscape("DELETE User"), tok.AccessToken, "MALFORMED_QUERY", 400},
		{"unknown object", "/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Id FROM Widget"), tok.AccessToken, "INVALID_TYPE", 400},
		{"unknown field", "/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Id, Salary FROM User"), tok.AccessToken, "INVALID_FIELD", 400},
		{"unknown WHERE", "/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Id FROM User WHERE IsActive = true"), tok.AccessToken, "MALFORMED_QUERY", 400},
		{"made-up locator", "/services/data/v62.0/query/01gXYZ-2000", tok.AccessToken, "INVALID_QUERY_LOCATOR", 400},
		{"unknown version", "/services/data/v10.0/query?q=" + url.QueryEscape("SELECT Id FROM User"), tok.AccessToken, "NOT_FOUND", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.URL+tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.wantCode == "" {
				return
			}
			var errs []struct {
				ErrorCode string `json:"errorCode"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&errs); err != nil || len(errs) != 1 || errs[0].ErrorCode != tt.wantCode {
				t.Errorf("errors = %+v (%v), want %s", errs, err, tt.wantCode)
			}
		})
	}
}

func TestFakeInjectsFaults(t *testing.T) {
	s := salesforcetest.New(t)
	tok := login(t, s)
	s.FailNext(1, http.StatusForbidden, "")
	s.FailNextWith(1, http.StatusForbidden, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner")
	for _, want := range []string{"REQUEST_LIMIT_EXCEEDED", "API_DISABLED_FOR_ORG", ""} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/services/data/v62.0/query?q="+url.QueryEscape("SELECT Id FROM User"), nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var errs []struct {
			ErrorCode string `json:"errorCode"`
			Message   string `json:"message"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&errs)
		resp.Body.Close()
		switch {
		case want == "" && resp.StatusCode != http.StatusOK:
			t.Errorf("after the faults: status %d, want 200", resp.StatusCode)
		case want != "" && (resp.StatusCode != http.StatusForbidden || len(errs) != 1 || errs[0].ErrorCode != want || errs[0].Message == ""):
			t.Errorf("status %d errors %+v, want 403 %s", resp.StatusCode, errs, want)
		}
	}
}
