// Package salesforcetest runs an in-process fake of the Salesforce REST API
// pieces that package salesforce calls: the OAuth 2.0 client-credentials
// token endpoint, SOQL queries with nextRecordsUrl paging, and updates of
// User records. It parses the SOQL it receives far enough to check the
// object, the fields and the WHERE clause, refuses what Salesforce refuses in
// Salesforce's [{message, errorCode}] shape, records every request, and can
// be told to fail the next requests.
package salesforcetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/salesforce"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

// Credentials the fake accepts.
const (
	ClientID     = "3MVG9fakeConsumerKeyForTests"
	ClientSecret = "FAKE0123456789CONSUMERSECRET"
	OrgID        = "00D5e000000FAKEEAA"
)

// Request is one request the fake received.
type Request = vendorfake.Request

// User is a user as the fake stores it: the record the client reads. A
// UserType left empty is stored as "Standard".
type User = salesforce.User

// PermissionSet is a permission set. One owned by a profile applies to every
// user with that profile, as in Salesforce.
type PermissionSet struct {
	ID            string
	Name          string
	Label         string
	OwnerProfile  string // profile name when the set is owned by a profile
	ModifyAllData bool
	ViewAllData   bool
}

// Server is the fake. Call NewServer.
type Server struct {
	vendorfake.Base

	mu          sync.Mutex
	users       []*User
	permSets    []PermissionSet
	assignments [][2]string // user id, permission set id
	tokens      vendorfake.Tokens[struct{}]
	locators    map[string]locator
	faults      vendorfake.Faults
	faultsTok   vendorfake.Faults
	batchSize   int
}

type locator struct {
	records []map[string]any
	offset  int
}

// New starts an empty fake that is closed when the test ends.
func New(t testing.TB) *Server { return vendorfake.ForTest(t, NewServer()) }

// NewServer starts an empty fake; the caller closes it.
func NewServer() *Server {
	s := &Server{locators: map[string]locator{}, batchSize: 2000}
	s.Start(http.HandlerFunc(s.serve))
	return s
}

// Config returns a salesforce.Config for the fake with the accepted credentials.
func (s *Server) Config() salesforce.Config {
	return salesforce.Config{InstanceURL: s.URL, ClientID: ClientID, ClientSecret: ClientSecret, HTTPClient: s.Client()}
}

// SetBatchSize caps how many records one query answer holds. Default 2000,
// Salesforce's own batch size.
func (s *Server) SetBatchSize(n int) {
	vendorfake.Set(&s.mu, &s.batchSize, n)
}

// AddUser adds a user.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.UserType == "" {
		u.UserType = "Standard"
	}
	s.users = append(s.users, &u)
}

// User returns a copy of the stored user.
func (s *Server) User(id string) (User, bool) {
	return vendorfake.Lookup(&s.mu, func() *User { return s.user(id) })
}

// AddPermissionSet adds a permission set.
func (s *Server) AddPermissionSet(ps PermissionSet) {
	vendorfake.Append(&s.mu, &s.permSets, ps)
}

// Assign assigns a (not profile-owned) permission set to a user.
func (s *Server) Assign(userID, permissionSetID string) {
	vendorfake.Append(&s.mu, &s.assignments, [2]string{userID, permissionSetID})
}

