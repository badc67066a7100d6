package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const helloTasks = `do:
  - greet:
      set:
        greeting: '${ "hello " + .name }'
`

func TestFolders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		ctx := b.ctx
		if _, err := b.svc.CreateFolder(ctx, "Test", ""); !errors.Is(err, ErrExists) {
			t.Fatalf("second folder Test: %v; want ErrExists", err)
		}
		if _, err := b.svc.CreateFolder(ctx, "  ", ""); !errors.Is(err, ErrInvalid) {
			t.Fatalf("blank folder name: %v; want ErrInvalid", err)
		}
		other, err := b.svc.CreateFolder(ctx, "Other", "second")
		if err != nil {
			t.Fatal(err)
		}
		b.save(t, flowDoc("hello", "", helloTasks))
		list, err := b.svc.Folders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%d %s %d %s %d", len(list), list[0].Name, list[0].Flows, list[1].Name, list[1].Flows)
		if got != "2 Other 0 Test 1" {
			t.Errorf("folders = %s; want 2 Other 0 Test 1", got)
		}
		if _, err := b.svc.UpdateFolder(ctx, other.ID, "Test", ""); !errors.Is(err, ErrExists) {
			t.Errorf("rename onto Test: %v; want ErrExists", err)
		}
		renamed, err := b.svc.UpdateFolder(ctx, other.ID, "Renamed", "d")
		if err != nil || renamed.Name != "Renamed" {
			t.Fatalf("rename: %v %+v", err, renamed)
		}
		if f, err := b.svc.Folder(ctx, "Renamed"); err != nil || f.ID != other.ID {
			t.Errorf("folder by name: %v %+v", err, f)
		}
		if err := b.svc.DeleteFolder(ctx, b.folder.ID); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "still holds 1 flows") {
			t.Errorf("delete folder with a flow: %v", err)
		}
		if _, err := b.svc.CreateTable(ctx, other.ID, TableParams{Name: "Log", Columns: []catalog.Column{{Name: "A", Type: catalog.ColText}}}); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.DeleteFolder(ctx, other.ID); err != nil {
			t.Fatalf("delete empty folder: %v", err)
		}
		if _, err := b.svc.Folder(ctx, other.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted folder: %v; want ErrNotFound", err)
		}
	})
}

func TestSaveFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		ctx := b.ctx
		meta := `  title: Hello Flow
  summary: Says hello.
  metadata:
    vigil:
      trigger:
        apiEndpoint: {security: public, response: async}
      saveAllData: true`
		doc := flowDoc("hello", meta, helloTasks)
		res, err := b.svc.SaveFlow(ctx, SaveParams{FolderID: b.folder.ID, Document: []byte(doc), By: "ada"})
		if err != nil {
			t.Fatal(err)
		}
		f := res.Flow
		if !res.Created || !res.Changed || f.Version != 1 || f.Title != "Hello Flow" || f.Description != "Says hello." ||
			f.Trigger != "apiEndpoint" || !f.SaveAllData || f.On || f.Folder != "Test" || f.Ref() != "test/hello" {
			t.Fatalf("first save = %+v %+v", res, f)
		}
		if f.TriggerSettings["apiEndpoint"].(map[string]any)["security"] != "public" {
			t.Errorf("trigger settings = %v", f.TriggerSettings)
		}

		res, err = b.svc.SaveFlow(ctx, SaveParams{FolderID: b.folder.ID, Document: []byte(doc)})
		if err != nil || res.Changed || res.Created || res.Flow.Version != 1 {
			t.Fatalf("same document again = %+v, %v; want unchanged version 1", res, err)
		}

		doc2 := strings.Replace(doc, `"hello "`, `"hi "`, 1)
		res, err = b.svc.SaveFlow(ctx, SaveParams{FlowID: f.ID, Document: []byte(doc2)})
		if err != nil || !res.Changed || res.Flow.Version != 2 || res.Flow.ID != f.ID {
			t.Fatalf("changed document = %+v, %v; want version 2 of the same flow", res, err)
		}

		bad := []struct {
			name, doc, want string
		}{
			{"yaml", "document: [", "invalid YAML"},
			{"jq", flowDoc("hello", "", "do:\n  - x:\n      set: {a: '${ .a | }'}\n"), "do[0].x"},
			{"unknown task", flowDoc("hello", "", "do:\n  - x:\n      listen: {to: {one: {with: {type: a}}}}\n"), "not supported"},
			{"unknown function", flowDoc("hello", "", "do:\n  - x:\n      call: nope.nothing\n"), "function nope.nothing is not in the catalog"},
			{"bad argument", flowDoc("hello", "", "do:\n  - x:\n      call: tables.createRow\n      with: {table: 5, row: {}}\n"), "do[0].x.with.table: expected string"},
			{"missing helper", flowDoc("hello", "", "do:\n  - x:\n      run: {workflow: {namespace: test, name: absent, version: '1.0.0'}}\n"), "helper flow test/absent:1.0.0 cannot be found"},
		}
		for _, tc := range bad {
			_, err := b.svc.SaveFlow(ctx, SaveParams{FlowID: f.ID, Document: []byte(tc.doc)})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error = %v; want ErrInvalid mentioning %q", tc.name, err, tc.want)
			}
			if tc.name == "jq" {
				var ve *dsl.ValidationError
				if !errors.As(err, &ve) || ve.Problems[0].Line == 0 {
					t.Errorf("jq: error %v carries no line", err)
				}
			}
		}
		vs, err := b.svc.Versions(ctx, f.ID)
		if err != nil || len(vs) != 2 || vs[0].Version != 2 {
			t.Fatalf("versions after bad saves = %v, %v; want 2 and 1", vs, err)
		}
		v1, err := b.svc.Version(ctx, f.ID, 1)
		if err != nil || v1.Document != doc || v1.CreatedBy != "ada" {
			t.Errorf("version 1 = %+v, %v", v1, err)
		}
		cur, _ := b.svc.Version(ctx, f.ID, 0)
		if cur.Document != doc2 {
			t.Errorf("current version holds %q", cur.Document)
		}
		// A second flow may not take an existing namespace/name.
		other := b.save(t, flowDoc("other", "", helloTasks))
		if _, err := b.svc.SaveFlow(ctx, SaveParams{FlowID: other.ID, Document: []byte(doc)}); !errors.Is(err, ErrInvalid) {
			t.Errorf("renaming onto test/hello: %v; want ErrInvalid", err)
		}
	})
}

func TestFindFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		ctx := b.ctx
		other, _ := b.svc.CreateFolder(ctx, "Other", "")
		doc := flowDoc("suspend", "  title: 2.2 Suspend Okta User", helloTasks)
		f1 := b.save(t, doc)
		res, err := b.svc.SaveFlow(ctx, SaveParams{FolderID: other.ID, Document: []byte(doc)})
		if err != nil {
			t.Fatal(err)
		}
		f2 := res.Flow
		unique := b.save(t, flowDoc("route", "  title: Route", helloTasks))

		cases := []struct {
			ref, folder, want string
			err               error
		}{
			{"Route", "", unique.ID, nil},
			{"test/route", "", unique.ID, nil},
			{unique.ID, "", unique.ID, nil},
			{"2.2 Suspend Okta User", "", "", ErrAmbiguous},
			{"test/suspend", "", "", ErrAmbiguous},
			{"2.2 Suspend Okta User", "Test", f1.ID, nil},
			{"test/suspend", "Other", f2.ID, nil},
			{"Route", "Other", "", ErrNotFound},
			{"nothing", "", "", ErrNotFound},
			{"Route", "Absent", "", ErrNotFound},
		}
		for _, c := range cases {
			f, err := b.svc.FindFlow(ctx, c.ref, c.folder)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Errorf("FindFlow(%q, %q) error = %v; want %v", c.ref, c.folder, err, c.err)
				}
				continue
			}
			if err != nil || f.ID != c.want {
				t.Errorf("FindFlow(%q, %q) = %v, %v; want %s", c.ref, c.folder, f, err, c.want)
			}
		}
		_, err = b.svc.FindFlow(ctx, "2.2 Suspend Okta User", "")
		if !strings.Contains(err.Error(), "Other, Test") || !strings.Contains(err.Error(), "--folder") {
			t.Errorf("ambiguity error %q does not name the folders and --folder", err)
		}
	})
}

