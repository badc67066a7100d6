package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/netguard/netguardtest"
	"github.com/vigil-ispm/vigil/internal/posture/identity"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/queue/queuetest"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
)

// loopback is the outbound allowlist the tests' local servers need.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// testNow is the tests' fixed clock.
var testNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// cheapHash keeps the users' password hashes fast to make.
var cheapHash = auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// echoFlow has an API Endpoint secured with a client token and no
// connection, so it can be turned on.
const echoFlow = `document:
  dsl: '1.0.0'
  namespace: test
  name: echo
  version: '1.0.0'
  title: Echo
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          security: clientToken
          response: async
      saveAllData: true
do:
  - answer:
      set:
        got: '${ .body }'
`

// publicFlow has a public API Endpoint: no token to show or rotate.
const publicFlow = `document:
  dsl: '1.0.0'
  namespace: test
  name: open
  version: '1.0.0'
  title: Open Door
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          security: public
do:
  - answer:
      set:
        ok: true
`

// oktaFlow is a helper flow that needs the connection "Okta", which the
// tests never add: it cannot be turned on.
const oktaFlow = `document:
  dsl: '1.0.0'
  namespace: test
  name: suspend
  version: '1.0.0'
  title: Suspend In Okta
do:
  - suspend:
      call: okta.suspendUser
      with:
        connection: Okta
        user: '${ .user }'
`

// bundle is a wired API over one database, with a user and API token per
// role, a snapshot source that was scanned once, a folder of three flows,
// one execution and one http connection to a local server.
type bundle struct {
	t      *testing.T
	ctx    context.Context
	st     *store.Store
	box    *secret.Box
	api    *API
	svc    Services
	auth   *auth.Service
	h      http.Handler
	tokens map[auth.Role]string

	folder                   *flows.Folder
	echo, open, okta         *flows.Flow
	execID                   string
	conn                     *connection.Connection
	connSecret               string
	probes                   *probeCounter
	outbox                   *outbox
	router                   routers.Router
	validateResponsesAgainst *openapi3.T
}

// outbox records the issue events, so that tests see what changed.
type outbox struct {
	mu     sync.Mutex
	events []event.Event
}

func (o *outbox) Publish(_ context.Context, _ *store.Tx, ev event.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, ev)
	return nil
}

func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.events)
}

// probeCounter counts the requests the connection's server received.
type probeCounter struct {
	mu sync.Mutex
	n  int
}

