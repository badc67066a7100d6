package oktatest

import (
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AddOAuthClient registers a service app that authenticates with a
// private-key JWT signed by the key matching pub, and may be granted the
// given scopes.
func (s *Server) AddOAuthClient(clientID string, pub crypto.PublicKey, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[clientID] = oauthClient{key: pub, scopes: scopes}
}

// handleToken is the org authorization server's token endpoint for the
// client credentials grant with private_key_jwt client authentication. It
// checks the assertion's signature, issuer, subject, audience, expiry and
// that its jti was not used before, and the scopes asked for.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "invalid_request", "The token endpoint accepts POST only.")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		fail(http.StatusBadRequest, "invalid_request", "The request must be form-encoded.")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request", "The request body could not be parsed.")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		fail(http.StatusBadRequest, "unsupported_grant_type", "The grant type is not supported.")
		return
	}
	if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		fail(http.StatusUnauthorized, "invalid_client", "The client_assertion_type is missing or wrong.")
		return
	}
	tok, err := jwt.ParseSigned(r.PostForm.Get("client_assertion"),
		[]jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512})
	if err != nil {
		fail(http.StatusUnauthorized, "invalid_client", "The client_assertion is not a valid JWT.")
		return
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		fail(http.StatusUnauthorized, "invalid_client", "The client_assertion is not a valid JWT.")
		return
	}
	client, ok := s.clients[unverified.Issuer]
	if !ok {
		fail(http.StatusUnauthorized, "invalid_client", "The client is unknown.")
		return
	}
	var claims jwt.Claims
	if err := tok.Claims(client.key, &claims); err != nil {
		fail(http.StatusUnauthorized, "invalid_client", "The client_assertion signature is invalid.")
		return
	}
	now := s.now()
	err = claims.ValidateWithLeeway(jwt.Expected{
		Issuer:      unverified.Issuer,
		Subject:     unverified.Issuer,
		AnyAudience: jwt.Audience{s.URL + "/oauth2/v1/token"},
		Time:        now,
	}, time.Minute)
	if err != nil || claims.Expiry == nil || claims.ID == "" {
		fail(http.StatusUnauthorized, "invalid_client", "The client_assertion claims are invalid.")
		return
	}
	if s.jtis[claims.ID] {
		fail(http.StatusUnauthorized, "invalid_client", "The client_assertion token has already been used.")
		return
	}
	s.jtis[claims.ID] = true
	scopes := strings.Fields(r.PostForm.Get("scope"))
	if len(scopes) == 0 {
		fail(http.StatusBadRequest, "invalid_scope", "The scope is missing.")
		return
	}
	for _, sc := range scopes {
		if !slices.Contains(client.scopes, sc) {
			fail(http.StatusBadRequest, "invalid_scope", "The following scopes are not granted: "+sc)
			return
		}
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	access := hex.EncodeToString(b)
	s.issued[access] = issuedToken{clientID: unverified.Issuer, expires: now.Add(time.Hour)}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":   "Bearer",
		"expires_in":   3600,
		"access_token": access,
		"scope":        strings.Join(scopes, " "),
	})
}
