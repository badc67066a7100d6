package connection

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/entra"
	"github.com/vigil-ispm/vigil/internal/google"
	"github.com/vigil-ispm/vigil/internal/jira"
	"github.com/vigil-ispm/vigil/internal/okta"
	"github.com/vigil-ispm/vigil/internal/salesforce"
	"github.com/vigil-ispm/vigil/internal/slack"
	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// ClientOptions say how a vendor client built from a connection sends its
// requests.
type ClientOptions struct {
	// HTTPClient sends every request. Required: the SSRF-guarded client,
	// or a dry run's recording client.
	HTTPClient *http.Client
	// Now and Sleep default to the Service's.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// retry gives a vendor client o's clock, with vendorhttp's defaults for the
// rest.
func (o ClientOptions) retry() vendorhttp.Retry {
	return vendorhttp.Retry{Now: o.Now, Sleep: o.Sleep}
}

func (r *Resolved) opts(o ClientOptions) ClientOptions {
	if o.Now == nil {
		o.Now = r.cfg.Now
	}
	if o.Sleep == nil {
		o.Sleep = r.cfg.Sleep
	}
	return o
}

func (r *Resolved) want(kind string) error {
	if r.Kind != kind {
		t, _ := TypeOf(kind)
		return fmt.Errorf("connection %q is a %s connection, not %s", r.Name, r.Kind, t.Title)
	}
	return nil
}

// Okta returns a client for an okta connection.
func (r *Resolved) Okta(o ClientOptions) (*okta.Client, error) {
	if err := r.want(KindOkta); err != nil {
		return nil, err
	}
	o = r.opts(o)
	cfg := okta.Config{BaseURL: r.Get("url"), HTTPClient: o.HTTPClient, Retry: o.retry()}
	if r.Get("auth") == AuthOAuth {
		key, kid, err := okta.ParsePrivateKey([]byte(r.Get("privateKey")))
		if err != nil {
			return nil, fmt.Errorf("connection %q: %w", r.Name, err)
		}
		if r.Get("keyId") != "" {
			kid = r.Get("keyId")
		}
		cfg.OAuth = &okta.OAuthConfig{ClientID: r.Get("clientId"), Key: key, KeyID: kid, Scopes: strings.Fields(r.Get("scopes"))}
	} else {
		cfg.Token = r.Get("token")
	}
	c, err := okta.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", r.Name, err)
	}
	return c, nil
}

// Entra returns a client for an entra connection.
func (r *Resolved) Entra(o ClientOptions) (*entra.Client, error) {
	if err := r.want(KindEntra); err != nil {
		return nil, err
	}
	o = r.opts(o)
	c, err := entra.New(entra.Config{TenantID: r.Get("tenantId"), ClientID: r.Get("clientId"), ClientSecret: r.Get("clientSecret"),
		LoginURL: r.Get("loginUrl"), GraphURL: r.Get("graphUrl"), HTTPClient: o.HTTPClient, Retry: o.retry()})
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", r.Name, err)
	}
	return c, nil
}

// Google returns a client for a google connection, acting as its subject.
func (r *Resolved) Google(o ClientOptions) (*google.Client, error) {
	if err := r.want(KindGoogle); err != nil {
		return nil, err
	}
	o = r.opts(o)
	c, err := google.New(google.Config{CredentialsJSON: []byte(r.Get("serviceAccountKey")), Subject: r.Get("subject"),
		BaseURL: r.Get("baseUrl"), HTTPClient: o.HTTPClient, Retry: o.retry()})
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", r.Name, err)
	}
	return c, nil
}

// Salesforce returns a client for a salesforce connection.
func (r *Resolved) Salesforce(o ClientOptions) (*salesforce.Client, error) {
	if err := r.want(KindSalesforce); err != nil {
		return nil, err
	}
	o = r.opts(o)
	c, err := salesforce.New(salesforce.Config{InstanceURL: r.Get("instanceUrl"), ClientID: r.Get("clientId"),
		ClientSecret: r.Get("clientSecret"), APIVersion: r.Get("apiVersion"), HTTPClient: o.HTTPClient, Retry: o.retry()})
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", r.Name, err)
	}
	return c, nil
}

