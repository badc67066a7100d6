package jira_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/jira"
	"github.com/vigil-ispm/vigil/internal/jira/jiratest"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

func setup(t *testing.T, edit func(*jira.Config)) (*jiratest.Server, *clocktest.Clock, *jira.Client) {
	t.Helper()
	fake := jiratest.New(t)
	sl := clocktest.Still(time.Time{})
	cfg := fake.Config()
	cfg.Retry = vendorfake.Retry(sl)
	if edit != nil {
		edit(&cfg)
	}
	c, err := jira.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fake, sl, c
}

func TestCreateIssue(t *testing.T) {
	fake, _, c := setup(t, nil)
	got, err := c.CreateIssue(context.Background(), jira.IssueInput{
		ProjectKey: "SEC", Summary: "Unused Admin Account: Ali Lesch", IssueType: "Bug",
		Description: "Admin account unused for 91 days.\n\nSuggested remediation:\nSuspend the account.",
		Labels:      []string{"vigil", "ispm"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != "SEC-1" || got.ID == "" || got.Self != fake.URL+"/rest/api/3/issue/"+got.ID {
		t.Errorf("created = %+v", got)
	}
	issues := fake.Issues()
	if len(issues) != 1 || issues[0].IssueType != "Bug" || issues[0].Summary != "Unused Admin Account: Ali Lesch" {
		t.Fatalf("issues = %+v", issues)
	}
	wantDoc := `{"type":"doc","version":1,"content":[` +
		`{"type":"paragraph","content":[{"type":"text","text":"Admin account unused for 91 days."}]},` +
		`{"type":"paragraph","content":[{"type":"text","text":"Suggested remediation:"},{"type":"hardBreak"},{"type":"text","text":"Suspend the account."}]}]}`
	if string(issues[0].Description) != wantDoc {
		t.Errorf("description = %s", issues[0].Description)
	}
	r := fake.Requests()[0]
	email, token, ok := (&http.Request{Header: r.Header}).BasicAuth()
	if r.Method != http.MethodPost || r.Path != "/rest/api/3/issue" || !ok || email != jiratest.Email ||
		token != jiratest.APIToken || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s %v", r.Method, r.Path, r.Header)
	}
	var body struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || string(body.Fields["project"]) != `{"key":"SEC"}` ||
		string(body.Fields["issuetype"]) != `{"name":"Bug"}` {
		t.Errorf("body = %s", r.Body)
	}
}

func TestCreateIssueDefaultsToTask(t *testing.T) {
	fake, _, c := setup(t, nil)
	if _, err := c.CreateIssue(context.Background(), jira.IssueInput{ProjectKey: "SEC", Summary: "x"}); err != nil {
		t.Fatal(err)
	}
	if is := fake.Issues(); is[0].IssueType != "Task" || is[0].Description != nil {
		t.Errorf("issue = %+v", is[0])
	}
}

func TestCreateIssueRefused(t *testing.T) {
	tests := []struct {
		name      string
		in        jira.IssueInput
		edit      func(*jira.Config)
		wantIs    error
		wantField string
		wantText  string
	}{
		{"unknown project", jira.IssueInput{ProjectKey: "NOPE", Summary: "x"}, nil, nil, "project", "valid project is required"},
		{"unknown issue type", jira.IssueInput{ProjectKey: "SEC", Summary: "x", IssueType: "Epic"}, nil, nil, "issuetype", "Specify a valid issue type"},
		{"label with a space", jira.IssueInput{ProjectKey: "SEC", Summary: "x", Labels: []string{"two words"}}, nil, nil, "labels", "contains spaces"},
		{"wrong token", jira.IssueInput{ProjectKey: "SEC", Summary: "x"}, func(c *jira.Config) { c.APIToken = "wrong-token" },
			jira.ErrUnauthorized, "", "Client must be authenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, sl, c := setup(t, tt.edit)
			_, err := c.CreateIssue(context.Background(), tt.in)
			var e *jira.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *jira.Error", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want %v", err, tt.wantIs)
			}
			if tt.wantField != "" && !strings.Contains(e.Message, tt.wantField+": ") {
				t.Errorf("message = %q, want an error on %s", e.Message, tt.wantField)
			}
			if !strings.Contains(err.Error(), tt.wantText) || strings.Contains(err.Error(), "wrong-token") ||
				strings.Contains(err.Error(), jiratest.APIToken) {
				t.Errorf("message = %q", err)
			}
			if len(sl.Waits()) != 0 || len(fake.Issues()) != 0 {
				t.Errorf("retried %v or created %v", sl.Waits(), fake.Issues())
			}
		})
	}
}

