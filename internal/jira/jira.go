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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/netguard"
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
	// MaxRetries bounds how often one request is retried after a 429 or 5xx
	// answer. Default 3; negative means never retry.
	MaxRetries int
	// MaxRetryWait is the longest single wait accepted; a longer Retry-After
	// fails the call instead. Default 60 seconds.
	MaxRetryWait time.Duration
	// Now tells the time, to read a Retry-After given as a date. Default time.Now.
	Now func() time.Time
	// Sleep waits between retries, returning early with ctx's error.
	// Default a timer; tests pass a recorder so they run instantly.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to one Jira site. It is safe for concurrent use.
type Client struct {
	cfg  Config
	site string
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	var missing []string
	for _, f := range []struct {
		name string
		ok   bool
	}{{"site URL", cfg.SiteURL != ""}, {"email", cfg.Email != ""}, {"API token", cfg.APIToken != ""},
		{"HTTP client", cfg.HTTPClient != nil}} {
		if !f.ok {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("jira: the connection is missing the %s", strings.Join(missing, ", the "))
	}
	u, err := url.Parse(cfg.SiteURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("jira: the site URL %q is not an http(s) URL", cfg.SiteURL)
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = 60 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return &Client{cfg: cfg, site: strings.TrimRight(cfg.SiteURL, "/")}, nil
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

func (c *Client) do(ctx context.Context, op, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("jira: %s: encode request: %w", op, err)
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, c.site+path, bytes.NewReader(payload))
		if err != nil {
			return fmt.Errorf("jira: %s: build request: %w", op, err)
		}
		req.SetBasicAuth(c.cfg.Email, c.cfg.APIToken)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.cfg.HTTPClient.Do(req)
		if err != nil {
			if ctx.Err() == nil && method == http.MethodGet && !blocked(err) && attempt < c.cfg.MaxRetries {
				if err := c.cfg.Sleep(ctx, c.backoff(attempt)); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("jira: %s: could not reach Jira: %w", op, unwrapURLError(err))
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("jira: %s: read answer: %w", op, unwrapURLError(err))
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if out != nil {
				if err := json.Unmarshal(data, out); err != nil {
					return fmt.Errorf("jira: %s: Jira sent a body that is not the expected JSON: %w", op, err)
				}
			}
			return nil
		}
		retryAfter := retryAfterOf(resp.Header, c.cfg.Now())
		if (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) &&
			attempt < c.cfg.MaxRetries && retryAfter <= c.cfg.MaxRetryWait {
			wait := retryAfter
			if wait <= 0 {
				wait = c.backoff(attempt)
			}
			if err := c.cfg.Sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		return apiError(op, resp.StatusCode, data, retryAfter)
	}
}

// backoff is the wait before retry number attempt+1 when Jira named none:
// 1 s, 2 s, 4 s, … up to MaxRetryWait.
func (c *Client) backoff(attempt int) time.Duration {
	return min(time.Second<<min(attempt, 16), c.cfg.MaxRetryWait)
}

// blocked says whether the SSRF guard refused the address: retrying cannot help.
func blocked(err error) bool {
	var be *netguard.BlockedError
	return errors.As(err, &be)
}

func retryAfterOf(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