// FailNext makes the next n API requests answer status, with Retry-After when
// retryAfter is not empty. A 403 answers REQUEST_LIMIT_EXCEEDED, Salesforce's
// API-limit error; FailNextWith gives another errorCode.
func (s *Server) FailNext(n, status int, retryAfter string) {
	var f vendorfake.Fault
	switch status {
	case http.StatusForbidden:
		f = vendorfake.Fault{Code: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded."}
	case http.StatusTooManyRequests:
		f = vendorfake.Fault{Code: "REQUEST_LIMIT_EXCEEDED", Message: "ConcurrentPerOrgLongTxn Limit exceeded."}
	default:
		f = vendorfake.Fault{Code: "SERVER_UNAVAILABLE", Message: "Server temporarily unavailable."}
	}
	f.Status, f.RetryAfter = status, retryAfter
	s.faults.Add(n, f)
}

// FailNextWith makes the next n API requests answer status with
// Salesforce's error body holding code and message, such as 403
// API_DISABLED_FOR_ORG when the integration user may not use the API.
func (s *Server) FailNextWith(n, status int, code, message string) {
	s.faults.Add(n, vendorfake.Fault{Status: status, Code: code, Message: message})
}

// FailNextToken makes the next n token requests answer status.
func (s *Server) FailNextToken(n, status int, retryAfter string) {
	s.faultsTok.Fail(n, status, retryAfter)
}

// ExpireSessions invalidates every token issued so far.
func (s *Server) ExpireSessions() {
	s.tokens.Revoke()
}

// APIRequests returns the requests made to /services/data.
func (s *Server) APIRequests() []Request {
	return s.RequestsUnder("/services/data/")
}

var versionPath = regexp.MustCompile(`^/services/data/v(\d+)\.0(/.*)$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body := s.Record(r)
	s.mu.Lock()
	defer s.mu.Unlock()

	if r.URL.Path == "/services/oauth2/token" {
		if f, ok := s.faultsTok.Take(w); ok {
			writeJSON(w, f.Status, map[string]string{"error": "server_error", "error_description": "try again later"})
			return
		}
		s.token(w, r, body)
		return
	}
	m := versionPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if v, _ := strconv.Atoi(m[1]); v < 31 || v > 66 {
		sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if _, ok := s.tokens.Bearer(r); !ok {
		sfError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	if f, ok := s.faults.Take(w); ok {
		sfError(w, f.Status, f.Code, f.Message)
		return
	}
	rest := m[2]
	switch {
	case rest == "/query" && r.Method == http.MethodGet:
		s.query(w, r, "/services/data/v"+m[1]+".0")
	case strings.HasPrefix(rest, "/query/") && r.Method == http.MethodGet:
		s.more(w, strings.TrimPrefix(rest, "/query/"), "/services/data/v"+m[1]+".0")
	case strings.HasPrefix(rest, "/sobjects/User/") && r.Method == http.MethodPatch:
		s.patchUser(w, r, strings.TrimPrefix(rest, "/sobjects/User/"), body)
	default:
		sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "must use HTTP POST with a form body"})
		return
	}
	form, _ := url.ParseQuery(string(body))
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	switch {
	case form.Get("grant_type") != "client_credentials":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant type not supported"})
	case id != ClientID:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client_id", "error_description": "client identifier invalid"})
	case secret != ClientSecret:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
	default:
		tok := OrgID + "!AR" + vendorfake.RandomHex(24)
		s.tokens.Issue(tok, struct{}{})
		writeJSON(w, http.StatusOK, map[string]string{"access_token": tok, "instance_url": s.URL,
			"id": s.URL + "/id/" + OrgID + "/0055e000001INTEGAAA", "token_type": "Bearer",
			"issued_at": strconv.FormatInt(time.Now().UnixMilli(), 10), "signature": vendorfake.RandomHex(16),
			"scope": "api"})
	}
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		sfError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type header specified in HTTP request is not supported: "+r.Header.Get("Content-Type"))
		return
	}
	u := s.user(id)
	if u == nil {
		sfError(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+id)
		return
	}
	var patch map[string]json.RawMessage
	if err := json.Unmarshal(body, &patch); err != nil {
		sfError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected character in the request body")
		return
	}
	for k, v := range patch {
		if k != "IsActive" {
			sfError(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type User", k))
			return
		}
		if err := json.Unmarshal(v, &u.IsActive); err != nil {
			sfError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Cannot deserialize instance of boolean from VALUE_STRING value")
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) user(id string) *User {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func sfError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, []map[string]any{{"message": msg, "errorCode": code}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	vendorfake.WriteJSON(w, status, "application/json;charset=UTF-8", v)
}
