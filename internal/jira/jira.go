// Package jira creates issues in Jira Cloud through REST API v3 and reads
// the calling account with /myself, which is what "Test connection" runs.
//
// It authenticates with basic auth of an Atlassian account email and API
// token, writes descriptions in the Atlassian Document Format that v3
// requires, honours 429 and Retry-After, and retries 5xx with a bounded
// backoff. Only reads are retried after a network error: a create whose
// answer was lost may have happened, and repeating it would file the issue
// twice. Jira's {errorMessages[], errors{}} becomes a typed *Error.
package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// Config says which site to talk to and as whom. Zero values mean the
// default named on each field.
type Config struct {
	// SiteURL is the Jira Cloud site, such as https://example.atlassian.net. Required.
	SiteURL string
	// Email is the Atlassian account the API token belongs to. Required.
	Email string
	// APIToken is that account's API token. Required. It is sent only in the
	// Authorization header and never appears in errors.
	APIToken string
	// HTTPClient sends every request. Required: callers pass Vigil's
	// SSRF-guarded client.
	HTTPClient *http.Client
	// Retry says how often and how long to wait before retrying a 429 or
	// a 5xx; a longer Retry-After than its MaxWait fails the call. Zero
	// values mean vendorhttp's defaults.
	Retry vendorhttp.Retry
}

// Client talks to one Jira site. It is safe for concurrent use.
type Client struct {
	cfg  Config
	site string
	api  *vendorhttp.Client
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	if err := vendorhttp.Missing("jira", "connection", vendorhttp.Need("site URL", cfg.SiteURL != ""), vendorhttp.Need("email", cfg.Email != ""), vendorhttp.Need("API token", cfg.APIToken != ""),
		vendorhttp.Need("HTTP client", cfg.HTTPClient != nil)); err != nil {
		return nil, err
	}
	if _, ok := vendorhttp.HTTPURL(cfg.SiteURL); !ok {
		return nil, fmt.Errorf("jira: the site URL %q is not an http(s) URL", cfg.SiteURL)
	}
	cfg.Retry = cfg.Retry.WithDefaults()
	c := &Client{cfg: cfg, site: strings.TrimRight(cfg.SiteURL, "/")}
	c.api = &vendorhttp.Client{
		Vendor:  &vendor,
		HTTP:    cfg.HTTPClient,
		Retry:   cfg.Retry,
		MaxBody: maxBody,
		Authorize: func(_ context.Context, req *http.Request) error {
			req.SetBasicAuth(cfg.Email, cfg.APIToken)
			return nil
		},
		// Only reads are sent again after a lost answer: a repeated
		// create would open a second issue.
		RetryNetwork: func(method string) bool { return method == http.MethodGet },
	}
	return c, nil
}

// IssueInput is a new issue.
type IssueInput struct {
	// ProjectKey is the project's key, such as "SEC". Required.
	ProjectKey string
	// Summary is the one-line title. Required.
	Summary string
	// IssueType is the issue type's name. Default "Task".
	IssueType string
	// Description is plain text; blank lines separate paragraphs and single
	// newlines become line breaks. It is sent as an Atlassian document.
	Description string
	// Labels are optional labels; Jira refuses labels with spaces.
	Labels []string
}

// CreatedIssue identifies a new issue.
type CreatedIssue struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Self string `json:"self"`
}

// CreateIssue creates an issue and returns its id and key.
func (c *Client) CreateIssue(ctx context.Context, in IssueInput) (CreatedIssue, error) {
	if in.ProjectKey == "" || strings.TrimSpace(in.Summary) == "" {
		return CreatedIssue{}, errors.New("jira: create issue: the project key and the summary are both required")
	}
	if in.IssueType == "" {
		in.IssueType = "Task"
	}
	fields := map[string]any{
		"project":   map[string]string{"key": in.ProjectKey},
		"summary":   in.Summary,
		"issuetype": map[string]string{"name": in.IssueType},
	}
	if strings.TrimSpace(in.Description) != "" {
		fields["description"] = Document(in.Description)
	}
	if len(in.Labels) > 0 {
		fields["labels"] = in.Labels
	}
	var out CreatedIssue
	err := c.do(ctx, "create issue in "+in.ProjectKey, http.MethodPost, "/rest/api/3/issue",
		map[string]any{"fields": fields}, &out)
	return out, err
}

// User is a Jira account.
type User struct {
	AccountID    string `json:"accountId"`
	EmailAddress string `json:"emailAddress"`
	DisplayName  string `json:"displayName"`
	Active       bool   `json:"active"`
	TimeZone     string `json:"timeZone"`
}

// Myself returns the account the credentials belong to. It changes nothing.
func (c *Client) Myself(ctx context.Context) (User, error) {
	var u User
	err := c.do(ctx, "read own account", http.MethodGet, "/rest/api/3/myself", nil, &u)
	return u, err
}

const maxBody = 4 << 20

// do sends one API call to path on the site and decodes a success into out.
func (c *Client) do(ctx context.Context, op, method, path string, body, out any) error {
	return c.api.JSON(ctx, vendorhttp.Request{Op: op, Method: method, URL: c.site + path, Body: body}, out)
}
