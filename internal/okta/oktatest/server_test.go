package oktatest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// answer is what a test reads of a response whose body send already read
// and closed.
type answer struct {
	StatusCode int
	Header     http.Header
}

func get(t *testing.T, s *Server, method, path string, header map[string]string) (answer, map[string]any) {
	t.Helper()
	resp, b := send(t, s, method, path, header)
	var obj map[string]any
	_ = json.Unmarshal(b, &obj)
	return resp, obj
}

// send makes one request with a valid token and Accept header, changed or
// removed (empty value) by header.
func send(t *testing.T, s *Server, method, path string, header map[string]string) (answer, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, nil)
	req.Header.Set("Authorization", "SSWS "+DefaultToken)
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header}, b
}

func TestRefusals(t *testing.T) {
	s := New(t)
	s.AddUser(User{Login: "a@example.com"})
	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		wantStatus int
		wantCode   string
	}{
		{"no token", "GET", "/api/v1/users", map[string]string{"Authorization": ""}, 401, "E0000011"},
		{"wrong token", "GET", "/api/v1/users", map[string]string{"Authorization": "SSWS nope"}, 401, "E0000011"},
		{"bearer instead of SSWS", "GET", "/api/v1/users", map[string]string{"Authorization": "Bearer " + DefaultToken}, 401, "E0000011"},
		{"no Accept", "GET", "/api/v1/users", map[string]string{"Accept": ""}, 406, "E0000001"},
		{"limit too large", "GET", "/api/v1/users?limit=201", nil, 400, "E0000001"},
		{"limit not a number", "GET", "/api/v1/users?limit=ten", nil, 400, "E0000001"},
		{"unknown cursor", "GET", "/api/v1/users?after=made-up", nil, 400, "E0000001"},
		{"bad filter", "GET", "/api/v1/users?filter=" + "status%20like%20%22A%22", nil, 400, "E0000031"},
		{"assignees limit too large", "GET", "/api/v1/iam/assignees/users?limit=200", nil, 400, "E0000001"},
		{"policies without type", "GET", "/api/v1/policies", nil, 400, "E0000001"},
		{"unknown user", "GET", "/api/v1/users/00unope/factors", nil, 404, "E0000007"},
		{"wrong method", "POST", "/api/v1/users", nil, 404, "E0000022"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, obj := get(t, s, tt.method, tt.path, tt.header)
			if resp.StatusCode != tt.wantStatus || obj["errorCode"] != tt.wantCode {
				t.Errorf("got %d %v, want %d %s", resp.StatusCode, obj["errorCode"], tt.wantStatus, tt.wantCode)
			}
			for _, k := range []string{"errorSummary", "errorLink", "errorId", "errorCauses"} {
				if _, ok := obj[k]; !ok {
					t.Errorf("error object lacks %s", k)
				}
			}
		})
	}
}

func TestPagingLinks(t *testing.T) {
	s := New(t)
	for i := range 5 {
		s.AddUser(User{Login: fmt.Sprintf("u%d@example.com", i)})
	}
	next := "/api/v1/users?limit=2"
	var pages, users int
	for next != "" {
		resp, body := send(t, s, "GET", next, nil)
		pages++
		var page []map[string]any
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("page is not a JSON array: %v", err)
		}
		users += len(page)
		if resp.Header.Get("X-Rate-Limit-Limit") == "" || resp.Header.Get("X-Rate-Limit-Reset") == "" {
			t.Error("rate-limit headers missing")
		}
		next = ""
		for _, l := range resp.Header.Values("Link") {
			if strings.HasSuffix(l, `rel="next"`) {
				next = strings.TrimPrefix(l[1:strings.Index(l, ">")], s.URL)
			}
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 3 || users != 5 {
		t.Errorf("got %d pages and %d users, want 3 and 5", pages, users)
	}
}

func TestRateLimitWindowAndFaults(t *testing.T) {
	s := New(t)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	s.SetRateLimit(600, 1)
	if resp, _ := get(t, s, "GET", "/api/v1/groups", nil); resp.StatusCode != 200 || resp.Header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("first request: %d remaining %s", resp.StatusCode, resp.Header.Get("X-Rate-Limit-Remaining"))
	}
	if resp, obj := get(t, s, "GET", "/api/v1/groups", nil); resp.StatusCode != 429 || obj["errorCode"] != "E0000047" {
		t.Fatalf("second request: %d %v, want 429 E0000047", resp.StatusCode, obj["errorCode"])
	}
	now = now.Add(time.Minute)
	if resp, _ := get(t, s, "GET", "/api/v1/groups", nil); resp.StatusCode != 200 {
		t.Fatalf("after the reset: %d", resp.StatusCode)
	}
	s.FailNext("GET", "/api/v1/groups", 503, 1)
	if resp, obj := get(t, s, "GET", "/api/v1/groups", nil); resp.StatusCode != 503 || obj["errorCode"] != "E0000009" {
		t.Errorf("injected fault: %d %v", resp.StatusCode, obj["errorCode"])
	}
	s.FailNext("GET", "/api/v1/groups", 403, 1)
	if resp, obj := get(t, s, "GET", "/api/v1/groups", nil); resp.StatusCode != 403 || obj["errorCode"] != "E0000006" ||
		obj["errorSummary"] != "You do not have permission to perform the requested action" {
		t.Errorf("injected 403: %d %v %v, want E0000006", resp.StatusCode, obj["errorCode"], obj["errorSummary"])
	}
	if resp, _ := get(t, s, "GET", "/api/v1/groups", nil); resp.StatusCode != 200 {
		t.Errorf("after the faults: %d", resp.StatusCode)
	}
	if n := len(s.Requests()); n != 6 {
		t.Errorf("recorded %d requests, want 6", n)
	}
	for _, r := range s.Requests() {
		if _, ok := r.Header["Authorization"]; ok {
			t.Error("recorded request keeps the Authorization header")
		}
	}
}

func TestAddToAppGroupRefused(t *testing.T) {
	s := New(t)
	u := s.AddUser(User{Login: "a@example.com"})
	g := s.AddGroup(Group{Name: "app", Type: "APP_GROUP"})
	if resp, obj := get(t, s, "PUT", "/api/v1/groups/"+g.ID+"/users/"+u.ID, nil); resp.StatusCode != 400 || obj["errorCode"] != "E0000001" {
		t.Errorf("got %d %v, want 400 E0000001", resp.StatusCode, obj["errorCode"])
	}
	if len(s.GroupMembers(g.ID)) != 0 {
		t.Error("the app group changed")
	}
}
