package template_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

var testNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// loadOnce loads the catalog once for all tests; it is read-only.
var loadOnce = sync.OnceValues(template.Load)

// resolver finds helper flows among a rendered template's flows, and
// remembers which were resolved.
type resolver struct {
	flows map[string]*dsl.Workflow
}

func (r *resolver) Resolve(_ context.Context, ref engine.FlowRef) (*dsl.Workflow, error) {
	w := r.flows[ref.Namespace+"/"+ref.Name]
	if w == nil {
		return nil, fmt.Errorf("no flow %s", ref)
	}
	return w, nil
}

// env runs a rendered template's flows with the engine, connector actions
// acting through connections saved in a real store.
type env struct {
	conns  *connection.Service
	cat    *catalog.Catalog
	tables *catalog.MemoryTables
	// approvals answers approval.request; its Decide may be replaced.
	approvals *catalog.MemoryApprovals
	eng       *engine.Engine
	flows     map[string]*dsl.Workflow // by title
	resolver  *resolver
}

func newEnv(t *testing.T, vars map[string]string) *env {
	t.Helper()
	st := storetest.SQLite(t)
	box := secrettest.Box(t)
	client := netguard.NewClient(netguard.Config{Allow: loopback})
	noSleep := func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	conns := connection.New(st, box, connection.Config{Client: client, Allow: loopback, Now: func() time.Time { return testNow }, Sleep: noSleep})
	cons := connector.New(connector.Config{Connections: conns, Client: client, Now: func() time.Time { return testNow }, Sleep: noSleep})
	e := newFlows(t, vars, cons)
	e.conns = conns
	return e
}

// newFlows renders the ISPM template with vars and parses its flows; the
// connector actions are cons.
func newFlows(t *testing.T, vars map[string]string, cons *connector.Connectors) *env {
	t.Helper()
	c, err := loadOnce()
	if err != nil {
		t.Fatal(err)
	}
	tp, err := c.Get("identity-security-posture-management")
	if err != nil {
		t.Fatal(err)
	}
	r, err := tp.Render(vars)
	if err != nil {
		t.Fatal(err)
	}
	tables := catalog.NewMemoryTables(func() time.Time { return testNow })
	for _, tb := range r.Bundle.Tables {
		if err := tables.Create("", tb.Name, tb.Columns); err != nil {
			t.Fatal(err)
		}
	}
	// Approval requests are approved at once unless a test decides
	// otherwise; the requests made are kept for the test to check.
	approvals := &catalog.MemoryApprovals{Decide: func(*catalog.ApprovalRequest) *catalog.ApprovalDecision {
		return &catalog.ApprovalDecision{Status: catalog.ApprovalApproved, DecidedBy: "alice", DecidedAt: testNow}
	}}
	cat := flows.NewCatalogApprovals(tables, approvals)
	if err := cons.Register(cat); err != nil {
		t.Fatal(err)
	}
	e := &env{cat: cat, tables: tables, approvals: approvals, flows: map[string]*dsl.Workflow{}, resolver: &resolver{flows: map[string]*dsl.Workflow{}}}
	for _, f := range r.Bundle.Flows {
		w, err := dsl.Parse(f.Document)
		if err != nil {
			t.Fatalf("%s: %v", f.Source, err)
		}
		e.flows[w.Document.Title] = w
		e.resolver.flows[w.Document.Namespace+"/"+w.Document.Name] = w
	}
	e.eng = engine.New(engine.Config{Catalog: e.cat, Flows: e.resolver})
	return e
}

// tableRows returns the rows of one of the template's tables.
func (e *env) tableRows(table string) []map[string]any { return e.tables.Rows("", table) }

// results returns the result notes execution.setResult recorded.
func results(j *engine.MemoryJournal) []string {
	var out []string
	for _, n := range j.Notes() {
		if n.Kind == catalog.NoteResult {
			out = append(out, n.Message)
		}
	}
	return out
}

func (e *env) addConnection(t *testing.T, name, kind string, fields map[string]string) {
	t.Helper()
	if _, err := e.conns.Create(context.Background(), connection.Input{Name: name, Kind: kind, Fields: fields}); err != nil {
		t.Fatal(err)
	}
}

// run runs the flow with that title on input and returns its result, or
// its fault.
func (e *env) run(t *testing.T, title string, input any) (*engine.Result, *engine.Fault, *engine.MemoryJournal) {
	t.Helper()
	w := e.flows[title]
	if w == nil {
		t.Fatalf("no flow %q", title)
	}
	in, err := engine.Normalize(input)
	if err != nil {
		t.Fatal(err)
	}
	j := engine.NewMemoryJournal()
	res, err := e.eng.Run(context.Background(), w, in, engine.RunOptions{Journal: j})
	if err != nil {
		var f *engine.Fault
		if errors.As(err, &f) {
			return res, f, j
		}
		t.Fatalf("run %s: %v", title, err)
	}
	return res, nil, j
}

// issue returns the eventData of an issue event.
func issue(product, title, idInService, login string) event.Issue {
	return event.Issue{
		ID: "iss_01TEST", Category: "Least Privilege", Severity: "High", Title: title,
		ShortDescription: "Admin account unused for 91 days", FullDescription: "Admin Accounts not logged in interactively for 91 days.",
		DetectedAt: testNow, SuggestedRemediation: "Suspend the account.", RiskAndImpact: "Unused admin accounts are a target.",
		Status: "open", Link: "https://vigil.example.com/ispm/issues/iss_01TEST",
		AffectedEntity: event.AffectedEntity{ID: "acc_01TEST", Type: "Account", DisplayName: "Ali Lesch", IDInService: idInService,
			IdentifierInService: login, SourceProductName: product, SourceProductTenant: "example.okta.com"},
	}
}

// invocation is the input the invoke endpoint gives the routing flow.
func invocation(ev event.Event, test bool) map[string]any {
	b, _ := json.Marshal(ev)
	var body map[string]any
	json.Unmarshal(b, &body)
	headers := map[string]any{"content-type": "application/json", "webhook-id": ev.ID}
	if test {
		headers["x-vigil-test"] = "true"
	}
	return map[string]any{"body": body, "headers": headers, "query": map[string]any{},
		"context": map[string]any{"execution_id": "exe_test"}}
}

func issueEvent(is event.Issue) event.Event {
	return event.Event{ID: "0b8f3c7e-2f1d-4a8e-9b0c-6f1e2d3c4b5a", Timestamp: testNow, Source: event.Source, Type: event.TypeCreated, EventData: is}
}

// helperInput is what the routing flow passes a helper.
func helperInput(is event.Issue) map[string]any {
	b, _ := json.Marshal(is)
	var m map[string]any
	json.Unmarshal(b, &m)
	return map[string]any{"eventData": m}
}
