package salesforcetest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/vigil-ispm/vigil/internal/salesforce/salesforcetest"
)

func TestFakeRefusesWhatSalesforceRefuses(t *testing.T) {
	s := salesforcetest.New(t)
	s.AddUser(salesforcetest.User{ID: "005A", Username: "a@acme.example", IsActive: true})
	resp, err := s.Client().PostForm(s.URL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {salesforcetest.ClientID}, "client_secret": {salesforcetest.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.AccessToken == "" || tok.InstanceURL != s.URL {
		t.Fatalf("token = %+v", tok)
	}
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
