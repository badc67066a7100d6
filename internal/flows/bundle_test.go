package flows

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const bundleYAML = `# The ISPM-like sample.
vigilBundle: 1
folder: ISPM
description: Routes issue events.
connections:
  - {name: Okta, type: okta}
tables:
  - name: ISPM Events
    columns:
      - {name: Username, type: text}
      - {name: Severity, type: text}
flows:
  - document:
      dsl: '1.0.0'
      namespace: ispm
      name: route-event
      version: '1.0.0'
      title: 1.0 ISPM Event Routing Flow
      metadata:
        vigil:
          trigger:
            apiEndpoint: {security: clientToken, response: async}
    do:
      - route:
          switch:
            - okta: {when: .product == "Okta", then: suspend}
            - other: {then: end}
      - suspend:
          run:
            workflow: {namespace: ispm, name: suspend-okta-user, version: '1.0.0'}
            await: false
  - document:
      dsl: '1.0.0'
      namespace: ispm
      name: suspend-okta-user
      version: '1.0.0'
      title: 2.2 Suspend Okta User
    do:
      - suspend: {call: okta.suspendUser, with: {connection: Okta, user: '${ .user }'}}
      - log: {call: tables.createRow, with: {table: ISPM Events, row: {Username: '${ .user }'}}}
`

// fakeOkta is a catalog with an okta.suspendUser that needs a connection.
func fakeOkta() *catalog.Catalog {
	cat := catalog.New()
	cat.MustRegister("okta.suspendUser", catalog.Function{Connector: "okta",
		Args: []catalog.Arg{{Name: "connection", Type: catalog.String, Required: true}, {Name: "user", Type: catalog.String}},
		Run: func(_ context.Context, args map[string]any, _ *engine.CallEnv) (any, error) {
			return map[string]any{"suspended": args["user"]}, nil
		}})
	return cat
}

func TestParseSource(t *testing.T) {
	b, err := ParseSource([]byte(bundleYAML), "ispm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if b.Folder != "ISPM" || len(b.Flows) != 2 || len(b.Tables) != 1 || len(b.Tables[0].Columns) != 2 || len(b.Connections) != 1 {
		t.Fatalf("bundle = %+v", b)
	}
	if !strings.Contains(b.Flows[1].Source, "ispm.yaml: flows[1] (line 32)") {
		t.Errorf("source = %q", b.Flows[1].Source)
	}
	w, err := dsl.Parse(b.Flows[0].Document)
	if err != nil || w.Document.Title != "1.0 ISPM Event Routing Flow" {
		t.Fatalf("first flow: %v", err)
	}

	single, err := ParseSource([]byte(flowDoc("hello", "", helloTasks)), "hello.yaml")
	if err != nil || len(single.Flows) != 1 || single.Flows[0].Source != "hello.yaml" || string(single.Flows[0].Document) != flowDoc("hello", "", helloTasks) {
		t.Fatalf("a flow file = %+v, %v", single, err)
	}

	bad := []struct{ name, text, want string }{
		{"version", "vigilBundle: 2\nflows: []\n", "vigilBundle 2 is not supported"},
		{"key", "vigilBundle: 1\nflow: []\n", `unknown key "flow"`},
		{"table field", "vigilBundle: 1\ntables: [{name: T, colums: []}]\n", "colums"},
		{"flows", "vigilBundle: 1\nflows: {a: 1}\n", "expected a list of flow documents"},
	}
	for _, c := range bad {
		if _, err := ParseSource([]byte(c.text), "b.yaml"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
	}
}

func TestLoadPath(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", flowDoc("a", "", helloTasks))
	write("b.json", `{"document": {"dsl": "1.0.0", "namespace": "test", "name": "b", "version": "1.0.0"}, "do": [{"x": {"set": {"a": 1}}}]}`)
	write("c.yml", bundleYAML)
	write("notes.txt", "ignored")
	b, err := LoadPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Flows) != 4 || b.Folder != "ISPM" || len(b.Tables) != 1 {
		t.Fatalf("directory bundle = %d flows, folder %q, %d tables", len(b.Flows), b.Folder, len(b.Tables))
	}
	write("d.yaml", "vigilBundle: 1\ntables: [{name: ISPM Events, columns: [{name: Username, type: number}]}]\n")
	if _, err := LoadPath(dir); !errors.Is(err, ErrInvalid) {
		t.Errorf("conflicting tables: %v", err)
	}
	if _, err := LoadPath(filepath.Join(dir, "absent.yaml")); err == nil {
		t.Error("missing file accepted")
	}
	one, err := LoadPath(filepath.Join(dir, "b.json"))
	if err != nil || len(one.Flows) != 1 {
		t.Errorf("one file = %+v, %v", one, err)
	}
}

func TestImportExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{Catalog: fakeOkta(), Checker: denyChecker{"Okta": true}})
		ctx := b.ctx
		bundle, err := ParseSource([]byte(bundleYAML), "ispm.yaml")
		if err != nil {
			t.Fatal(err)
		}

		// A bundle with one bad flow changes nothing.
		broken := *bundle
		broken.Flows = append([]BundleFlow{}, bundle.Flows...)
		broken.Flows[1] = BundleFlow{Document: []byte(strings.Replace(string(bundle.Flows[1].Document), "okta.suspendUser", "okta.nothing", 1)), Source: "bad"}
		if _, err := b.svc.Import(ctx, ImportParams{Folder: "ISPM", Bundle: &broken}); !errors.Is(err, ErrInvalid) ||
			!strings.Contains(err.Error(), "bad: do[0].suspend.call: function okta.nothing is not in the catalog") {
			t.Fatalf("import of a broken bundle: %v", err)
		}
		if _, err := b.svc.Folder(ctx, "ISPM"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the broken import created the folder: %v", err)
		}

		// --on with a connection that is not set: imported, left off.
		res, err := b.svc.Import(ctx, ImportParams{Folder: "ISPM", Bundle: bundle, On: true, By: "cli"})
		if err == nil || !strings.Contains(err.Error(), `connection "Okta" (okta) is not set`) || res == nil {
			t.Fatalf("import --on = %+v, %v", res, err)
		}
		if len(res.Flows) != 2 || res.Flows[0].Status != ImportCreated || !res.Flows[0].Flow.On || res.Flows[1].Flow.On ||
			len(res.Tables) != 1 || res.Tables[0].Status != ImportCreated || len(res.Connections) != 1 {
			t.Fatalf("import result = %+v", res)
		}

		// Again: nothing changes.
		res, err = b.svc.Import(ctx, ImportParams{Folder: "ISPM", Bundle: bundle})
		if err != nil || res.Flows[0].Status != ImportUnchanged || res.Flows[1].Status != ImportUnchanged || res.Tables[0].Status != ImportUnchanged {
			t.Fatalf("second import = %+v, %v", res, err)
		}

		// A table column of another type is refused; a new column is added.
		bundle.Tables[0].Columns = append(bundle.Tables[0].Columns, catalog.Column{Name: "Product", Type: catalog.ColText})
		res, err = b.svc.Import(ctx, ImportParams{Folder: "ISPM", Bundle: bundle})
		if err != nil || res.Tables[0].Status != ImportUpdated {
			t.Fatalf("import with a new column = %+v, %v", res, err)
		}
		bundle.Tables[0].Columns[0].Type = catalog.ColNumber
		if _, err := b.svc.Import(ctx, ImportParams{Folder: "ISPM", Bundle: bundle}); !errors.Is(err, ErrInvalid) ||
			!strings.Contains(err.Error(), `already has column "Username" of type text; the bundle says number`) {
			t.Errorf("import with a column of another type: %v", err)
		}

		// Export, and import the export into another folder.
		folder, _ := b.svc.Folder(ctx, "ISPM")
		out, err := b.svc.Export(ctx, folder.ID)
		if err != nil {
			t.Fatal(err)
		}
		text, err := out.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(text), "token") || !strings.Contains(string(text), "vigilBundle: 1") {
			t.Errorf("export =\n%s", text)
		}
		again, err := ParseSource(text, "export.yaml")
		if err != nil {
			t.Fatalf("parse the export: %v\n%s", err, text)
		}
		if len(again.Flows) != 2 || len(again.Tables) != 1 || len(again.Tables[0].Columns) != 3 ||
			len(again.Connections) != 1 || again.Connections[0] != (ConnectionRef{Name: "Okta", Type: "okta"}) {
			t.Fatalf("export read back = %+v", again)
		}
		res, err = b.svc.Import(ctx, ImportParams{Folder: "Copy", Bundle: again})
		if err != nil || res.Folder.Name != "Copy" || res.Flows[0].Status != ImportCreated {
			t.Fatalf("import of the export = %+v, %v", res, err)
		}
		for _, f := range res.Flows {
			orig, err := b.svc.FindFlow(ctx, f.Flow.Ref(), "ISPM")
			if err != nil {
				t.Fatal(err)
			}
			w1, _ := b.svc.workflow(ctx, orig.ID, orig.Version)
			w2, _ := b.svc.workflow(ctx, f.Flow.ID, f.Flow.Version)
			if w1.Document.Title != w2.Document.Title || len(w1.Do) != len(w2.Do) {
				t.Errorf("flow %s differs after export and import", f.Flow.Ref())
			}
		}
	})
}

func TestInvokeAdapter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		ctx := b.ctx
		api := b.saveOn(t, flowDoc("api", `  metadata:
    vigil:
      trigger:
        apiEndpoint: {security: public, response: async}`, helloTasks))
		helper := b.saveOn(t, flowDoc("helper", "", helloTasks))
		inv := b.svc.Invoke()
		tg, err := inv.InvokeTarget(ctx, api.ID)
		if err != nil || !tg.On || tg.Endpoint == nil || tg.Endpoint.Security != dsl.SecurityPublic || tg.Endpoint.Response != dsl.ResponseAsync {
			t.Fatalf("target = %+v, %v", tg, err)
		}
		if tg, _ := inv.InvokeTarget(ctx, helper.ID); tg.Endpoint != nil {
			t.Errorf("helper target has an endpoint: %+v", tg)
		}
		if _, err := inv.InvokeTarget(ctx, "flw_absent"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown flow: %v", err)
		}
		var keyed bool
		err = inv.Start(ctx, invokeStart(api.ID, "exe_invoke1", func() { keyed = true }))
		if err != nil || !keyed {
			t.Fatalf("start = %v (InTx ran: %v)", err, keyed)
		}
		out, err := inv.Wait(ctx, "exe_invoke1")
		if err != nil || !out.Done || out.Status != StatusSucceeded || out.Output.(map[string]any)["greeting"] != "hello inv" {
			t.Fatalf("wait = %+v, %v", out, err)
		}
		if n, err := inv.Backlog(ctx, api.ID); err != nil || n != 0 {
			t.Errorf("backlog = %d, %v", n, err)
		}
		if err := inv.Start(ctx, invokeStart(api.ID, "exe_invoke1", nil)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second start with the same id: %v; want ErrConflict", err)
		}
	})
}

func invokeStart(flowID, execID string, inTx func()) invoke.StartParams {
	p := invoke.StartParams{FlowID: flowID, ExecutionID: execID, Input: map[string]any{"name": "inv"}, Test: true}
	if inTx != nil {
		p.InTx = func(context.Context, *store.Tx) error { inTx(); return nil }
	}
	return p
}
