package auth

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/vigil-ispm/vigil/internal/id"
)

// OIDCFlowCookie holds the state, nonce and PKCE verifier of a single
// sign-on in progress, between the trip to the provider and the callback.
const OIDCFlowCookie = "vigil_oidc"

// oidcFlowTTL is how long a person has to sign in at the provider.
const oidcFlowTTL = 10 * time.Minute

// oidcFlow is what the browser carries to the callback. The values are
// random and only compared with what the provider echoes back (state), puts
// in the signed ID token (nonce) or checks against the challenge it was
// given (verifier), so they need no signature: a forged cookie gains
// nothing without a code the provider issued for its own challenge.
type oidcFlow struct {
	state, nonce, verifier string
	started                time.Time
}

func (f oidcFlow) encode() string {
	return f.state + "." + f.nonce + "." + f.verifier + "." + strconv.FormatInt(f.started.Unix(), 10)
}

// parseOIDCFlow reads a flow cookie, refusing anything not shaped like
// one this server wrote.
func parseOIDCFlow(v string) (oidcFlow, bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 4 || !wellFormed(parts[0], sessionTokenLen) || !wellFormed(parts[1], sessionTokenLen) || !pkceVerifier(parts[2]) {
		return oidcFlow{}, false
	}
	sec, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return oidcFlow{}, false
	}
	return oidcFlow{state: parts[0], nonce: parts[1], verifier: parts[2], started: time.Unix(sec, 0)}, true
}

// pkceVerifier reports whether s is a code verifier as RFC 7636 allows.
func pkceVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && strings.IndexByte("-._~", c) < 0 {
			return false
		}
	}
	return true
}

// sameSecret compares two secrets in constant time.
func sameSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// flowCookie is the flow cookie with value, sent only to the callback
// (the path of the redirect URL, which a proxy may prefix):
// HttpOnly, SameSite=Lax (a top-level redirect back from the provider
// carries it, a cross-site subrequest does not), Secure like the session.
func (s *Service) flowCookie(r *http.Request, o *oidcClient, value string, maxAge int) *http.Cookie {
	c := s.cookie(r, value, maxAge, time.Time{}) //nolint:gosec // G124: s.cookie sets HttpOnly, SameSite and Secure (over HTTPS)
	c.Name = OIDCFlowCookie
	c.Path = o.callbackPath
	return c
}

// oidcLogin serves GET /auth/oidc/login: it starts the authorization-code
// flow with PKCE (S256), keeping state, nonce and verifier in the flow
// cookie, and sends the browser to the provider.
func (s *Service) oidcLogin(w http.ResponseWriter, r *http.Request) {
	o := s.oidc.Load()
	f := oidcFlow{state: id.Token(32), nonce: id.Token(32), verifier: oauth2.GenerateVerifier(), started: s.cfg.Now()}
	http.SetCookie(w, s.flowCookie(r, o, f.encode(), int(oidcFlowTTL.Seconds())))
	w.Header().Set("Cache-Control", "no-store")
	to := o.oauth.AuthCodeURL(f.state, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier))
	http.Redirect(w, r, to, http.StatusFound)
}
