// Package googletest runs an in-process fake of Google's OAuth 2.0 token
// endpoint (the jwt-bearer grant a service account uses) and of the Admin
// SDK Directory API user endpoints that package google calls.
//
// The token endpoint verifies the assertion as Google does: RS256 signature
// against the service account's public key, key id, issuer, audience,
// lifetime, delegated scopes and subject. API calls then need the bearer
// token it issued and, for writes, a read-write scope. The fake answers in
// Google's error shape, records every request and can be told to fail the
// next requests with 429, 5xx or a rate-limit 403.
package googletest

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/vigil-ispm/vigil/internal/google"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

// Identity of the fake's service account and domain.
const (
	ClientEmail  = "vigil-scanner@vigil-test.iam.gserviceaccount.com"
	PrivateKeyID = "0f3c2b1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
	CustomerID   = "C03az79cb"
	Admin        = "admin@example.com"
)

// Request is one request the fake received.
type Request = vendorfake.Request

// User is a Workspace user as the fake stores it: package google's own
// type, since the fake sends back every field the client reads. A zero
// LastLoginTime is sent as 1970-01-01T00:00:00.000Z, Google's "never"; an
// empty OrgUnitPath as "/"; a suspended user's empty SuspensionReason as
// "ADMIN".
type User = google.User

type grant struct {
	subject string
	scopes  []string
}

// Server is the fake. Call NewServer.
type Server struct {
	// Base.URL is the base of both the token endpoint (URL+"/token") and
	// the API.
	vendorfake.Base
	key *rsa.PrivateKey

	mu        sync.Mutex
	users     []*User
	tokens    vendorfake.Tokens[grant]
	pages     map[string]int
	faults    vendorfake.Faults
	delegated map[string]bool
	pageSize  int
}

// sharedKey is the service account key of every fake: generating an RSA
// key takes a noticeable fraction of a second, and tests start many fakes.
// It is never changed after it is made; RotateKey gives one fake its own.
var sharedKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// New starts a fake whose only user is the super admin Admin; it is closed
// when the test ends.
func New(t testing.TB) *Server { return vendorfake.ForTest(t, NewServer()) }

// NewServer starts a fake whose only user is the super admin Admin; the
// caller closes it.
func NewServer() *Server {
	key, err := sharedKey()
	if err != nil {
		panic("googletest: generate RSA key: " + err.Error())
	}
	s := &Server{key: key, pages: map[string]int{}, pageSize: 500,
		delegated: map[string]bool{google.ScopeUser: true, google.ScopeUserReadonly: true}}
	s.users = []*User{{ID: "100000000000000000001", PrimaryEmail: Admin, FullName: "Workspace Admin", IsAdmin: true,
		IsEnrolledIn2Sv: true, IsEnforcedIn2Sv: true, CreationTime: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		LastLoginTime: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}}
	s.Start(http.HandlerFunc(s.serve))
	return s
}

// RotateKey gives the service account a new key, as deleting and creating a
// key in the console would: assertions signed with the old key file are
// refused from then on.
func (s *Server) RotateKey(t testing.TB) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = key
}

// ServiceAccountJSON is a key file for the fake's service account, with
// token_uri pointing at the fake.
func (s *Server) ServiceAccountJSON() []byte {
	s.mu.Lock()
	der, _ := x509.MarshalPKCS8PrivateKey(s.key)
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "vigil-test", "private_key_id": PrivateKeyID,
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": ClientEmail, "client_id": "109876543210987654321",
		"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": s.URL + "/token",
	})
	return b
}

// Config returns a google.Config for the fake acting as Admin.
func (s *Server) Config() google.Config {
	return google.Config{CredentialsJSON: s.ServiceAccountJSON(), Subject: Admin, BaseURL: s.URL, HTTPClient: s.Client()}
}

// SetPageSize caps how many users one page holds, whatever maxResults asks.
func (s *Server) SetPageSize(n int) {
	vendorfake.Set(&s.mu, &s.pageSize, n)
}

// SetDelegatedScopes replaces the scopes the domain granted the service
// account in domain-wide delegation.
func (s *Server) SetDelegatedScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delegated = map[string]bool{}
	for _, sc := range scopes {
		s.delegated[sc] = true
	}
}

