package invoke

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/signature"
	"github.com/vigil-ispm/vigil/internal/store"
)

// OAuthConfig says which tokens "Secure with OAuth 2.0" endpoints accept:
// JWT access tokens signed by a key of JWKSURL, issued by Issuer for
// Audience, carrying Scope.
type OAuthConfig struct {
	Issuer   string
	JWKSURL  string
	Audience string
	// Scope is required in the token's scp (array) or scope (space-separated)
	// claim. Default okta.workflows.invoke.manage, as Okta Workflows requires.
	Scope string
}

// Check refuses a configuration that names some of the issuer, key set
// and audience but not all, or a provider URL that is not https (plain http
// only on a loopback address). None at all is valid: OAuth endpoints then
// refuse every call.
func (c OAuthConfig) Check() error {
	if c.Issuer == "" && c.JWKSURL == "" && c.Audience == "" {
		if c.Scope != "" {
			return errors.New("an OAuth scope for invoke URLs needs the issuer, key set URL and audience too")
		}
		return nil
	}
	if c.Issuer == "" || c.JWKSURL == "" || c.Audience == "" {
		return errors.New("OAuth for invoke URLs needs all three of the issuer, the key set (JWKS) URL and the audience")
	}
	if err := auth.CheckProviderURL(c.Issuer); err != nil {
		return fmt.Errorf("the OAuth issuer for invoke URLs %q: %w", c.Issuer, err)
	}
	if err := auth.CheckProviderURL(c.JWKSURL); err != nil {
		return fmt.Errorf("the OAuth key set URL for invoke URLs %q: %w", c.JWKSURL, err)
	}
	return nil
}

// DefaultScope is the scope Okta Workflows requires of OAuth invocations.
const DefaultScope = "okta.workflows.invoke.manage"

// authenticate checks the caller's credentials for the endpoint's security
// level; it reads headers and the query only, never the body. Any failure is
// the same false: the caller learns nothing about which check failed.
func (h *Handler) authenticate(ctx context.Context, ep *store.Endpoint, api *dsl.APIEndpoint, r *http.Request) bool {
	switch api.Security {
	case dsl.SecurityPublic:
		return true
	case dsl.SecurityOAuth2:
		return h.oauth.verify(ctx, r)
	default: // client token
		return h.endpoints.checkToken(ep, callerToken(r))
	}
}

// callerToken is the client token a caller sent: the x-api-client-token
// header, else the clientToken query parameter, as Okta Workflows accepts.
func callerToken(r *http.Request) string {
	if token := r.Header.Get("X-Api-Client-Token"); token != "" {
		return token
	}
	return r.URL.Query().Get(tokenQueryKey)
}

// verifySignature checks the webhook signature of endpoints configured for
// one; it needs the body, so it runs after the body was read.
func (h *Handler) verifySignature(ep *store.Endpoint, api *dsl.APIEndpoint, req *request) bool {
	if api.Signature == nil {
		return true
	}
	secrets, err := h.endpoints.signingSecrets(ep)
	if err != nil || len(secrets) == 0 {
		return false
	}
	if api.Signature.Scheme == signature.SchemeHMAC {
		return signature.VerifyHMAC(secrets, req.r.Header.Get(api.Signature.Header), req.raw) == nil
	}
	return signature.Verify(secrets, req.r.Header, req.raw, h.cfg.Now(), signature.DefaultTolerance) == nil
}

// lookup finds the endpoint of alias and its flow. For an unknown alias, a
// deleted flow, or a flow that lost its API Endpoint trigger, ok is false
// and ep and target are a decoy (a client-token endpoint with a sealed
// token no caller has), so that the caller's credentials are checked with
// the same work as for a real endpoint and the answer takes comparable
// time. Both lookups are cached (the alias here, known or not; the flow by
// the flows service, found or not), so an unknown alias costs what a
// known one costs, cached or read afresh.
func (h *Handler) lookup(ctx context.Context, alias string) (ep *store.Endpoint, target Target, ok bool, err error) {
	ep, err = h.endpoints.byAlias(ctx, alias)
	switch {
	case errors.Is(err, store.ErrNotFound):
		ep = h.decoy
		// The same second lookup a known alias costs; its answer is unused.
		if _, err := h.flows.InvokeTarget(ctx, ep.FlowID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, Target{}, false, fmt.Errorf("look up flow: %w", err)
		}
		return ep, Target{Endpoint: &decoyAPI}, false, nil
	case err != nil:
		return nil, Target{}, false, err
	}
	target, err = h.flows.InvokeTarget(ctx, ep.FlowID)
	if errors.Is(err, store.ErrNotFound) || err == nil && target.Endpoint == nil {
		// The flow was deleted, or lost its API Endpoint trigger: its old
		// URL is gone.
		return h.decoy, Target{Endpoint: &decoyAPI}, false, nil
	}
	if err != nil {
		return nil, Target{}, false, fmt.Errorf("look up flow: %w", err)
	}
	return ep, target, true, nil
}

// tokenQueryKey is the query key a client token may be sent under instead
// of the X-Api-Client-Token header, as Okta Workflows names it. Keys are
// matched exactly, as Okta Workflows does.
const tokenQueryKey = "clientToken"

