// Package oktatest is an in-process fake of the Okta Management API for
// tests: an httptest server over a mutable in-memory org that checks every
// request the way Okta documents it (method, path, Authorization: SSWS or an
// OAuth bearer token, Accept: application/json, limit and after cursors) and
// answers with Okta's JSON shapes, Link headers, rate-limit headers and error
// objects. Tests seed the org, inject faults (429, 401, 403 or 5xx for the
// next requests to a path), and read back the requests received and the
// state the writes left.
package oktatest

import (
	"crypto"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

// DefaultToken is the API token the fake accepts unless Token is changed.
const DefaultToken = "00fake-okta-api-token"

// EveryoneGroupID is the id of the built-in Everyone group, which holds
// every user as in a real org.
const EveryoneGroupID = "00geveryone000000000"

// Server is a fake Okta org. Its methods are safe for concurrent use.
type Server struct {
	vendorfake.Base // URL is the org URL, e.g. http://127.0.0.1:41234
	mux             *http.ServeMux

	mu       sync.Mutex
	token    string
	now      func() time.Time
	seq      int
	users    []*User
	factors  map[string][]Factor
	uRoles   map[string][]Role
	groups   []*Group
	members  map[string][]string
	gRoles   map[string][]Role
	tokens   []APIToken
	policies []*Policy
	sessions map[string]int
	requests []Request
	faults   map[string][]int

	rlLimit, rlRemaining int
	rlReset              time.Time

	clients map[string]oauthClient
	issued  map[string]issuedToken
	jtis    map[string]bool
}

// New starts a fake org that is closed when the test ends.
func New(t testing.TB) *Server { return vendorfake.ForTest(t, NewServer()) }

// NewServer starts a fake org; the caller closes it.
func NewServer() *Server {
	s := &Server{
		token:    DefaultToken,
		now:      time.Now,
		factors:  map[string][]Factor{},
		uRoles:   map[string][]Role{},
		members:  map[string][]string{},
		gRoles:   map[string][]Role{},
		sessions: map[string]int{},
		faults:   map[string][]int{},
		rlLimit:  600,
		clients:  map[string]oauthClient{},
		issued:   map[string]issuedToken{},
		jtis:     map[string]bool{},
	}
	s.groups = append(s.groups, &Group{ID: EveryoneGroupID, Type: "BUILT_IN", Name: "Everyone",
		Description: "All users in your organization", Created: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	s.routes()
	s.Start(s)
	return s
}

// Token returns the API token the fake accepts.
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// SetToken changes the API token the fake accepts, e.g. to test a revoked one.
func (s *Server) SetToken(token string) {
	vendorfake.Set(&s.mu, &s.token, token)
}

// SetClock makes the fake tell time with now, for rate-limit resets,
// token expiry and the dates written by lifecycle actions.
func (s *Server) SetClock(now func() time.Time) {
	vendorfake.Set(&s.mu, &s.now, now)
}

// SetRateLimit starts a new one-minute rate-limit window with the given
// ceiling and requests left. When none is left the fake answers 429
// E0000047 until the window resets, as Okta does.
func (s *Server) SetRateLimit(limit, remaining int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rlLimit, s.rlRemaining = limit, remaining
	s.rlReset = s.now().Truncate(time.Second).Add(time.Minute)
}

// FailNext makes the next n requests with this method and path (e.g.
// "GET", "/api/v1/users") fail with status, each with Okta's error object
// for it: 429 answers E0000047 with X-Rate-Limit-Reset one second ahead,
// 401 E0000011 (a revoked or expired token), 403 E0000006 (a token whose
// owner or scopes lack the permission), anything else E0000009.
func (s *Server) FailNext(method, path string, status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := method + " " + path
	for range n {
		s.faults[key] = append(s.faults[key], status)
	}
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	return vendorfake.Copy(&s.mu, &s.requests)
}

// Calls returns each request received so far as "METHOD path", in order:
// what a test compares with the calls it expects.
func (s *Server) Calls() []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() {
	vendorfake.Set(&s.mu, &s.requests, nil)
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%0*d", prefix, 20-len(prefix), s.seq)
}

// AddUser adds a user and returns it with its defaults filled in: an id
// 00u…, status ACTIVE, created and lastUpdated now, email = login.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = s.nextID("00u")
	}
	u.Status = orDefault(u.Status, "ACTIVE")
	if u.Created.IsZero() {
		u.Created = s.now()
	}
	if u.LastUpdated.IsZero() {
		u.LastUpdated = u.Created
	}
	u.Email = orDefault(u.Email, u.Login)
	u.TypeID = orDefault(u.TypeID, "oty00000000000000001")
	s.users = append(s.users, &u)
	return u
}

// User returns the current state of a user.
func (s *Server) User(id string) (User, bool) {
	return vendorfake.Lookup(&s.mu, func() *User { return s.user(id) })
}

func (s *Server) user(idOrLogin string) *User {
	for _, u := range s.users {
		if u.ID == idOrLogin || strings.EqualFold(u.Login, idOrLogin) {
			return u
		}
	}
	return nil
}

// AddFactor enrols a factor for a user.
func (s *Server) AddFactor(userID string, f Factor) Factor {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.ID == "" {
		f.ID = s.nextID("fac")
	}
	f.Provider = orDefault(f.Provider, "OKTA")
	f.Status = orDefault(f.Status, "ACTIVE")
	if f.Created.IsZero() {
		f.Created = s.now()
	}
	s.factors[userID] = append(s.factors[userID], f)
	return f
}

// AddUserRole assigns an admin role to a user directly.
func (s *Server) AddUserRole(userID string, r Role) Role {
	return s.addRole(s.uRoles, userID, r)
}

// addRole fills in r's defaults (an id ra…, status ACTIVE, a label from
// its type) and assigns it to holder in roles, the user or the group
// assignments.
func (s *Server) addRole(roles map[string][]Role, holder string, r Role) Role {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("ra") // taken even when r has an id, so later ids do not depend on it
	r.ID = orDefault(r.ID, id)
	r.Status = orDefault(r.Status, "ACTIVE")
	if r.Label == "" {
		r.Label = strings.ReplaceAll(strings.ToLower(r.Type), "_", " ")
	}
	roles[holder] = append(roles[holder], r)
	return r
}

// AddGroup adds a group (type OKTA_GROUP unless set).
func (s *Server) AddGroup(g Group) Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.ID == "" {
		g.ID = s.nextID("00g")
	}
	g.Type = orDefault(g.Type, "OKTA_GROUP")
	if g.Created.IsZero() {
		g.Created = s.now()
	}
	s.groups = append(s.groups, &g)
	return g
}