// AddUser adds a user.
func (s *Server) AddUser(u User) {
	vendorfake.Append(&s.mu, &s.users, &u)
}

// User returns a copy of the user with that id or primary email.
func (s *Server) User(key string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.user(key); u != nil {
		return *u, true
	}
	return User{}, false
}

// FailNext makes the next n API requests answer status, with Retry-After when
// retryAfter is not empty. A 403 answers userRateLimitExceeded.
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.faults.Fail(n, status, retryAfter)
}

// RevokeTokens invalidates every token issued so far.
func (s *Server) RevokeTokens() {
	s.tokens.Revoke()
}

// APIRequests returns the requests made to the Directory API.
func (s *Server) APIRequests() []Request {
	return s.RequestsUnder("/admin/directory/v1/")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body := s.Record(r)
	s.mu.Lock()
	defer s.mu.Unlock()

	if r.URL.Path == "/token" {
		s.token(w, r, body)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/admin/directory/v1/")
	if !ok {
		apiError(w, http.StatusNotFound, "notFound", "Not Found")
		return
	}
	g, ok := s.tokens.Bearer(r)
	if !ok {
		apiError(w, http.StatusUnauthorized, "authError", "Invalid Credentials")
		return
	}
	if f, ok := s.faults.Take(w); ok {
		switch f.Status {
		case http.StatusForbidden:
			apiError(w, f.Status, "userRateLimitExceeded", "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'.")
		case http.StatusTooManyRequests:
			apiError(w, f.Status, "rateLimitExceeded", "Rate Limit Exceeded")
		default:
			apiError(w, f.Status, "backendError", "Backend Error")
		}
		return
	}
	if sub := s.user(g.subject); sub == nil || !sub.IsAdmin && !sub.IsDelegatedAdmin {
		apiError(w, http.StatusForbidden, "forbidden", "Not Authorized to access this resource/api")
		return
	}
	switch {
	case path == "users" && r.Method == http.MethodGet:
		if !hasAny(g.scopes, google.ScopeUser, google.ScopeUserReadonly) {
			apiError(w, http.StatusForbidden, "insufficientPermissions", "Request had insufficient authentication scopes.")
			return
		}
		s.list(w, r)
	case strings.HasPrefix(path, "users/") && (r.Method == http.MethodPut || r.Method == http.MethodPatch):
		if !hasAny(g.scopes, google.ScopeUser) {
			apiError(w, http.StatusForbidden, "insufficientPermissions", "Request had insufficient authentication scopes.")
			return
		}
		s.update(w, r, strings.TrimPrefix(path, "users/"), body)
	default:
		apiError(w, http.StatusNotFound, "notFound", "Not Found")
	}
}

// token implements the jwt-bearer grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	form, _ := url.ParseQuery(string(body))
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		tokenError(w, http.StatusBadRequest, "invalid_request", "Bad Request")
		return
	}
	if form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+form.Get("grant_type"))
		return
	}
	parsed, err := josejwt.ParseSigned(form.Get("assertion"), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(parsed.Headers) != 1 {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
		return
	}
	if parsed.Headers[0].KeyID != PrivateKeyID {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	var std josejwt.Claims
	var extra struct {
		Scope string `json:"scope"`
	}
	if err := parsed.Claims(&s.key.PublicKey, &std, &extra); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	now := time.Now()
	err = std.ValidateWithLeeway(josejwt.Expected{Issuer: ClientEmail, AnyAudience: josejwt.Audience{s.URL + "/token"}, Time: now}, time.Minute)
	switch {
	case err != nil || std.IssuedAt == nil || std.Expiry == nil:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	case std.Expiry.Time().Sub(std.IssuedAt.Time()) > time.Hour:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes).")
		return
	}
	scopes := strings.Fields(extra.Scope)
	if len(scopes) == 0 {
		tokenError(w, http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	for _, sc := range scopes {
		if !s.delegated[sc] {
			tokenError(w, http.StatusUnauthorized, "unauthorized_client",
				"Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
			return
		}
	}
	if std.Subject == "" || s.user(std.Subject) == nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid email or User ID")
		return
	}
	tok := "ya29.fake" + vendorfake.RandomHex(24)
	s.tokens.Issue(tok, grant{subject: std.Subject, scopes: scopes})
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if c := q.Get("customer"); c != "my_customer" && c != CustomerID {
		// Google answers a missing or foreign customer (and a domain
		// query, which the fake does not serve) with a bare Bad Request.
		apiError(w, http.StatusBadRequest, "badRequest", "Bad Request")
		return
	}
	size := 100
	if mr := q.Get("maxResults"); mr != "" {
		n, err := strconv.Atoi(mr)
		if err != nil || n < 1 || n > 500 {
			apiError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("Invalid value '%s'. Values must be within the range: [1, 500]", mr))
			return
		}
		size = n
	}
	size = min(size, s.pageSize)
	offset := 0
	if pt := q.Get("pageToken"); pt != "" {
		o, ok := s.pages[pt]
		if !ok {
			apiError(w, http.StatusBadRequest, "badRequest", "Invalid Input: pageToken")
			return
		}
		offset = o
	}
	end := min(offset+size, len(s.users))
	var users []map[string]any
	for _, u := range s.users[offset:end] {
		users = append(users, props(u))
	}
	out := map[string]any{"kind": "admin#directory#users", "etag": `"fake"`, "users": users}
	if end < len(s.users) {
		pt := vendorfake.RandomHex(12)
		s.pages[pt] = end
		out["nextPageToken"] = pt
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, key string, body []byte) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		apiError(w, http.StatusBadRequest, "parseError", "Parse Error")
		return
	}
	u := s.user(key)
	if u == nil {
		apiError(w, http.StatusNotFound, "notFound", "Resource Not Found: userKey")
		return
	}
	var patch map[string]json.RawMessage
	if json.Unmarshal(body, &patch) != nil {
		apiError(w, http.StatusBadRequest, "parseError", "Parse Error")
		return
	}
	for k, v := range patch {
		switch k {
		case "suspended":
			if json.Unmarshal(v, &u.Suspended) != nil {
				apiError(w, http.StatusBadRequest, "invalid", "Invalid Input: suspended")
				return
			}
		case "archived":
			_ = json.Unmarshal(v, &u.Archived)
		default:
			apiError(w, http.StatusBadRequest, "invalid", "Invalid Input: "+k)
			return
		}
	}
	writeJSON(w, http.StatusOK, props(u))
}