// SlackWebhook tells whether a slack connection posts through an incoming
// webhook rather than with a bot token.
func (r *Resolved) SlackWebhook() bool { return r.Kind == KindSlack && r.Get("webhookUrl") != "" }

// Slack returns a Web API client for a slack connection with a bot token.
func (r *Resolved) Slack(o ClientOptions) (*slack.Client, error) {
	if err := r.want(KindSlack); err != nil {
		return nil, err
	}
	if r.SlackWebhook() {
		return nil, fmt.Errorf("connection %q posts through an incoming webhook, not with a bot token", r.Name)
	}
	o = r.opts(o)
	c, err := slack.New(slack.Config{Token: r.Get("token"), BaseURL: r.Get("baseUrl"), HTTPClient: o.HTTPClient, Retry: o.retry()})
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", r.Name, err)
	}
	return c, nil
}

// Webhook returns the incoming-webhook poster of a slack connection.
func (r *Resolved) Webhook(o ClientOptions) (*slack.Webhook, error) {
	if err := r.want(KindSlack); err != nil {
		return nil, err
	}
	if !r.SlackWebhook() {
		return nil, fmt.Errorf("connection %q has a bot token, not an incoming webhook", r.Name)
	}
	o = r.opts(o)
	w, err := slack.NewWebhook(slack.WebhookConfig{URL: r.Get("webhookUrl"), HTTPClient: o.HTTPClient, Retry: o.retry()})
	if err != nil {
		return nil, fmt.Errorf("connection %q: the webhook URL is not usable", r.Name)
	}
	return w, nil
}

// Jira returns a client for a jira connection.
func (r *Resolved) Jira(o ClientOptions) (*jira.Client, error) {
	if err := r.want(KindJira); err != nil {
		return nil, err
	}
	o = r.opts(o)
	c, err := jira.New(jira.Config{SiteURL: r.Get("siteUrl"), Email: r.Get("email"), APIToken: r.Get("apiToken"),
		HTTPClient: o.HTTPClient, Retry: o.retry()})
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", r.Name, err)
	}
	return c, nil
}

// HTTPTarget is what an http connection gives a request: where it may go
// and how it authenticates.
type HTTPTarget struct {
	// BaseURL is the connection's base URL without a trailing slash;
	// requests go to paths under it and nowhere else.
	BaseURL string
	// AuthHeader and AuthValue are the header that carries the
	// credentials and its value; both empty for auth none.
	AuthHeader string
	AuthValue  string
}

// HTTP returns the target of an http connection.
func (r *Resolved) HTTP() (HTTPTarget, error) {
	if err := r.want(KindHTTP); err != nil {
		return HTTPTarget{}, err
	}
	t := HTTPTarget{BaseURL: r.Get("baseUrl")}
	switch r.Get("auth") {
	case AuthBearer:
		t.AuthHeader, t.AuthValue = "Authorization", "Bearer "+r.Get("token")
	case AuthBasic:
		t.AuthHeader = "Authorization"
		t.AuthValue = "Basic " + base64.StdEncoding.EncodeToString([]byte(r.Get("username")+":"+r.Get("password")))
	case AuthAPIKey:
		t.AuthHeader, t.AuthValue = http.CanonicalHeaderKey(r.Get("headerName")), r.Get("apiKey")
	}
	return t, nil
}

// Credentials returns every secret string the connection's requests may
// carry: the secret fields and the encodings derived from them (a basic
// auth header's base64), so that a dry run masks them all.
func (r *Resolved) Credentials() []string {
	out := r.Secrets()
	switch r.Kind {
	case KindJira:
		out = append(out, base64.StdEncoding.EncodeToString([]byte(r.Get("email")+":"+r.Get("apiToken"))))
	case KindHTTP:
		if r.Get("auth") == AuthBasic {
			out = append(out, base64.StdEncoding.EncodeToString([]byte(r.Get("username")+":"+r.Get("password"))))
		}
	case KindSalesforce:
		out = append(out, base64.StdEncoding.EncodeToString([]byte(r.Get("clientId")+":"+r.Get("clientSecret"))))
	case KindEntra:
		out = append(out, base64.StdEncoding.EncodeToString([]byte(r.Get("clientId")+":"+r.Get("clientSecret"))))
	}
	return out
}
