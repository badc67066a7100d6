package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/vigil-ispm/vigil/internal/netguard"
)

// Single sign-on signs people in through an OpenID Connect provider (Okta,
// Microsoft Entra ID, Google, Keycloak, …) with the authorization-code flow
// and PKCE. The callback verifies the ID token, maps the person's groups to
// a role with GroupRoles, finds or creates the local user named after the
// e-mail address (with no password, so only the provider can sign it in),
// sets the role from the groups on every sign-in and starts a session exactly
// as password sign-in does. Sessions, Require and everything downstream then
// work unchanged.

// OIDCCallbackPath is where the identity provider sends the browser back.
const OIDCCallbackPath = "/auth/oidc/callback"

// OIDCLoginPath starts a single sign-on; the console's sign-in page links here.
const OIDCLoginPath = "/auth/oidc/login"

// OIDCConfig configures single sign-on. The zero value of each optional field
// means its documented default.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, e.g. https://example.okta.com;
	// its discovery document is read from Issuer + "/.well-known/openid-configuration".
	// It must be https, except on a loopback address.
	Issuer string
	// ClientID is the client (application) id registered at the provider.
	ClientID string
	// ClientSecret is that client's secret. It is sent only to the
	// provider's token endpoint and never logged.
	ClientSecret string
	// RedirectURL is where the provider sends the browser back; it must be
	// registered at the provider. Default: Config.PublicURL + OIDCCallbackPath.
	RedirectURL string
	// Scopes requested. Default: openid, email and profile, plus GroupsScope.
	// "openid" is added when missing.
	Scopes []string
	// GroupsScope is a scope to request in addition to the default ones so
	// that the provider includes the groups claim (Okta's org authorization
	// server wants "groups"). Default: none.
	GroupsScope string
	// GroupsClaim names the ID token claim that lists the person's groups,
	// an array of strings. Default "groups".
	GroupsClaim string
	// GroupRoles maps group names to roles; it must map at least one group.
	// A person in none of these groups cannot sign in.
	GroupRoles GroupRoles
	// ButtonLabel is the text of the sign-in page's button. Default
	// "Sign in with single sign-on".
	ButtonLabel string
	// HTTPClient makes the requests to the provider (discovery, keys,
	// token). Default: a netguard client with no allowlist, which reaches
	// public addresses only; pass the server's guarded client to reach a
	// provider on an allowed private network.
	HTTPClient *http.Client
}

func (c OIDCConfig) withDefaults(publicURL string) OIDCConfig {
	c.Issuer = strings.TrimSpace(c.Issuer)
	if c.RedirectURL == "" && publicURL != "" {
		c.RedirectURL = strings.TrimSuffix(publicURL, "/") + OIDCCallbackPath
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
		if c.GroupsScope != "" {
			c.Scopes = append(c.Scopes, c.GroupsScope)
		}
	} else if !slices.Contains(c.Scopes, oidc.ScopeOpenID) {
		c.Scopes = append([]string{oidc.ScopeOpenID}, c.Scopes...)
	}
	if c.GroupsClaim == "" {
		c.GroupsClaim = "groups"
	}
	if c.ButtonLabel == "" {
		c.ButtonLabel = "Sign in with single sign-on"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = netguard.NewClient(netguard.Config{})
	}
	return c
}

// validate checks a configuration after withDefaults; its errors are one
// sentence naming the setting to fix, and never quote the client secret.
func (c OIDCConfig) validate() error {
	if c.Issuer == "" {
		return errors.New("single sign-on needs the identity provider's issuer URL (--oidc-issuer)")
	}
	if err := CheckProviderURL(c.Issuer); err != nil {
		return fmt.Errorf("the single sign-on issuer URL %q is not usable: %w", c.Issuer, err)
	}
	if c.ClientID == "" {
		return errors.New("single sign-on needs the client id registered at the identity provider (--oidc-client-id)")
	}
	if c.ClientSecret == "" {
		return errors.New("single sign-on needs the client secret registered at the identity provider (VIGIL_OIDC_CLIENT_SECRET)")
	}
	if c.RedirectURL == "" {
		return errors.New("single sign-on needs the server's public URL (--public-url) to tell the identity provider where to send people back")
	}
	if u, err := url.Parse(c.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path == "" {
		return fmt.Errorf("the single sign-on redirect URL %q is not an absolute http or https URL", c.RedirectURL)
	}
	if len(c.GroupRoles) == 0 {
		return errors.New("single sign-on needs at least one group mapped to a role (--oidc-group-roles \"Group=role,...\"), or nobody could sign in")
	}
	for g, r := range c.GroupRoles {
		if strings.TrimSpace(g) == "" {
			return errors.New("a single sign-on group mapping has an empty group name")
		}
		if _, err := ParseRole(string(r)); err != nil {
			return fmt.Errorf("the single sign-on group %q maps to %q, which is not a role; use super_admin, workflows_admin, issue_responder or issue_viewer", g, r)
		}
	}
	return nil
}

// CheckProviderURL refuses plain http except on loopback, where a local test
// provider runs: the provider's answers decide who becomes an administrator,
// or which callers may start a flow.
func CheckProviderURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("it is not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return errors.New("it must use https")
	}
	return errors.New("it must use https")
}