func TestRetries(t *testing.T) {
	vendorfake.RunRetries(t, []vendorfake.RetryCase{
		{Name: "429 then created", Status: http.StatusTooManyRequests, After: "4", N: 1, Waits: []time.Duration{4 * time.Second}},
		{Name: "503 twice then created", Status: http.StatusServiceUnavailable, N: 2, Waits: []time.Duration{time.Second, 2 * time.Second}},
		{Name: "rate limited throughout", Status: http.StatusTooManyRequests, After: "2", N: 9, Waits: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}, Is: jira.ErrRateLimited},
		{Name: "Retry-After too long", Status: http.StatusTooManyRequests, After: "900", N: 1, Is: jira.ErrRateLimited},
	}, func(t *testing.T, rc vendorfake.RetryCase) ([]time.Duration, error) {
		fake, sl, c := setup(t, nil)
		fake.FailNext(rc.N, rc.Status, rc.After)
		_, err := c.CreateIssue(context.Background(), jira.IssueInput{ProjectKey: "SEC", Summary: "x"})
		if rc.Is == nil && err != nil {
			t.Fatalf("err = %v", err)
		}
		return sl.Waits(), err
	})
}

func TestMyself(t *testing.T) {
	_, _, c := setup(t, nil)
	u, err := c.Myself(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.EmailAddress != jiratest.Email || u.AccountID == "" || !u.Active {
		t.Errorf("user = %+v", u)
	}
	_, _, bad := setup(t, func(c *jira.Config) { c.Email = "someone@example.com" })
	if _, err := bad.Myself(context.Background()); !errors.Is(err, jira.ErrUnauthorized) {
		t.Errorf("err = %v", err)
	}
}

func TestDocument(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", `{"type":"doc","version":1,"content":[]}`},
		{"one line", `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"one line"}]}]}`},
		{"a\r\nb", `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]}]}`},
		{"a\n\n\n\nb\n", `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a"}]},{"type":"paragraph","content":[{"type":"text","text":"b"}]}]}`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(jira.Document(tt.in))
		if string(got) != tt.want {
			t.Errorf("Document(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	_, err := jira.New(jira.Config{SiteURL: "https://x.atlassian.net"})
	if err == nil || !strings.Contains(err.Error(), "missing the email, the API token, the HTTP client") {
		t.Errorf("err = %v", err)
	}
	_, err = jira.New(jira.Config{SiteURL: "x.atlassian.net", Email: "e", APIToken: "t", HTTPClient: http.DefaultClient})
	if err == nil {
		t.Error("site URL without scheme accepted")
	}
}

func TestNetworkErrorRetriedForReadsOnly(t *testing.T) {
	fake := jiratest.New(t)
	sl := clocktest.Still(time.Time{})
	cfg := fake.Config()
	cfg.Retry = vendorfake.Retry(sl)
	cfg.HTTPClient = &http.Client{Transport: &vendorfake.Flaky{N: 1, Next: fake.Client().Transport}}
	c, _ := jira.New(cfg)
	if _, err := c.Myself(context.Background()); err != nil || len(sl.Waits()) != 1 {
		t.Fatalf("myself: err %v waits %v", err, sl.Waits())
	}
	cfg.HTTPClient = &http.Client{Transport: &vendorfake.Flaky{N: 1, Next: fake.Client().Transport}}
	c, _ = jira.New(cfg)
	_, err := c.CreateIssue(context.Background(), jira.IssueInput{ProjectKey: "SEC", Summary: "x"})
	if err == nil || !strings.Contains(err.Error(), "could not reach Jira") || strings.Contains(err.Error(), fake.URL) {
		t.Fatalf("create: err %v", err)
	}
	if len(fake.Issues()) != 0 || len(sl.Waits()) != 1 {
		t.Errorf("issues %v waits %v", fake.Issues(), sl.Waits())
	}
}
