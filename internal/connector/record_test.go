package connector_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
)

// TestRealCallsAreRecorded runs a real suspend against the fake Okta, the
// first answer a 429: each request sent is in the history with its
// answer, and the API token is in none of them.
func TestRealCallsAreRecorded(t *testing.T) {
	b, ok, u := oktaFixture(t, false)
	ok.FailNext("POST", "/api/v1/users/"+u.ID+"/lifecycle/suspend", 429, 1)
	r := b.run(t, "okta.suspendUser", map[string]any{"connection": "Okta", "user": u.ID}, false)
	if r.fault != nil {
		t.Fatalf("fault: %v", r.fault)
	}
	var statuses []float64
	for _, n := range r.notes {
		if n.Kind == connector.NoteKind {
			t.Errorf("a real call was recorded as a dry run: %s", n.Message)
		}
		if n.Kind != connector.NoteCall {
			continue
		}
		raw, _ := json.Marshal(n.Data)
		if strings.Contains(string(raw), oktatest.DefaultToken) || strings.Contains(n.Message, oktatest.DefaultToken) {
			t.Errorf("the API token is in the history: %s", raw)
		}
		m := n.Data.(map[string]any)
		if m["method"] != "POST" || m["url"] != ok.URL+"/api/v1/users/"+u.ID+"/lifecycle/suspend" || m["dryRun"] != false || m["connection"] != "Okta" {
			t.Errorf("recorded request %s", raw)
		}
		if h := m["headers"].(map[string]any)["Authorization"]; !strings.HasPrefix(h.(string), "SSWS ") || strings.Contains(h.(string), "fake-okta") {
			t.Errorf("Authorization recorded as %q", h)
		}
		if _, ok := m["durationMs"]; !ok {
			t.Errorf("no duration: %s", raw)
		}
		res := m["response"].(map[string]any)
		statuses = append(statuses, toFloat(res["status"]))
	}
	if len(statuses) != 2 || statuses[0] != 429 || statuses[1] != 200 {
		t.Errorf("recorded answers %v, want 429 then 200", statuses)
	}
}

// TestRecordMasksTokensInQueryAndAnswer sends http.request to a server
// that echoes an access token: the token query parameter and the token in
// the answer are masked in the record, and the flow still gets the whole
// answer.
func TestRecordMasksTokensInQueryAndAnswer(t *testing.T) {
	const leaked = "tok-9f8e7d6c5b4a39281706"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"` + leaked + `","padding":"` + strings.Repeat("x", 5000) + `"}`))
	}))
	t.Cleanup(srv.Close)
	b := setup(t)
	b.add(t, "API", "http", false, map[string]string{"baseUrl": srv.URL, "auth": "none"})
	r := b.run(t, "http.request", map[string]any{"connection": "API", "method": "GET", "path": "/x", "query": map[string]any{"token": leaked, "page": "2"}}, false)
	if r.fault != nil {
		t.Fatalf("fault: %v", r.fault)
	}
	body, _ := r.out["body"].(map[string]any)
	if body["access_token"] != leaked {
		t.Errorf("the flow got %v, want the whole answer", r.out["body"])
	}
	found := false
	for _, n := range r.notes {
		if n.Kind != connector.NoteCall {
			continue
		}
		found = true
		raw, _ := json.Marshal(n.Data)
		if strings.Contains(string(raw), leaked) || strings.Contains(n.Message, leaked) {
			t.Errorf("the token is in the record: %s", n.Message)
		}
		if !strings.Contains(n.Data.(map[string]any)["url"].(string), "page=2") {
			t.Errorf("url %v lost its other parameters", n.Data.(map[string]any)["url"])
		}
		if res := n.Data.(map[string]any)["response"].(map[string]any); res["truncated"] != true {
			t.Errorf("a 5 KB answer was not cut: %v", res["truncated"])
		}
	}
	if !found {
		t.Error("no call recorded")
	}
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	case json.Number:
		f, _ := v.Float64()
		return f
	}
	return -1
}
