// Package entratest runs an in-process fake of the Microsoft identity
// platform token endpoint and of the Microsoft Graph v1.0 endpoints that
// package entra calls. It checks requests the way Graph does (method, path,
// bearer token, content type, $select, $top, $skiptoken), refuses what Graph
// refuses with Graph's error shape, keeps mutable in-memory state, records
// every request, and can be told to fail the next requests with 429, 401, 403
// or 5xx.
package entratest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/entra"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

// Default credentials the fake accepts.
const (
	TenantID     = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	ClientID     = "3c5f0a4e-1b2d-4e6f-8a9b-0c1d2e3f4a5b"
	ClientSecret = "fake~secret.value-for-tests"
)

// Request is one request the fake received.
type Request = vendorfake.Request

// Server is the fake. Its zero value is not usable; call NewServer.
type Server struct {
	vendorfake.Base

	mu        sync.Mutex
	tenantID  string
	clientID  string
	secret    string
	pageSize  int
	premium   bool
	tokens    vendorfake.Tokens[time.Time] // expiry
	faults    vendorfake.Faults
	faultsTok vendorfake.Faults
	skip      map[string]int
	org       Organization
	users     []*User
	roles     []*Role
	sps       []*ServicePrincipal
	apps      []*Application
	groups    map[string]*Group
}

// New starts a fake with no users that is closed when the test ends.
func New(t testing.TB) *Server { return vendorfake.ForTest(t, NewServer()) }

// NewServer starts a fake with no users; the caller closes it.
func NewServer() *Server {
	s := &Server{
		tenantID: TenantID, clientID: ClientID, secret: ClientSecret,
		pageSize: 100, premium: true,
		skip: map[string]int{}, groups: map[string]*Group{},
		org: Organization{ID: TenantID, DisplayName: "Contoso", DefaultDomain: "contoso.example"},
	}
	s.Start(http.HandlerFunc(s.serve))
	return s
}

// Config returns an entra.Config pointing at the fake with the credentials it
// accepts. Callers add their own Sleep and Now.
func (s *Server) Config() entra.Config {
	return entra.Config{
		TenantID: TenantID, ClientID: ClientID, ClientSecret: ClientSecret,
		LoginURL: s.URL, GraphURL: s.URL, HTTPClient: s.Client(),
	}
}

// SetPageSize caps how many objects one page holds, whatever $top asks, so
// tests can page through a handful of users. Default 100.
func (s *Server) SetPageSize(n int) {
	vendorfake.Set(&s.mu, &s.pageSize, n)
}

// SetPremium says whether the tenant has the Entra ID P1 licence that
// signInActivity needs. Default true.
func (s *Server) SetPremium(ok bool) {
	vendorfake.Set(&s.mu, &s.premium, ok)
}

// FailNext makes the next n Graph requests fail with status, in Graph's error
// shape, with a Retry-After header when retryAfter is not empty: 429 answers
// TooManyRequests, 401 InvalidAuthenticationToken (a token that expired
// before Graph saw it), 403 Authorization_RequestDenied (a permission not
// granted), 503 serviceNotAvailable, anything else UnknownError.
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.faults.Fail(n, status, retryAfter)
}

// FailNextToken makes the next n token requests fail with status.
func (s *Server) FailNextToken(n, status int, retryAfter string) {
	s.faultsTok.Fail(n, status, retryAfter)
}

// RevokeTokens invalidates every token issued so far, as a secret rotation
// or a token lifetime policy would.
func (s *Server) RevokeTokens() {
	s.tokens.Revoke()
}

// GraphRequests returns the requests made to Graph, leaving out token requests.
func (s *Server) GraphRequests() []Request {
	return s.RequestsUnder("/v1.0/")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body := s.Record(r)
	s.mu.Lock()
	defer s.mu.Unlock()

	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		if f, ok := s.faultsTok.Take(w); ok {
			writeJSON(w, f.Status, map[string]any{"error": "temporarily_unavailable",
				"error_description": "AADSTS50196: The server terminated an operation because it encountered a client request loop."})
			return
		}
		s.token(w, r, body)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/v1.0/") {
		graphError(w, http.StatusBadRequest, "BadRequest", "Invalid version.")
		return
	}
	if !s.authorized(r) {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return
	}
	if f, ok := s.faults.Take(w); ok {
		code, msg := "UnknownError", "An internal server error occurred."
		switch f.Status {
		case http.StatusTooManyRequests:
			code, msg = "TooManyRequests", "Too many requests. Please retry after the time in Retry-After."
		case http.StatusUnauthorized:
			code, msg = "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
		case http.StatusForbidden:
			code, msg = "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
		case http.StatusServiceUnavailable:
			code, msg = "serviceNotAvailable", "Service is temporarily unavailable."
		}
		graphError(w, f.Status, code, msg)
		return
	}
	s.route(w, r, strings.TrimPrefix(r.URL.Path, "/v1.0/"), body)
}

