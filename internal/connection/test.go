package connection

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/okta"
)

// Test makes one harmless read call with the connection's credentials,
// records the outcome on the connection and returns it. The call is made
// even when the connection is in dry run: it changes nothing. The error is
// only for a connection that cannot be found or read; a refused call is a
// result with OK false.
func (s *Service) Test(ctx context.Context, nameOrID string) (TestResult, error) {
	c, err := s.lookup(ctx, nameOrID)
	if err != nil {
		return TestResult{}, err
	}
	r, err := s.Resolve(ctx, c.Name)
	if err != nil {
		return TestResult{}, err
	}
	if s.cfg.Client == nil {
		return TestResult{}, errors.New("connection test: no outbound HTTP client is configured")
	}
	tctx, cancel := context.WithTimeout(ctx, s.cfg.TestTimeout)
	defer cancel()
	msg, err := s.probe(tctx, r)
	res := TestResult{OK: err == nil, Message: msg, At: s.cfg.Now()}
	if err != nil {
		res.Message = failure(r, err)
	}
	if err := s.st.SetConnectionTest(ctx, c.ID, res.At, res.OK, res.Message); err != nil {
		return res, fmt.Errorf("record the test of connection %q: %w", c.Name, err)
	}
	s.cfg.Logger.Info("connection tested", "connection", c.Name, "kind", c.Kind, "ok", res.OK)
	return res, nil
}

// probe runs the kind's read call and says what it found.
func (s *Service) probe(ctx context.Context, r *Resolved) (string, error) {
	o := ClientOptions{HTTPClient: s.cfg.Client}
	switch r.Kind {
	case KindOkta:
		c, err := r.Okta(o)
		if err != nil {
			return "", err
		}
		u, err := c.GetUser(ctx, "me")
		switch {
		case errors.Is(err, okta.ErrNotFound):
			// A service app's token has no user behind it: Okta answers
			// 404 for "me" only after it accepted the credentials.
			return fmt.Sprintf("Connected to Okta at %s: the credentials were accepted.", r.Get("url")), nil
		case err != nil:
			return "", err
		}
		return fmt.Sprintf("Connected to Okta at %s as %s.", r.Get("url"), u.Profile.Login), nil
	case KindEntra:
		c, err := r.Entra(o)
		if err != nil {
			return "", err
		}
		org, err := c.Organization(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Connected to Microsoft Entra ID tenant %s (%s).", org.DisplayName, org.DefaultDomain()), nil
	case KindGoogle:
		c, err := r.Google(o)
		if err != nil {
			return "", err
		}
		if err := c.Ping(ctx); err != nil {
			return "", err
		}
		return fmt.Sprintf("Connected to Google Workspace as %s: listing users works.", r.Get("subject")), nil
	case KindSalesforce:
		c, err := r.Salesforce(o)
		if err != nil {
			return "", err
		}
		org, err := c.Organization(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Connected to Salesforce org %s (%s).", org.Name, org.ID), nil
	case KindSlack:
		if r.SlackWebhook() {
			return "", errUntestable
		}
		c, err := r.Slack(o)
		if err != nil {
			return "", err
		}
		id, err := c.AuthTest(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Connected to Slack workspace %s as %s.", id.Team, id.User), nil
	case KindJira:
		c, err := r.Jira(o)
		if err != nil {
			return "", err
		}
		u, err := c.Myself(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Connected to Jira at %s as %s.", r.Get("siteUrl"), u.DisplayName), nil
	case KindHTTP:
		return s.probeHTTP(ctx, r)
	}
	return "", fmt.Errorf("connections of kind %s cannot be tested", r.Kind)
}

// errUntestable is the outcome of a test that cannot be made without a
// side effect.
var errUntestable = errors.New("untestable")

// probeHTTP sends HEAD to the base URL, or GET when HEAD is not allowed.
// It follows no redirect: a 3xx is a failure, since the flows' calls will
// not follow it either, and a redirect could lead the credentials
// elsewhere.
func (s *Service) probeHTTP(ctx context.Context, r *Resolved) (string, error) {
	t, err := r.HTTP()
	if err != nil {
		return "", err
	}
	client := *s.cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	status := 0
	location := ""
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		req, err := http.NewRequestWithContext(ctx, method, t.BaseURL, nil)
		if err != nil {
			return "", err
		}
		if t.AuthHeader != "" {
			req.Header.Set(t.AuthHeader, t.AuthValue)
		}
		res, err := client.Do(req)
		if err != nil {
			return "", err
		}
		res.Body.Close()
		status = res.StatusCode
		if loc, err := res.Location(); err == nil {
			loc.RawQuery, loc.Fragment, loc.User = "", "", nil
			location = loc.String()
		}
		if status != http.StatusMethodNotAllowed && status != http.StatusNotImplemented {
			break
		}
	}
	if status >= 300 && status < 400 {
		if location != "" {
			location = " to " + location
		}
		return "", fmt.Errorf("%s answered HTTP %d %s, a redirect%s; redirects are not followed, so give the final address", t.BaseURL, status, http.StatusText(status), location)
	}
	if status >= 400 {
		return "", fmt.Errorf("%s answered HTTP %d %s", t.BaseURL, status, http.StatusText(status))
	}
	return fmt.Sprintf("Reached %s: HTTP %d %s.", t.BaseURL, status, http.StatusText(status)), nil
}

// failure turns a failed probe into one sentence.
func failure(r *Resolved, err error) string {
	t, _ := TypeOf(r.Kind)
	var blocked *netguard.BlockedError
	switch {
	case errors.Is(err, errUntestable):
		return "A Slack incoming webhook cannot be checked without posting to its channel, so nothing was sent; post a message from a flow to try it."
	case errors.As(err, &blocked):
		return fmt.Sprintf("The outbound guard refused to call %s: %s", t.Title, blocked.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%s did not answer in time.", t.Title)
	}
	msg := err.Error()
	// Vendor errors start with the package name ("okta: get user me: …").
	if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, r.Kind+":") {
		msg = rest
	}
	return fmt.Sprintf("The test of %s failed: %s.", t.Title, strings.TrimSuffix(msg, "."))
}
