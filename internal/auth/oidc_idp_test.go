package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/vigil-ispm/vigil/internal/httpjson"
)

// testKeys are generated once: RSA key generation is the slowest step of
// these tests and the keys' values do not matter.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

// fakeIdP is an in-process OpenID Connect provider. It serves discovery,
// its JWKS, an authorization endpoint that hands out a code at once, and a
// token endpoint that checks the client's credentials, the code, the
// redirect URI and the PKCE verifier as RFC 6749 and RFC 7636 require
// before returning an ID token signed with its key.
type fakeIdP struct {
	t            *testing.T
	srv          *httptest.Server
	clientID     string
	clientSecret string
	now          func() time.Time
	published    *rsa.PrivateKey // its public half is in the JWKS

	mu sync.Mutex
	// redirectURI is the one registered URI; set once the client's server runs.
	redirectURI string
	// claims are the person's claims in the next ID token (sub, email, groups…).
	claims map[string]any
	// tweak, if set, changes the next ID token's claims just before signing.
	tweak func(map[string]any)
	// signer signs ID tokens; default the published key.
	signer *rsa.PrivateKey
	grants map[string]grant
	// issued are the secrets this provider handed out, for the log checks.
	issued []string
	// authorizeQuery is the last authorization request's query.
	authorizeQuery url.Values
	// tokenRequests counts calls of the token endpoint.
	tokenRequests int
}

// grant is one authorization code and what it was issued for.
type grant struct {
	challenge, nonce, redirectURI string
}

const fakeKeyID = "key-1"

func newFakeIdP(t *testing.T, now func() time.Time) *fakeIdP {
	t.Helper()
	p := &fakeIdP{t: t, clientID: "vigil-client", clientSecret: "s3cret-client-value-0123456789", now: now,
		published: testKeys()[0], grants: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// person sets the claims of the next ID tokens.
func (p *fakeIdP) person(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = claims
}

// set changes the provider's behaviour under its lock.
func (p *fakeIdP) set(fn func(p *fakeIdP)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p)
}

func (p *fakeIdP) discovery(w http.ResponseWriter, r *http.Request) {
	u := p.srv.URL
	httpjson.Write(w, http.StatusOK, map[string]any{
		"issuer":                                u,
		"authorization_endpoint":                u + "/authorize",
		"token_endpoint":                        u + "/token",
		"jwks_uri":                              u + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	})
}

func (p *fakeIdP) jwks(w http.ResponseWriter, r *http.Request) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.published.PublicKey, KeyID: fakeKeyID, Algorithm: "RS256", Use: "sig"}}}
	httpjson.Write(w, http.StatusOK, set)
}

// authorize plays a person who is signed in at the provider already: it
// checks the request and sends the browser back with a code at once.
func (p *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.authorizeQuery = q
	switch {
	case q.Get("response_type") != "code":
		http.Error(w, "unsupported response_type", http.StatusBadRequest)
		return
	case q.Get("client_id") != p.clientID:
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	case q.Get("redirect_uri") != p.redirectURI:
		http.Error(w, "redirect_uri is not registered", http.StatusBadRequest)
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		http.Error(w, "not an OpenID Connect request", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		http.Error(w, "PKCE S256 is required", http.StatusBadRequest)
		return
	}
	code := "code-" + randomText()
	p.grants[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirectURI: q.Get("redirect_uri")}
	back := q.Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, back, http.StatusFound)
}

func (p *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokenRequests++
	fail := func(code string) { httpjson.Write(w, http.StatusBadRequest, map[string]string{"error": code}) }
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	} else {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if id != p.clientID || secret != p.clientSecret {
		w.Header().Set("WWW-Authenticate", "Basic")
		httpjson.Write(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostFormValue("grant_type") != "authorization_code" {
		fail("unsupported_grant_type")
		return
	}
	g, ok := p.grants[r.PostFormValue("code")]
	delete(p.grants, r.PostFormValue("code")) // a code is good once
	if !ok || r.PostFormValue("redirect_uri") != g.redirectURI {
		fail("invalid_grant")
		return
	}
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		fail("invalid_grant")
		return
	}
	now := p.now()
	claims := map[string]any{
		"iss": p.srv.URL, "aud": p.clientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce,
	}
	maps.Copy(claims, p.claims)
	if p.tweak != nil {
		p.tweak(claims)
	}
	key := p.signer
	if key == nil {
		key = p.published
	}
	idToken := signJWT(p.t, key, claims)
	access := "at-" + randomText()
	p.issued = append(p.issued, idToken, access)
	httpjson.Write(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 3600, "id_token": idToken})
}

func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: fakeKeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func randomText() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