// token implements the client-credentials grant of the v2.0 endpoint.
func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	tenant := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token")
	if r.Method != http.MethodPost {
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS90014: The request body is not well-formed.")
		return
	}
	switch {
	case tenant != s.tenantID:
		tokenError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", tenant))
	case form.Get("grant_type") != "client_credentials":
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
	case form.Get("client_id") != s.clientID:
		tokenError(w, http.StatusBadRequest, "unauthorized_client", fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory.", form.Get("client_id")))
	case form.Get("client_secret") != s.secret:
		tokenError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 0f6b2a9c")
	case form.Get("scope") != s.URL+"/.default" && form.Get("scope") != "https://graph.microsoft.com/.default":
		tokenError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
	default:
		tok := vendorfake.RandomHex(24)
		s.tokens.Issue(tok, time.Now().Add(time.Hour))
		writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599,
			"ext_expires_in": 3599, "access_token": tok})
	}
}

func (s *Server) authorized(r *http.Request) bool {
	exp, ok := s.tokens.Bearer(r)
	return ok && time.Now().Before(exp)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	parts := strings.Split(path, "/")
	get := r.Method == http.MethodGet
	switch {
	case get && path == "users":
		s.list(w, r, "user", s.userObjects(), userDefault)
	case get && path == "reports/authenticationMethods/userRegistrationDetails":
		s.list(w, r, "userRegistrationDetails", s.registrationObjects(), nil)
	case get && path == "organization":
		s.list(w, r, "organization", []map[string]any{s.org.props()}, nil)
	case get && path == "directoryRoles":
		var objs []map[string]any
		for _, role := range s.roles {
			objs = append(objs, role.props())
		}
		s.list(w, r, "directoryRole", objs, nil)
	case get && len(parts) == 3 && parts[0] == "directoryRoles" && parts[2] == "members":
		role := s.role(parts[1])
		if role == nil {
			notFound(w, parts[1])
			return
		}
		var objs []map[string]any
		for _, id := range role.MemberIDs {
			if o := s.object(id); o != nil {
				objs = append(objs, o)
			}
		}
		s.list(w, r, "directoryObject", objs, nil)
	case get && path == "servicePrincipals":
		var objs []map[string]any
		for _, sp := range s.sps {
			objs = append(objs, sp.props())
		}
		s.list(w, r, "servicePrincipal", objs, spDefault)
	case get && path == "applications":
		var objs []map[string]any
		for _, app := range s.apps {
			objs = append(objs, app.props())
		}
		s.list(w, r, "application", objs, appDefault)
	case r.Method == http.MethodPatch && len(parts) == 2 && parts[0] == "users":
		s.patchUser(w, r, parts[1], body)
	case r.Method == http.MethodPost && len(parts) == 4 && parts[0] == "groups" && parts[2] == "members" && parts[3] == "$ref":
		s.addMember(w, r, parts[1], body)
	default:
		graphError(w, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Resource not found for the segment '%s'.", parts[0]))
	}
}

// list serves one page of a collection, honouring $select, $top and the
// $skiptoken of a next link it issued.
func (s *Server) list(w http.ResponseWriter, r *http.Request, typ string, objs []map[string]any, defaults []string) {
	q := r.URL.Query()
	for key := range q {
		switch key {
		case "$select", "$top", "$skiptoken":
		default:
			graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery",
				fmt.Sprintf("Unsupported query option '%s' for this request.", key))
			return
		}
	}
	fields := defaults
	if sel := q.Get("$select"); sel != "" {
		fields = strings.Split(sel, ",")
		for _, f := range fields {
			if len(objs) > 0 {
				if _, ok := objs[0][f]; !ok {
					graphError(w, http.StatusBadRequest, "Request_BadRequest",
						fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.%s'.", f, typ))
					return
				}
			}
			if f == "signInActivity" && !s.premium {
				graphError(w, http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
					"Neither tenant is B2C or tenant doesn't have premium license")
				return
			}
		}
	}
	size := s.pageSize
	if top := q.Get("$top"); top != "" {
		n, err := strconv.Atoi(top)
		if err != nil || n < 1 || n > 999 {
			graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery",
				fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", top))
			return
		}
		size = min(size, n)
	}
	offset := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		o, ok := s.skip[r.URL.Path+"|"+tok]
		if !ok {
			graphError(w, http.StatusBadRequest, "Directory_ExpiredPageToken",
				"The specified page token value has expired and can no longer be included in your request.")
			return
		}
		offset = o
	}
	end := min(offset+size, len(objs))
	page := []map[string]any{}
	for _, o := range objs[offset:end] {
		page = append(page, project(o, fields, typ == "directoryObject"))
	}
	out := map[string]any{"@odata.context": s.URL + "/v1.0/$metadata#" + typ, "value": page}
	if end < len(objs) {
		tok := vendorfake.RandomHex(16)
		s.skip[r.URL.Path+"|"+tok] = end
		next := url.Values{}
		for k, v := range q {
			if k != "$skiptoken" {
				next[k] = v
			}
		}
		next.Set("$skiptoken", tok)
		out["@odata.nextLink"] = s.URL + r.URL.Path + "?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}

// project keeps the selected fields. Graph names an object's type only in
// collections that mix types, such as a role's members.
func project(o map[string]any, fields []string, keepType bool) map[string]any {
	if fields == nil {
		fields = make([]string, 0, len(o))
		for k := range o {
			fields = append(fields, k)
		}
	}
	out := map[string]any{}
	if t, ok := o["@odata.type"]; ok && keepType {
		out["@odata.type"] = t
	}
	for _, f := range fields {
		if f != "@odata.type" {
			out[f] = o[f]
		}
	}
	return out
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		graphError(w, http.StatusUnsupportedMediaType, "BadRequest", "Unsupported Media Type.")
		return
	}
	u := s.user(id)
	if u == nil {
		notFound(w, id)
		return
	}
	var patch map[string]json.RawMessage
	if err := json.Unmarshal(body, &patch); err != nil || len(patch) == 0 {
		graphError(w, http.StatusBadRequest, "BadRequest", "Empty Payload. JSON content expected.")
		return
	}
	for k, v := range patch {
		switch k {
		case "accountEnabled":
			if err := json.Unmarshal(v, &u.AccountEnabled); err != nil {
				graphError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'accountEnabled' of resource 'User'.")
				return
			}
		case "displayName":
			_ = json.Unmarshal(v, &u.DisplayName)
		default:
			graphError(w, http.StatusBadRequest, "Request_BadRequest",
				fmt.Sprintf("Property '%s' is read-only and cannot be set.", k))
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, groupID string, body []byte) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		graphError(w, http.StatusUnsupportedMediaType, "BadRequest", "Unsupported Media Type.")
		return
	}
	g := s.groups[groupID]
	if g == nil {
		notFound(w, groupID)
		return
	}
	var ref map[string]string
	if err := json.Unmarshal(body, &ref); err != nil || ref["@odata.id"] == "" {
		graphError(w, http.StatusBadRequest, "BadRequest", "Write requests (excluding DELETE) must contain the Content-Type header declaration.")
		return
	}
	id := ""
	for _, base := range []string{s.URL, "https://graph.microsoft.com"} {
		if rest, ok := strings.CutPrefix(ref["@odata.id"], base+"/v1.0/directoryObjects/"); ok {
			id = rest
		}
	}
	if id == "" || strings.Contains(id, "/") {
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid object identifier '"+ref["@odata.id"]+"'.")
		return
	}
	if s.object(id) == nil {
		notFound(w, id)
		return
	}
	for _, m := range g.MemberIDs {
		if m == id {
			graphError(w, http.StatusBadRequest, "Request_BadRequest",
				"One or more added object references already exist for the following modified properties: 'members'.")
			return
		}
	}
	g.MemberIDs = append(g.MemberIDs, id)
	w.WriteHeader(http.StatusNoContent)
}

func notFound(w http.ResponseWriter, id string) {
	graphError(w, http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": vendorfake.RandomHex(8)}}})
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc, "trace_id": vendorfake.RandomHex(8)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	vendorfake.WriteJSON(w, status, "application/json", v)
}