// denyChecker refuses the connections it lists.
type denyChecker map[string]bool

func (d denyChecker) CheckConnections(_ context.Context, _ string, refs []ConnectionRef) error {
	for _, r := range refs {
		if d[r.Name] {
			return fmt.Errorf("connection %q (%s) is not set; add it with vigil connections add %s --name %s", r.Name, r.Type, r.Type, r.Name)
		}
	}
	return nil
}

func TestSetOnChecksConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		cat := catalog.New()
		cat.MustRegister("okta.suspendUser", catalog.Function{Connector: "okta",
			Args: []catalog.Arg{{Name: "connection", Type: catalog.String, Required: true}, {Name: "user", Type: catalog.String}},
			Run:  func(context.Context, map[string]any, *engine.CallEnv) (any, error) { return nil, nil }})
		b := setup(t, st, Config{Catalog: cat, Checker: denyChecker{"Okta": true}})
		ctx := b.ctx
		uses := b.save(t, flowDoc("suspend", "  title: Suspend", `do:
  - a: {call: okta.suspendUser, with: {connection: Okta, user: '${ .id }'}}
  - b: {call: okta.suspendUser, with: {connection: Okta Other}}
  - c: {call: okta.suspendUser, with: {connection: '${ .conn }'}}
`))
		plain := b.save(t, flowDoc("plain", "", helloTasks))

		w, err := b.svc.workflow(ctx, uses.ID, uses.Version)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(Connections(cat, w)); got != "[{Okta okta} {Okta Other okta}]" {
			t.Errorf("connections = %s", got)
		}
		_, err = b.svc.SetOn(ctx, uses.ID, true)
		if err == nil || !strings.Contains(err.Error(), `flow "Suspend" cannot be turned on: connection "Okta" (okta) is not set`) {
			t.Errorf("turning on a flow with a missing connection: %v", err)
		}
		if f, _ := b.svc.Flow(ctx, uses.ID); f.On {
			t.Error("the flow was turned on anyway")
		}
		on, err := b.svc.SetFolderOn(ctx, b.folder.ID, true)
		if err == nil || len(on) != 1 || on[0].ID != plain.ID {
			t.Errorf("folder on = %v, %v; want only the plain flow on and an error", on, err)
		}
		if _, err := b.svc.SetOn(ctx, plain.ID, false); err != nil {
			t.Fatal(err)
		}
		if f, _ := b.svc.Flow(ctx, plain.ID); f.On {
			t.Error("flow still on after off")
		}
		now := time.Now()
		if err := st.CreateEndpoint(ctx, &store.Endpoint{FlowID: plain.ID, Alias: "alias-of-plain", TokenSealed: "sealed", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.PutInvokeKey(ctx, plain.ID, "key-1", "exe_1", now, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.DeleteFlow(ctx, plain.ID); err != nil {
			t.Fatalf("delete an off flow: %v", err)
		}
		if _, err := b.svc.Flow(ctx, plain.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted flow: %v", err)
		}
		if e, err := st.EndpointByFlow(ctx, plain.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the deleted flow's endpoint = %+v, %v; want it gone with its sealed token", e, err)
		}
		if id, err := st.InvokeKey(ctx, plain.ID, "key-1", now.Add(-time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the deleted flow's idempotency key = %q, %v; want it gone", id, err)
		}
	})
}