func props(u *User) map[string]any {
	last := "1970-01-01T00:00:00.000Z"
	if !u.LastLoginTime.IsZero() {
		last = u.LastLoginTime.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	m := map[string]any{
		"kind": "admin#directory#user", "id": u.ID, "etag": `"fake"`, "primaryEmail": u.PrimaryEmail,
		"name":    map[string]string{"fullName": u.FullName},
		"isAdmin": u.IsAdmin, "isDelegatedAdmin": u.IsDelegatedAdmin, "lastLoginTime": last,
		"creationTime":  u.CreationTime.UTC().Format("2006-01-02T15:04:05.000Z"),
		"agreedToTerms": true, "suspended": u.Suspended, "archived": u.Archived,
		"changePasswordAtNextLogin": false, "ipWhitelisted": false, "customerId": CustomerID,
		"orgUnitPath": cmp.Or(u.OrgUnitPath, "/"), "isMailboxSetup": true, "isEnrolledIn2Sv": u.IsEnrolledIn2Sv,
		"isEnforcedIn2Sv": u.IsEnforcedIn2Sv, "includeInGlobalAddressList": true,
	}
	if u.Suspended {
		m["suspensionReason"] = cmp.Or(u.SuspensionReason, "ADMIN")
	}
	return m
}

func (s *Server) user(key string) *User {
	for _, u := range s.users {
		if u.ID == key || strings.EqualFold(u.PrimaryEmail, key) {
			return u
		}
	}
	return nil
}

func hasAny(have []string, want ...string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

func apiError(w http.ResponseWriter, status int, reason, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg,
		"errors": []map[string]string{{"message": msg, "domain": "global", "reason": reason}}}})
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	vendorfake.WriteJSON(w, status, "application/json; charset=UTF-8", v)
}
