package oktatest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/v1/users", s.listUsers)
	m.HandleFunc("GET /api/v1/users/{id}", s.getUser)
	m.HandleFunc("GET /api/v1/users/{id}/factors", s.listFactors)
	m.HandleFunc("GET /api/v1/users/{id}/roles", s.listUserRoles)
	m.HandleFunc("POST /api/v1/users/{id}/lifecycle/{action}", s.lifecycle)
	m.HandleFunc("DELETE /api/v1/users/{id}/sessions", s.clearSessions)
	m.HandleFunc("GET /api/v1/groups", s.listGroups)
	m.HandleFunc("GET /api/v1/groups/{id}/users", s.listGroupUsers)
	m.HandleFunc("GET /api/v1/groups/{id}/roles", s.listGroupRoles)
	m.HandleFunc("PUT /api/v1/groups/{gid}/users/{uid}", s.addGroupUser)
	m.HandleFunc("GET /api/v1/iam/assignees/users", s.listAssignees)
	m.HandleFunc("GET /api/v1/api-tokens", s.listAPITokens)
	m.HandleFunc("GET /api/v1/policies", s.listPolicies)
	m.HandleFunc("GET /api/v1/policies/{id}/rules", s.listRules)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, http.StatusNotFound, "E0000022", "The endpoint does not support the provided HTTP method")
	})
	s.mux = m
}

// pageParams reads limit and after. Okta refuses a limit above the
// endpoint's maximum; an unknown cursor is refused too, so a client that
// builds cursors itself is caught.
func (s *Server) pageParams(w http.ResponseWriter, r *http.Request, ids []string, maxLimit int) (start, limit int, ok bool) {
	limit = maxLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			s.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit",
				fmt.Sprintf("limit: must be a number between 1 and %d", maxLimit))
			return 0, 0, false
		}
		limit = n
	}
	if after := r.URL.Query().Get("after"); after != "" {
		start = -1
		for i, id := range ids {
			if id == after {
				start = i + 1
			}
		}
		if start < 0 {
			s.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: after", "after: unknown cursor")
			return 0, 0, false
		}
	}
	return start, limit, true
}

// nextURL is the request's URL with after moved to the last item served.
func (s *Server) nextURL(r *http.Request, after string, limit int) string {
	q := r.URL.Query()
	q.Set("after", after)
	q.Set("limit", strconv.Itoa(limit))
	return s.URL + r.URL.Path + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

// writePage answers one page of a JSON array with Link headers: rel="self"
// always, rel="next" when more items follow.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, ids []string, items []map[string]any, maxLimit int) {
	start, limit, ok := s.pageParams(w, r, ids, maxLimit)
	if !ok {
		return
	}
	end := min(start+limit, len(items))
	w.Header().Add("Link", fmt.Sprintf(`<%s%s>; rel="self"`, s.URL, r.URL.RequestURI()))
	if end < len(items) {
		w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="next"`, s.nextURL(r, ids[end-1], limit)))
	}
	writeJSON(w, http.StatusOK, append([]map[string]any{}, items[start:end]...))
}

var filterRE = regexp.MustCompile(`^(status|profile\.login|id)\s+eq\s+"([^"]*)"$`)

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	match := func(u *User) bool { return u.Status != "DEPROVISIONED" }
	if f := r.URL.Query().Get("filter"); f != "" {
		m := filterRE.FindStringSubmatch(strings.TrimSpace(f))
		if m == nil {
			s.writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.")
			return
		}
		field, value := m[1], m[2]
		match = func(u *User) bool {
			switch field {
			case "status":
				return u.Status == value
			case "profile.login":
				return strings.EqualFold(u.Login, value)
			}
			return u.ID == value
		}
	}
	var ids []string
	var items []map[string]any
	for _, u := range s.users {
		if match(u) {
			ids = append(ids, u.ID)
			items = append(items, u.json())
		}
	}
	s.writePage(w, r, ids, items, 200)
}

func (s *Server) notFound(w http.ResponseWriter, id, kind string) {
	s.writeError(w, http.StatusNotFound, "E0000007", fmt.Sprintf("Not found: Resource not found: %s (%s)", id, kind))
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u := s.user(r.PathValue("id"))
	if u == nil {
		s.notFound(w, r.PathValue("id"), "User")
		return
	}
	writeJSON(w, http.StatusOK, u.json())
}

func (s *Server) listFactors(w http.ResponseWriter, r *http.Request) {
	u := s.userByID(r.PathValue("id"))
	if u == nil {
		s.notFound(w, r.PathValue("id"), "User")
		return
	}
	items := []map[string]any{}
	for _, f := range s.factors[u.ID] {
		items = append(items, f.json())
	}
	writeJSON(w, http.StatusOK, items)
}

