// Package salesforce is a client for the parts of the Salesforce REST API
// that Vigil needs: SOQL queries over users and the permission sets that
// make someone an admin (Modify All Data, View All Data), and deactivating a
// user.
//
// It gets a token with the OAuth 2.0 client-credentials flow at
// <instance>/services/oauth2/token, sends API calls to the instance_url the
// token answer names, follows nextRecordsUrl exactly as given, honours 429
// and Retry-After, and retries 5xx with a bounded backoff. Salesforce's
// [{message, errorCode}] becomes a typed *Error.
package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// DefaultAPIVersion is the REST API version used when Config leaves it empty.
const DefaultAPIVersion = "62.0"

// Config says which org to talk to and how. Zero values mean the default
// named on each field.
type Config struct {
	// InstanceURL is the org's My Domain URL, such as
	// https://acme.my.salesforce.com; the token is requested there. Required.
	InstanceURL string
	// ClientID is the consumer key of the connected (or external client)
	// app with the client-credentials flow enabled. Required.
	ClientID string
	// ClientSecret is that app's consumer secret. Required. It is sent only
	// to the token endpoint and never appears in errors.
	ClientSecret string
	// APIVersion is the REST API version, such as "62.0". Default
	// DefaultAPIVersion.
	APIVersion string
	// HTTPClient sends every request. Required: callers pass Vigil's
	// SSRF-guarded client.
	HTTPClient *http.Client
	// Retry says how often and how long to wait before retrying a 429 or
	// a 5xx; a longer Retry-After than its MaxWait fails the call. Zero
	// values mean vendorhttp's defaults.
	Retry vendorhttp.Retry
}

// Client talks to one org. It is safe for concurrent use.
type Client struct {
	cfg   Config
	creds *clientcredentials.Config
	api   *vendorhttp.Client

	mu       sync.Mutex
	token    string
	instance *url.URL // where API calls go, from the token answer
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	if err := vendorhttp.Missing("salesforce", "connection", vendorhttp.Need("instance URL", cfg.InstanceURL != ""), vendorhttp.Need("client id", cfg.ClientID != ""),
		vendorhttp.Need("client secret", cfg.ClientSecret != ""), vendorhttp.Need("HTTP client", cfg.HTTPClient != nil)); err != nil {
		return nil, err
	}
	cfg.InstanceURL = strings.TrimRight(cfg.InstanceURL, "/")
	if _, ok := vendorhttp.HTTPURL(cfg.InstanceURL); !ok {
		return nil, fmt.Errorf("salesforce: the instance URL %q is not an http(s) URL", cfg.InstanceURL)
	}
	cfg.APIVersion = strings.TrimPrefix(cfg.APIVersion, "v")
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	cfg.Retry = cfg.Retry.WithDefaults()
	c := &Client{cfg: cfg, creds: &clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     cfg.InstanceURL + "/services/oauth2/token",
		AuthStyle:    oauth2.AuthStyleInParams,
	}}
	c.api = c.newTransport()
	return c, nil
}

// session returns the cached token and instance, or fetches them.
// Client-credentials tokens carry no lifetime (the org's session timeout
// applies), so a token is kept until an API call answers 401.
func (c *Client) session(ctx context.Context) (string, *url.URL, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" {
		return c.token, c.instance, nil
	}
	tok, err := c.creds.Token(context.WithValue(ctx, oauth2.HTTPClient, c.cfg.HTTPClient))
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		return "", nil, vendor.TokenError(err, c.cfg.Retry.Now())
	}
	instance := c.cfg.InstanceURL
	if s, ok := tok.Extra("instance_url").(string); ok && s != "" {
		instance = strings.TrimRight(s, "/")
	}
	u, ok := vendorhttp.HTTPURL(instance)
	if !ok {
		return "", nil, vendor.Error("get token", http.StatusOK, "", "the token answer named an instance_url that is not an http(s) URL", 0)
	}
	c.token, c.instance = tok.AccessToken, u
	return c.token, c.instance, nil
}

func (c *Client) forgetToken() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}

// dataPath is the REST API's base path for the configured version.
func (c *Client) dataPath() string { return "/services/data/v" + c.cfg.APIVersion }