func (p *probeCounter) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// setup builds the services as the server does, over st.
func setup(t *testing.T, st *store.Store) *bundle {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return testNow }
	box := secrettest.Box(t)
	client := netguard.NewClient(netguard.Config{Allow: loopback})
	b := &bundle{t: t, ctx: ctx, st: st, box: box, tokens: map[auth.Role]string{}, probes: &probeCounter{}, outbox: &outbox{}}

	b.auth = auth.New(st, auth.Config{Now: now, Hash: cheapHash})
	issues := issue.New(st, b.outbox, issue.Config{Now: now, PublicURL: "https://vigil.example.com"})
	sources := source.New(st, box, issues, source.Config{HTTPClient: client, Allow: loopback, Resolver: netguardtest.Resolver{}, FileDir: os.TempDir(), Now: now})
	conns := connection.New(st, box, connection.Config{Client: client, Allow: loopback, Now: now})
	cat := catalog.New()
	if err := connector.New(connector.Config{Connections: conns, Client: client, Now: now}).Register(cat); err != nil {
		t.Fatal(err)
	}
	fl := flows.New(st, box, flows.Config{Catalog: cat, Checker: connector.Checker{Connections: conns}, HTTPClient: client, Now: now})
	templates, err := template.Load()
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.New(st, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	fl.SetQueue(q)
	sources.SetQueue(q)
	b.svc = Services{Issues: issues, Sources: sources, Flows: fl, Templates: templates, Connections: conns,
		Endpoints: invoke.NewEndpoints(st, box, now), Queue: q}
	b.svc.Identities = identity.New(st, now)
	b.svc.Audit = audit.NewLog(st.Queries)
	b.api = New(Config{Now: now, PublicURL: "https://vigil.example.com"}, b.svc)
	mux := http.NewServeMux()
	b.api.Register(mux)
	b.h = b.auth.Authenticate(mux)

	for _, role := range auth.Roles() {
		u, err := b.auth.CreateUser(ctx, string(role), role, "correct horse battery staple")
		if err != nil {
			t.Fatal(err)
		}
		_, raw, err := b.auth.CreateToken(ctx, u.ID, "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		b.tokens[role] = raw
	}

	// Posture: a small synthetic organization, scanned once.
	file := filepath.Join(t.TempDir(), "org.json")
	var buf bytes.Buffer
	if err := synth.WriteSnapshot(&buf, 40, 1, testNow); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sources.Add(ctx, source.Input{Name: "org", Kind: source.KindSnapshot, Settings: source.Settings{File: file}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sources.Scan(ctx, source.ScanOptions{Trigger: source.TriggerCLI}); err != nil {
		t.Fatal(err)
	}

	// Workflows: a folder of three flows and one execution, queued.
	if b.folder, err = fl.CreateFolder(ctx, "Test", ""); err != nil {
		t.Fatal(err)
	}
	save := func(doc string) *flows.Flow {
		res, err := fl.SaveFlow(ctx, flows.SaveParams{FolderID: b.folder.ID, Document: []byte(doc), By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Flow
	}
	b.echo, b.open, b.okta = save(echoFlow), save(publicFlow), save(oktaFlow)
	if b.execID, err = fl.Start(ctx, b.echo.ID, map[string]any{"body": map[string]any{"hello": "world"}}, flows.StartOptions{AllowOff: true}); err != nil {
		t.Fatal(err)
	}

	// A connection to a local server that counts its probes.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.probes.mu.Lock()
		b.probes.n++
		b.probes.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	b.connSecret = "s3cr3t-bearer-token-0042"
	if b.conn, err = conns.Create(ctx, connection.Input{Name: "Local", Kind: connection.KindHTTP,
		Fields: map[string]string{"baseUrl": srv.URL, "auth": connection.AuthBearer, "token": b.connSecret}}); err != nil {
		t.Fatal(err)
	}

	doc, err := openapi3.NewLoader().LoadFromData(b.api.doc)
	if err != nil {
		t.Fatal(err)
	}
	if b.router, err = legacy.NewRouter(doc); err != nil {
		t.Fatal(err)
	}
	b.validateResponsesAgainst = doc
	return b
}

// work makes the bundle's executions run: the flows service gets a queue
// with workers, started, which the test's end stops. Without it they stay
// pending, which the tests of the history rely on.
func (b *bundle) work() {
	t := b.t
	t.Helper()
	workers := river.NewWorkers()
	b.svc.Flows.Register(workers)
	q, err := queue.New(b.st, queue.Config{Workers: workers, FetchPollInterval: 10 * time.Millisecond,
		Queues: map[string]int{river.QueueDefault: 4}})
	if err != nil {
		t.Fatal(err)
	}
	b.svc.Flows.SetQueue(q)
	queuetest.Start(t, q)
}

// response is an answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

// decode reads the answer's JSON into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d %q is not JSON: %v", r.status, r.body, err)
	}
}

// errorCode is the error code of an error answer.
func (r response) errorCode() (code, field string) {
	var e httpjson.ErrorBody
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code, e.Error.Field
}

// yamlBody is a request body sent as application/yaml; other strings are
// sent as JSON.
type yamlBody string

// do sends a request as a user of role (anonymous when role is "") and
// checks its answer against the OpenAPI document: every status the API
// gives must be documented for the route, with a body of the documented
// shape.
func (b *bundle) do(role auth.Role, method, target string, body any) response {
	t := b.t
	t.Helper()
	var rd io.Reader
	var raw []byte
	ctype := "application/json"
	switch v := body.(type) {
	case nil:
	case string:
		raw = []byte(v)
	case yamlBody:
		raw, ctype = []byte(v), "application/yaml"
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	rd = bytes.NewReader(raw)
	req := httptest.NewRequest(method, target, rd)
	if raw != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+b.tokens[role])
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if strings.Contains(target, "%2F") {
		return res // the reference router of the checks does not unescape
	}
	check := httptest.NewRequest(method, "https://vigil.example.com"+target, nil)
	route, params, err := b.router.FindRoute(check)
	if err != nil {
		t.Errorf("%s %s: the OpenAPI document has no such route: %v", method, target, err)
		return res
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  res.status,
		Header:  res.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(res.body)
	if err := openapi3filter.ValidateResponse(b.ctx, in); err != nil {
		t.Errorf("%s %s: the answer %d %.300s does not match the OpenAPI document: %v", method, target, res.status, res.body, err)
	}
	return res
}

// want fails the test unless the answer has the status and, for errors,
// the error code.
func want(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d %.300s; want %d", what, r.status, r.body, status)
	}
	if code != "" {
		if got, _ := r.errorCode(); got != code {
			t.Fatalf("%s: error code %q in %.300s; want %q", what, got, r.body, code)
		}
	}
}

// wantRefused is want for a refusal that must also name the input at
// fault, field ("" for none), and change nothing: unchanged is called
// after the request and fails the test if anything changed.
func wantRefused(t *testing.T, what string, r response, status int, code, field string, unchanged func(what string)) {
	t.Helper()
	want(t, what, r, status, code)
	if _, got := r.errorCode(); got != field {
		t.Errorf("%s: field %q in %.300s; want %q", what, got, r.body, field)
	}
	unchanged(what)
}

// refusal is a request that must be refused without changing anything.
type refusal struct {
	what, method, path string
	role               auth.Role
	body               any
	status             int
	code, field        string
}

// refuseAll sends each refusal and checks it with wantRefused. seen, when
// not nil, also looks at every answer (for secrets it must not hold).
func (b *bundle) refuseAll(cases []refusal, seen func(what string, r response), unchanged func(what string)) {
	b.t.Helper()
	for _, tc := range cases {
		r := b.do(tc.role, tc.method, tc.path, tc.body)
		if seen != nil {
			seen(tc.what, r)
		}
		wantRefused(b.t, tc.what, r, tc.status, tc.code, tc.field, unchanged)
	}
}
