// Package jiratest runs an in-process fake of the Jira Cloud REST API v3
// endpoints that package jira calls: POST /rest/api/3/issue and GET
// /rest/api/3/myself. It checks basic auth, the content type, the issue
// fields and that the description is an Atlassian document, answers errors
// in Jira's {errorMessages, errors} shape, records every request, and can be
// told to answer the next requests with 429 or 5xx.
package jiratest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-ispm/vigil/internal/jira"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

// Credentials the fake accepts.
const (
	Email    = "vigil-bot@example.com"
	APIToken = "ATATT3xFakeTokenForTests"
)

// Request is one request the fake received.
type Request = vendorfake.Request

// Issue is an issue the fake created.
type Issue struct {
	ID          string
	Key         string
	Project     string
	Summary     string
	IssueType   string
	Description json.RawMessage
	Labels      []string
}

// Server is the fake. Call NewServer.
type Server struct {
	vendorfake.Base // URL is the site URL

	mu       sync.Mutex
	projects map[string][]string // key → issue type names
	issues   []Issue
	faults   vendorfake.Faults
	nextID   int
}

// New starts a fake with project SEC (issue types Task, Bug, Story) that is
// closed when the test ends.
func New(t testing.TB) *Server { return vendorfake.ForTest(t, NewServer()) }

// NewServer starts a fake with project SEC (issue types Task, Bug, Story);
// the caller closes it.
func NewServer() *Server {
	s := &Server{projects: map[string][]string{"SEC": {"Task", "Bug", "Story"}}, nextID: 10000}
	s.Start(http.HandlerFunc(s.serve))
	return s
}

// Config returns a jira.Config for the fake with the accepted credentials.
func (s *Server) Config() jira.Config {
	return jira.Config{SiteURL: s.URL, Email: Email, APIToken: APIToken, HTTPClient: s.Client()}
}

// AddProject adds a project with its issue type names.
func (s *Server) AddProject(key string, issueTypes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects[key] = issueTypes
}

// FailNext makes the next n requests answer status (429 or 5xx), with a
// Retry-After header when retryAfter is not empty.
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.faults.Fail(n, status, retryAfter)
}

// Issues returns the issues created so far.
func (s *Server) Issues() []Issue {
	return vendorfake.Copy(&s.mu, &s.issues)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body := s.Record(r)
	s.mu.Lock()
	defer s.mu.Unlock()

	if f, ok := s.faults.Take(w); ok {
		msg := "Internal server error."
		if f.Status == http.StatusTooManyRequests {
			msg = "Rate limit exceeded."
		}
		jiraError(w, f.Status, []string{msg}, nil)
		return
	}
	email, token, ok := r.BasicAuth()
	if !ok || email != Email || token != APIToken {
		jiraError(w, http.StatusUnauthorized, []string{"Client must be authenticated to access this resource."}, nil)
		return
	}
	switch {
	case r.URL.Path == "/rest/api/3/myself" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{
			"self":      s.URL + "/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
			"accountId": "5b10a2844c20165700ede21g", "accountType": "atlassian", "emailAddress": Email,
			"displayName": "Vigil Bot", "active": true, "timeZone": "Europe/Paris", "locale": "en_US"})
	case r.URL.Path == "/rest/api/3/issue" && r.Method == http.MethodPost:
		s.createIssue(w, r, body)
	case r.URL.Path == "/rest/api/3/issue" || r.URL.Path == "/rest/api/3/myself":
		jiraError(w, http.StatusMethodNotAllowed, []string{"Method not allowed."}, nil)
	default:
		jiraError(w, http.StatusNotFound, []string{"No resource found at " + r.URL.Path + "."}, nil)
	}
}

func (s *Server) createIssue(w http.ResponseWriter, r *http.Request, body []byte) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		jiraError(w, http.StatusUnsupportedMediaType, []string{"Unsupported Media Type."}, nil)
		return
	}
	var req struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Fields == nil {
		jiraError(w, http.StatusBadRequest, []string{"Unexpected character in the request body."}, nil)
		return
	}
	errs := map[string]string{}
	var in Issue
	for name, raw := range req.Fields {
		switch name {
		case "project":
			var p struct {
				Key string `json:"key"`
			}
			_ = json.Unmarshal(raw, &p)
			in.Project = p.Key
		case "summary":
			_ = json.Unmarshal(raw, &in.Summary)
		case "issuetype":
			var t struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(raw, &t)
			in.IssueType = t.Name
		case "description":
			if !validDoc(raw) {
				errs["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
			}
			in.Description = raw
		case "labels":
			if json.Unmarshal(raw, &in.Labels) != nil {
				errs["labels"] = "Labels must be a list of strings."
			}
			for _, l := range in.Labels {
				if strings.ContainsAny(l, " \t") {
					errs["labels"] = "The label '" + l + "' contains spaces which is invalid."
				}
			}
		default:
			errs[name] = fmt.Sprintf("Field '%s' cannot be set. It is not on the appropriate screen, or unknown.", name)
		}
	}
	types, known := s.projects[in.Project]
	switch {
	case !known:
		errs["project"] = "valid project is required"
	case !contains(types, in.IssueType):
		errs["issuetype"] = "Specify a valid issue type"
	}
	if strings.TrimSpace(in.Summary) == "" {
		errs["summary"] = "You must specify a summary of the issue."
	} else if len(in.Summary) > 255 {
		errs["summary"] = "Summary must be less than 255 characters."
	}
	if len(errs) > 0 {
		jiraError(w, http.StatusBadRequest, []string{}, errs)
		return
	}
	s.nextID++
	n := 0
	for _, is := range s.issues {
		if is.Project == in.Project {
			n++
		}
	}
	in.ID = strconv.Itoa(s.nextID)
	in.Key = fmt.Sprintf("%s-%d", in.Project, n+1)
	s.issues = append(s.issues, in)
	writeJSON(w, http.StatusCreated, map[string]any{"id": in.ID, "key": in.Key,
		"self": s.URL + "/rest/api/3/issue/" + in.ID})
}

// validDoc checks the parts of the Atlassian Document Format that a plain
// text description uses: a doc of version 1 holding paragraphs of non-empty
// text nodes and hard breaks.
func validDoc(raw json.RawMessage) bool {
	var doc jira.Node
	if json.Unmarshal(raw, &doc) != nil || doc.Type != "doc" || doc.Version != 1 {
		return false
	}
	for _, p := range doc.Content {
		if p.Type != "paragraph" {
			return false
		}
		for _, n := range p.Content {
			switch {
			case n.Type == "text" && n.Text != "":
			case n.Type == "hardBreak" && n.Text == "":
			default:
				return false
			}
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func jiraError(w http.ResponseWriter, status int, messages []string, errs map[string]string) {
	if errs == nil {
		errs = map[string]string{}
	}
	writeJSON(w, status, map[string]any{"errorMessages": messages, "errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	vendorfake.WriteJSON(w, status, "application/json;charset=UTF-8", v)
}