// decoyAPI is the trigger of the decoy endpoint.
var decoyAPI = dsl.APIEndpoint{Security: dsl.SecurityClientToken, Response: dsl.ResponseSync}

// newDecoy returns an endpoint whose sealed token is random and never
// shown: presenting any token to it costs what checking a real one costs,
// and always fails.
func newDecoy(box *secret.Box) *store.Endpoint {
	const flowID = "flw_decoy"
	sealed, _ := box.Seal(id.Token(tokenBytes), tokenPurpose(flowID))
	return &store.Endpoint{FlowID: flowID, TokenSealed: sealed}
}

// constantTimeEqual compares two secrets without leaking, through timing,
// how long a matching prefix is.
func constantTimeEqual(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// oauthVerifier validates bearer JWTs against the issuer's JWKS (keySet).
type oauthVerifier struct {
	cfg    OAuthConfig
	client *http.Client
	now    func() time.Time
	once   sync.Once
	v      *oidc.IDTokenVerifier
}

func newOAuthVerifier(cfg OAuthConfig, client *http.Client, now func() time.Time) *oauthVerifier {
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	return &oauthVerifier{cfg: cfg, client: client, now: now}
}

// keyRefreshEvery is how often at most the issuer's JWKS is fetched again
// for a token its cached keys do not verify.
const keyRefreshEvery = time.Minute

// keySet is the issuer's JWKS, fetched through the SSRF-guarded client and
// cached. A token the cached keys do not verify (the issuer rotated its
// key) has it fetched again, at most once per keyRefreshEvery: go-oidc's
// RemoteKeySet fetched it after every signature that failed, so anyone
// who could reach an OAuth-secured endpoint made Vigil call the issuer
// once per forged token, until the issuer throttled Vigil and callers
// with real tokens were refused.
type keySet struct {
	client *http.Client
	url    string
	now    func() time.Time

	mu    sync.Mutex
	keys  *oidc.StaticKeySet
	tried time.Time // the last fetch, whether or not it worked
}

// VerifySignature returns the payload of jwt if a key of the issuer
// signed it (oidc.KeySet), fetching the keys again when the cached ones
// do not verify it and the last fetch is a minute old.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	k.mu.Lock()
	keys := k.keys
	k.mu.Unlock()
	var err error
	if keys != nil {
		var payload []byte
		if payload, err = keys.VerifySignature(ctx, jwt); err == nil {
			return payload, nil
		}
	}
	fresh, ferr := k.refresh(ctx)
	if fresh == nil || fresh == keys {
		return nil, errors.Join(err, ferr, errors.New("no key of the issuer verifies the token"))
	}
	return fresh.VerifySignature(ctx, jwt)
}

// refresh fetches the key set, unless it was fetched less than
// keyRefreshEvery ago, and returns the keys then current. Fetches are one
// at a time: those who waited get the keys just fetched.
func (k *keySet) refresh(ctx context.Context) (*oidc.StaticKeySet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if !k.tried.IsZero() && now.Sub(k.tried) < keyRefreshEvery && now.Sub(k.tried) >= 0 {
		return k.keys, nil
	}
	k.tried = now
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return k.keys, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return k.keys, fmt.Errorf("fetch the issuer's keys: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return k.keys, fmt.Errorf("fetch the issuer's keys: %s", resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return k.keys, fmt.Errorf("read the issuer's keys: %w", err)
	}
	keys := &oidc.StaticKeySet{}
	for _, key := range set.Keys {
		if key.Use == "" || key.Use == "sig" {
			keys.PublicKeys = append(keys.PublicKeys, key.Key)
		}
	}
	k.keys = keys
	return keys, nil
}

func (o *oauthVerifier) verifier() *oidc.IDTokenVerifier {
	o.once.Do(func() {
		if o.cfg.Issuer == "" || o.cfg.JWKSURL == "" || o.cfg.Audience == "" {
			return
		}
		keys := &keySet{client: o.client, url: o.cfg.JWKSURL, now: o.now}
		o.v = oidc.NewVerifier(o.cfg.Issuer, keys, &oidc.Config{
			ClientID:             o.cfg.Audience,
			SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256, oidc.PS256},
		})
	})
	return o.v
}

func (o *oauthVerifier) verify(ctx context.Context, r *http.Request) bool {
	v := o.verifier()
	if v == nil {
		return false
	}
	header := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	idt, err := v.Verify(ctx, token)
	if err != nil {
		return false
	}
	var claims struct {
		Scp   json.RawMessage `json:"scp"`
		Scope string          `json:"scope"`
	}
	if err := idt.Claims(&claims); err != nil {
		return false
	}
	var scopes []string
	if len(claims.Scp) > 0 {
		if err := json.Unmarshal(claims.Scp, &scopes); err != nil {
			var one string
			if json.Unmarshal(claims.Scp, &one) == nil {
				scopes = strings.Fields(one)
			}
		}
	}
	scopes = append(scopes, strings.Fields(claims.Scope)...)
	return slices.Contains(scopes, o.cfg.Scope)
}