// AddMember puts a user in a group.
func (s *Server) AddMember(groupID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addMember(groupID, userID)
}

func (s *Server) addMember(groupID, userID string) {
	for _, id := range s.members[groupID] {
		if id == userID {
			return
		}
	}
	s.members[groupID] = append(s.members[groupID], userID)
}

// GroupMembers returns the ids of a group's members (for Everyone, all users).
func (s *Server) GroupMembers(groupID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.memberIDs(groupID)
}

func (s *Server) memberIDs(groupID string) []string {
	if groupID == EveryoneGroupID {
		var ids []string
		for _, u := range s.users {
			ids = append(ids, u.ID)
		}
		return ids
	}
	return append([]string(nil), s.members[groupID]...)
}

// AddGroupRole assigns an admin role to a group; its members hold it with
// assignmentType GROUP.
func (s *Server) AddGroupRole(groupID string, r Role) Role {
	return s.addRole(s.gRoles, groupID, r)
}

// AddAPIToken adds API token metadata.
func (s *Server) AddAPIToken(t APIToken) APIToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.ID == "" {
		t.ID = s.nextID("00T")
	}
	if t.Created.IsZero() {
		t.Created = s.now()
	}
	if t.LastUpdated.IsZero() {
		t.LastUpdated = t.Created
	}
	t.TokenWindow = orDefault(t.TokenWindow, "P30D")
	t.ClientName = orDefault(t.ClientName, "Okta API")
	s.tokens = append(s.tokens, t)
	return t
}