func (s *Server) userByID(id string) *User {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (s *Server) groupByID(id string) *Group {
	for _, g := range s.groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// rolesOf returns a user's direct roles and those of their groups.
func (s *Server) rolesOf(userID string) []map[string]any {
	items := []map[string]any{}
	for _, role := range s.uRoles[userID] {
		items = append(items, role.json("USER"))
	}
	for _, g := range s.groups {
		roles := s.gRoles[g.ID]
		if len(roles) == 0 {
			continue
		}
		for _, m := range s.memberIDs(g.ID) {
			if m == userID {
				for _, role := range roles {
					items = append(items, role.json("GROUP"))
				}
			}
		}
	}
	return items
}

func (s *Server) listUserRoles(w http.ResponseWriter, r *http.Request) {
	u := s.userByID(r.PathValue("id"))
	if u == nil {
		s.notFound(w, r.PathValue("id"), "User")
		return
	}
	writeJSON(w, http.StatusOK, s.rolesOf(u.ID))
}

func (s *Server) lifecycle(w http.ResponseWriter, r *http.Request) {
	u := s.userByID(r.PathValue("id"))
	if u == nil {
		s.notFound(w, r.PathValue("id"), "User")
		return
	}
	now := s.now()
	setStatus := func(status string) {
		u.Status = status
		u.StatusChanged = &now
		u.LastUpdated = now
	}
	switch r.PathValue("action") {
	case "suspend":
		if u.Status != "ACTIVE" {
			s.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: suspendUser",
				"Cannot suspend a user that is not active")
			return
		}
		setStatus("SUSPENDED")
		writeJSON(w, http.StatusOK, map[string]any{})
	case "unsuspend":
		if u.Status != "SUSPENDED" {
			s.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: unsuspendUser",
				"Cannot unsuspend a user that is not suspended")
			return
		}
		setStatus("ACTIVE")
		writeJSON(w, http.StatusOK, map[string]any{})
	case "expire_password":
		if u.Status != "ACTIVE" && u.Status != "PASSWORD_EXPIRED" {
			s.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: expirePassword",
				"Cannot expire the password of a user that is not active")
			return
		}
		setStatus("PASSWORD_EXPIRED")
		writeJSON(w, http.StatusOK, u.json())
	default:
		s.writeError(w, http.StatusNotFound, "E0000022", "The endpoint does not support the provided HTTP method")
	}
}

func (s *Server) clearSessions(w http.ResponseWriter, r *http.Request) {
	u := s.userByID(r.PathValue("id"))
	if u == nil {
		s.notFound(w, r.PathValue("id"), "User")
		return
	}
	s.sessions[u.ID]++
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	var ids []string
	var items []map[string]any
	for _, g := range s.groups {
		ids = append(ids, g.ID)
		items = append(items, g.json())
	}
	s.writePage(w, r, ids, items, 10000)
}

func (s *Server) listGroupUsers(w http.ResponseWriter, r *http.Request) {
	if s.groupByID(r.PathValue("id")) == nil {
		s.notFound(w, r.PathValue("id"), "UserGroup")
		return
	}
	var ids []string
	var items []map[string]any
	for _, id := range s.memberIDs(r.PathValue("id")) {
		if u := s.userByID(id); u != nil {
			ids = append(ids, u.ID)
			items = append(items, u.json())
		}
	}
	s.writePage(w, r, ids, items, 1000)
}

func (s *Server) listGroupRoles(w http.ResponseWriter, r *http.Request) {
	if s.groupByID(r.PathValue("id")) == nil {
		s.notFound(w, r.PathValue("id"), "UserGroup")
		return
	}
	items := []map[string]any{}
	for _, role := range s.gRoles[r.PathValue("id")] {
		items = append(items, role.json("GROUP"))
	}
	writeJSON(w, http.StatusOK, items)
}

func (s *Server) addGroupUser(w http.ResponseWriter, r *http.Request) {
	g := s.groupByID(r.PathValue("gid"))
	if g == nil {
		s.notFound(w, r.PathValue("gid"), "UserGroup")
		return
	}
	u := s.userByID(r.PathValue("uid"))
	if u == nil {
		s.notFound(w, r.PathValue("uid"), "User")
		return
	}
	if g.Type != "OKTA_GROUP" {
		s.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: group",
			"Only members of groups of type OKTA_GROUP can be changed")
		return
	}
	s.addMember(g.ID, u.ID)
	w.WriteHeader(http.StatusNoContent)
}

// listAssignees answers {value, _links} with the next page in
// _links.next.href, as the role assignment API documents it.
func (s *Server) listAssignees(w http.ResponseWriter, r *http.Request) {
	var ids []string
	var items []map[string]any
	for _, u := range s.users {
		if len(s.rolesOf(u.ID)) > 0 {
			ids = append(ids, u.ID)
			items = append(items, map[string]any{
				"id":  u.ID,
				"orn": "orn:okta:directory:00o1:users:" + u.ID,
				"_links": map[string]any{
					"self":  map[string]any{"href": s.URL + "/api/v1/users/" + u.ID},
					"roles": map[string]any{"href": s.URL + "/api/v1/users/" + u.ID + "/roles"},
				},
			})
		}
	}
	start, limit, ok := s.pageParams(w, r, ids, 100)
	if !ok {
		return
	}
	end := min(start+limit, len(items))
	links := map[string]any{}
	if end < len(items) {
		links["next"] = map[string]any{"href": s.nextURL(r, ids[end-1], limit)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": append([]map[string]any{}, items[start:end]...), "_links": links})
}

func (s *Server) listAPITokens(w http.ResponseWriter, r *http.Request) {
	var ids []string
	var items []map[string]any
	for _, t := range s.tokens {
		ids = append(ids, t.ID)
		items = append(items, t.json())
	}
	s.writePage(w, r, ids, items, 200)
}

var policyTypes = map[string]bool{
	"OKTA_SIGN_ON": true, "PASSWORD": true, "MFA_ENROLL": true, "IDP_DISCOVERY": true,
	"ACCESS_POLICY": true, "PROFILE_ENROLLMENT": true, "POST_AUTH_SESSION": true, "ENTITY_RISK": true,
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	if !policyTypes[typ] {
		s.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: type",
			"type: a valid policy type is required")
		return
	}
	items := []map[string]any{}
	for _, p := range s.policies {
		if p.Type == typ {
			items = append(items, p.json())
		}
	}
	writeJSON(w, http.StatusOK, items)
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) {
	for _, p := range s.policies {
		if p.ID == r.PathValue("id") {
			items := []map[string]any{}
			for _, rule := range p.Rules {
				items = append(items, rule.json(p.Type))
			}
			writeJSON(w, http.StatusOK, items)
			return
		}
	}
	s.notFound(w, r.PathValue("id"), "Policy")
}