// callbackPath is the path of a validated redirect URL.
func callbackPath(redirectURL string) string {
	u, _ := url.Parse(redirectURL)
	return u.EscapedPath()
}

// oidcClient is the enabled single sign-on: the discovered provider, the
// OAuth 2.0 client and the ID token verifier.
type oidcClient struct {
	cfg      OIDCConfig
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	// callbackPath is the path of cfg.RedirectURL, where the flow cookie
	// is sent.
	callbackPath string
}

// DiscoveryError is returned by EnableOIDC when the provider's discovery
// document cannot be read or is not usable.
type DiscoveryError struct {
	// Issuer is the configured issuer URL.
	Issuer string
	// Err is the cause.
	Err error
}

func (e *DiscoveryError) Error() string {
	return fmt.Sprintf("single sign-on could not read the identity provider's configuration at %s (%s); check --oidc-issuer and that this server can reach it",
		strings.TrimSuffix(e.Issuer, "/")+"/.well-known/openid-configuration", shortCause(e.Err))
}

func (e *DiscoveryError) Unwrap() error { return e.Err }

// shortCause is the first line of err, at most 160 bytes, so that an HTML
// error page quoted by a library does not flood the message.
func shortCause(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// EnableOIDC turns on single sign-on: it reads the provider's discovery
// document (through cfg.HTTPClient) and, from then on, Register adds the
// routes OIDCLoginPath and OIDCCallbackPath and OIDCButton answers true.
// Call it before Register. It fails with one sentence
// when the configuration is incomplete or discovery fails, so the server
// can refuse to start rather than show a button that cannot work.
func (s *Service) EnableOIDC(ctx context.Context, cfg OIDCConfig) error {
	cfg = cfg.withDefaults(s.cfg.PublicURL)
	if err := cfg.validate(); err != nil {
		return err
	}
	ctx = oidc.ClientContext(ctx, cfg.HTTPClient)
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return &DiscoveryError{Issuer: cfg.Issuer, Err: err}
	}
	ep := provider.Endpoint()
	if ep.AuthURL == "" || ep.TokenURL == "" {
		return &DiscoveryError{Issuer: cfg.Issuer, Err: errors.New("the document names no authorization or token endpoint")}
	}
	var meta struct {
		Methods []string `json:"code_challenge_methods_supported"`
	}
	if err := provider.Claims(&meta); err == nil && len(meta.Methods) > 0 && !slices.Contains(meta.Methods, "S256") {
		s.log.Warn("the identity provider does not list PKCE S256 among its code challenge methods; sign-in may fail",
			"issuer", cfg.Issuer)
	}
	s.oidc.Store(&oidcClient{
		cfg: cfg,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     ep,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       cfg.Scopes,
		},
		verifier:     provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: s.cfg.Now}),
		callbackPath: callbackPath(cfg.RedirectURL),
	})
	s.log.Info("single sign-on enabled", "issuer", cfg.Issuer, "client_id", cfg.ClientID,
		"redirect_url", cfg.RedirectURL, "groups_claim", cfg.GroupsClaim, "mapped_groups", len(cfg.GroupRoles))
	return nil
}

// OIDCButton returns the label of the sign-in page's single sign-on button,
// and false when single sign-on is not enabled (the page shows no button).
func (s *Service) OIDCButton() (label string, ok bool) {
	o := s.oidc.Load()
	if o == nil {
		return "", false
	}
	return o.cfg.ButtonLabel, true
}

// ExternalIdentity is what a single sign-on provider vouches for.
type ExternalIdentity struct {
	// Issuer is the provider (the "iss" claim).
	Issuer string
	// Subject is the provider's stable user id (the "sub" claim).
	Subject string
	// Name is the login to use locally, normally the e-mail address.
	Name string
	// Groups are the values of the configured groups claim.
	Groups []string
}

// key is how the identity is stored on the user it is linked to: the
// subject is unique only within its issuer.
func (e ExternalIdentity) key() string { return e.Issuer + "#" + e.Subject }

// GroupRoles maps identity-provider group names to Vigil roles.
type GroupRoles map[string]Role

// RoleFor returns the most powerful role any of groups maps to, and false
// when none maps to a role (the person gets no access).
func (m GroupRoles) RoleFor(groups []string) (Role, bool) {
	member := make(map[Role]bool, len(groups))
	for _, g := range groups {
		if r, ok := m[g]; ok {
			member[r] = true
		}
	}
	for _, r := range Roles() {
		if member[r] {
			return r, true
		}
	}
	return "", false
}

// ParseGroupRoles reads a mapping written as "Group=role,Other Group=role",
// the form of the --oidc-group-roles flag. Group names may contain spaces;
// a name that itself contains "," or "=" cannot be written this way.
func ParseGroupRoles(s string) (GroupRoles, error) {
	m := GroupRoles{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		g, r, ok := strings.Cut(item, "=")
		g, r = strings.TrimSpace(g), strings.TrimSpace(r)
		if !ok || g == "" {
			return nil, fmt.Errorf("the group mapping %q is not of the form Group=role", item)
		}
		role, err := ParseRole(r)
		if err != nil {
			return nil, fmt.Errorf("the group %q maps to %q, which is not a role; use super_admin, workflows_admin, issue_responder or issue_viewer", g, r)
		}
		m[g] = role
	}
	return m, nil
}