// AddPolicy adds a policy with its rules.
func (s *Server) AddPolicy(p Policy) Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == "" {
		p.ID = s.nextID("00p")
	}
	p.Status = orDefault(p.Status, "ACTIVE")
	for i := range p.Rules {
		if p.Rules[i].ID == "" {
			p.Rules[i].ID = s.nextID("0pr")
		}
		p.Rules[i].Status = orDefault(p.Rules[i].Status, "ACTIVE")
		p.Rules[i].Access = orDefault(p.Rules[i].Access, "ALLOW")
	}
	s.policies = append(s.policies, &p)
	return p
}

// SessionsCleared returns how often a user's sessions were cleared.
func (s *Server) SessionsCleared(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[userID]
}

// ServeHTTP records the request, then checks it as Okta would before
// routing it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	h := r.Header.Clone()
	h.Del("Authorization")
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: h, Body: body})
	r.Body = io.NopCloser(strings.NewReader(string(body)))

	if r.URL.Path == "/oauth2/v1/token" {
		s.handleToken(w, r)
		return
	}
	if !s.authorized(r.Header.Get("Authorization")) {
		s.writeError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/json") {
		s.writeError(w, http.StatusNotAcceptable, "E0000001", "Api validation failed: Accept header must be application/json")
		return
	}
	if !s.takeRateLimit(w) {
		s.writeError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	key := r.Method + " " + r.URL.Path
	if f := s.faults[key]; len(f) > 0 {
		status := f[0]
		s.faults[key] = f[1:]
		if status == http.StatusTooManyRequests {
			w.Header().Set("X-Rate-Limit-Remaining", "0")
			w.Header().Set("X-Rate-Limit-Reset", fmt.Sprint(s.now().Add(time.Second).Unix()))
			s.writeError(w, status, "E0000047", "API call exceeded rate limit due to too many requests.")
			return
		}
		code, summary := faultError(status)
		s.writeError(w, status, code, summary)
		return
	}
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && len(body) > 0 &&
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		s.writeError(w, http.StatusUnsupportedMediaType, "E0000001", "Api validation failed: Content-Type must be application/json")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// authorized accepts "SSWS <token>" or "Bearer <issued access token>".
func (s *Server) authorized(header string) bool {
	if scheme, cred, ok := strings.Cut(header, " "); ok {
		switch scheme {
		case "SSWS":
			return cred != "" && cred == s.token
		case "Bearer":
			t, ok := s.issued[cred]
			return ok && s.now().Before(t.expires)
		}
	}
	return false
}

// takeRateLimit counts the request against the current window, writes the
// rate-limit headers and reports whether a request was left.
func (s *Server) takeRateLimit(w http.ResponseWriter) bool {
	now := s.now()
	if !now.Before(s.rlReset) {
		s.rlReset = now.Truncate(time.Second).Add(time.Minute)
		s.rlRemaining = s.rlLimit
	}
	ok := s.rlRemaining > 0
	if ok {
		s.rlRemaining--
	}
	w.Header().Set("X-Rate-Limit-Limit", fmt.Sprint(s.rlLimit))
	w.Header().Set("X-Rate-Limit-Remaining", fmt.Sprint(s.rlRemaining))
	w.Header().Set("X-Rate-Limit-Reset", fmt.Sprint(s.rlReset.Unix()))
	return ok
}

// faultError is the errorCode and errorSummary Okta answers a status
// injected by FailNext with, other than 429.
func faultError(status int) (code, summary string) {
	switch status {
	case http.StatusUnauthorized:
		return "E0000011", "Invalid token provided"
	case http.StatusForbidden:
		return "E0000006", "You do not have permission to perform the requested action"
	}
	return "E0000009", "Internal Server Error"
}

// writeError answers with Okta's error object.
func (s *Server) writeError(w http.ResponseWriter, status int, code, summary string, causes ...string) {
	s.seq++
	c := []map[string]string{}
	for _, cause := range causes {
		c = append(c, map[string]string{"errorSummary": cause})
	}
	writeJSON(w, status, map[string]any{
		"errorCode":    code,
		"errorSummary": summary,
		"errorLink":    code,
		"errorId":      fmt.Sprintf("oae%019d", s.seq),
		"errorCauses":  c,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	vendorfake.WriteJSON(w, status, "application/json", v)
}

type oauthClient struct {
	key    crypto.PublicKey
	scopes []string
}

type issuedToken struct {
	clientID string
	expires  time.Time
}
