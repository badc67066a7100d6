// Package enginetest provides in-process stand-ins for the public HTTP
// APIs the Serverless Workflow conformance kit calls (the Swagger
// petstore and httpbin), and an HTTP client that sends every request to
// them, so conformance tests never reach the network.
package enginetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Pet is a pet of the stub petstore.
type Pet struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// Stub is an in-process server answering for petstore.swagger.io and
// httpbin.org. Requests reach it through Client, which keeps the original
// host in the Host header so the stub knows which API is asked.
type Stub struct {
	Server *httptest.Server

	mu       sync.Mutex
	pets     map[int]*Pet
	requests []string
}

// NewStub starts the stub; close it with Close.
func NewStub() *Stub {
	s := &Stub{pets: map[int]*Pet{
		1: {ID: 1, Name: "Rex", Status: "available"},
		2: {ID: 2, Name: "Milou", Status: "available"},
		3: {ID: 3, Name: "Garfield", Status: "sold"},
	}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *Stub) Close() { s.Server.Close() }

// Requests lists "METHOD host/path" of every request served, in order.
func (s *Stub) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Client returns an HTTP client whose transport sends every request,
// whatever its URL, to the stub.
func (s *Stub) Client() *http.Client {
	target, _ := url.Parse(s.Server.URL)
	return &http.Client{Transport: rewrite{target: target, next: s.Server.Client().Transport}}
}

type rewrite struct {
	target *url.URL
	next   http.RoundTripper
}

// RoundTrip sends req to the stub server, keeping its original host in the
// Host header.
func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Host = req.URL.Host
	out.URL.Scheme = r.target.Scheme
	out.URL.Host = r.target.Host
	return r.next.RoundTrip(out)
}

func (s *Stub) serve(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+host+r.URL.Path)
	s.mu.Unlock()
	switch host {
	case "petstore.swagger.io":
		s.petstore(w, r)
	case "httpbin.org":
		s.httpbin(w, r)
	default:
		http.Error(w, "unknown host "+host, http.StatusBadGateway)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Stub) petstore(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v2")
	switch {
	case path == "/swagger.json" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(swagger))
	case path == "/pet/findByStatus" && r.Method == http.MethodGet:
		want := map[string]bool{}
		for _, v := range r.URL.Query()["status"] {
			for _, s := range strings.Split(v, ",") {
				want[s] = true
			}
		}
		s.mu.Lock()
		var out []*Pet
		for id := 1; id <= len(s.pets)+10; id++ {
			if p, ok := s.pets[id]; ok && want[p.Status] {
				out = append(out, p)
			}
		}
		s.mu.Unlock()
		if out == nil {
			out = []*Pet{}
		}
		writeJSON(w, http.StatusOK, out)
	case path == "/pet" && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		var upd Pet
		if err := json.NewDecoder(r.Body).Decode(&upd); err != nil || upd.Name == "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "invalid pet"})
			return
		}
		s.mu.Lock()
		if upd.ID == 0 {
			upd.ID = len(s.pets) + 1
		}
		s.pets[upd.ID] = &upd
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, upd)
	case strings.HasPrefix(path, "/pet/"):
		rest := strings.TrimPrefix(path, "/pet/")
		id, err := strconv.Atoi(rest)
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]any{"code": 404, "type": "unknown", "message": "java.lang.NumberFormatException: For input string: \"" + rest + "\""})
			return
		}
		s.mu.Lock()
		p, ok := s.pets[id]
		if ok && r.Method == http.MethodPut {
			var upd Pet
			if json.NewDecoder(r.Body).Decode(&upd) == nil && upd.Status != "" {
				p.Status = upd.Status
			}
		}
		var cp Pet
		if ok {
			cp = *p
		}
		s.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"code": 1, "type": "error", "message": "Pet not found"})
			return
		}
		writeJSON(w, http.StatusOK, cp)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "not found"})
	}
}

func (s *Stub) httpbin(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[0] == "basic-auth":
		user, pass, ok := r.BasicAuth()
		if !ok || user != parts[1] || pass != parts[2] {
			w.Header().Set("WWW-Authenticate", `Basic realm="Fake Realm"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"authenticated": true, "user": user})
	case len(parts) == 2 && parts[0] == "status":
		code, err := strconv.Atoi(parts[1])
		if err != nil || code < 100 || code > 599 {
			http.Error(w, "bad status", http.StatusBadRequest)
			return
		}
		w.WriteHeader(code)
	default:
		http.Error(w, fmt.Sprintf("no such httpbin endpoint %s", r.URL.Path), http.StatusNotFound)
	}
}

// swagger is a Swagger 2.0 description of the stub petstore's operations
// the conformance kit calls, modelled on the public petstore's.
const swagger = `{
  "swagger": "2.0",
  "info": {"title": "Swagger Petstore", "version": "1.0.7"},
  "host": "petstore.swagger.io",
  "basePath": "/v2",
  "schemes": ["https"],
  "paths": {
    "/pet/findByStatus": {
      "get": {
        "operationId": "findPetsByStatus",
        "produces": ["application/json"],
        "parameters": [{
          "name": "status", "in": "query", "required": true, "type": "array",
          "items": {"type": "string", "enum": ["available", "pending", "sold"]},
          "collectionFormat": "multi"
        }],
        "responses": {"200": {"description": "successful operation", "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}}}
      }
    },
    "/pet/{petId}": {
      "get": {
        "operationId": "getPetById",
        "produces": ["application/json"],
        "parameters": [{"name": "petId", "in": "path", "required": true, "type": "integer", "format": "int64"}],
        "responses": {"200": {"description": "successful operation", "schema": {"$ref": "#/definitions/Pet"}}, "404": {"description": "Pet not found"}}
      }
    },
    "/pet": {
      "put": {
        "operationId": "updatePet",
        "consumes": ["application/json"],
        "parameters": [{"in": "body", "name": "body", "required": true, "schema": {"$ref": "#/definitions/Pet"}}],
        "responses": {"200": {"description": "successful operation"}}
      }
    }
  },
  "definitions": {
    "Pet": {
      "type": "object",
      "required": ["name"],
      "properties": {
        "id": {"type": "integer", "format": "int64"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["available", "pending", "sold"]}
      }
    }
  }
}`
