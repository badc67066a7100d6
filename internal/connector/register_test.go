package connector_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector/connectortest"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const suspendFlow = `document: {dsl: '1.0.0', namespace: ispm, name: suspend, version: '1.0.0', title: 2.2 Suspend Okta User}
do:
  - suspend:
      call: okta.suspendUser
      with: {connection: Okta, user: '${ .user }'}
`

// TestFlowsServiceUsesConnectors wires the connectors into the flows
// service: a flow calling okta.suspendUser saves, cannot be turned on
// while its connection is missing, and can once it is added.
func TestFlowsServiceUsesConnectors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		env := connectortest.NewFlows(t, st)
		svc, conns := env.Service, env.Conns
		folder, err := svc.CreateFolder(ctx, "ISPM", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SaveFlow(ctx, flows.SaveParams{FolderID: folder.ID, Document: []byte(strings.Replace(suspendFlow, "user:", "usr:", 1))}); err == nil ||
			!strings.Contains(err.Error(), "usr") {
			t.Errorf("saving a flow with a misspelt argument: %v", err)
		}
		res, err := svc.SaveFlow(ctx, flows.SaveParams{FolderID: folder.ID, Document: []byte(suspendFlow)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.SetOn(ctx, res.Flow.ID, true)
		want := `flow "2.2 Suspend Okta User" cannot be turned on: connection "Okta" (okta) is not set; add it with vigil connections add okta --name "Okta"`
		if err == nil || err.Error() != want {
			t.Errorf("SetOn without the connection: %v\nwant %s", err, want)
		}
		var me *connection.MissingError
		if !errors.As(err, &me) {
			t.Errorf("the error does not carry the missing connections")
		}
		if _, err := conns.Create(ctx, connection.Input{Name: "Okta", Kind: "okta",
			Fields: map[string]string{"url": "https://example.okta.com", "token": "t"}}); err != nil {
			t.Fatal(err)
		}
		if f, err := svc.SetOn(ctx, res.Flow.ID, true); err != nil || !f.On {
			t.Errorf("SetOn with the connection: %v", err)
		}
	})
}

// TestCatalogRunsConnector runs a connector action through the flows
// catalog, whose argument check comes first.
func TestCatalogRunsConnector(t *testing.T) {
	b, ok, u := oktaFixture(t, false)
	cat := catalog.New()
	if err := b.cons.Register(cat); err != nil {
		t.Fatal(err)
	}
	if err := b.cons.Register(cat); !errors.Is(err, catalog.ErrDuplicate) {
		t.Errorf("second Register = %v, want ErrDuplicate", err)
	}
	fn, found := cat.Function("okta.suspendUser")
	if !found || fn.Connector != "okta" || !strings.HasPrefix(fn.Output, "An object: userId (string)") {
		t.Errorf("registered %+v", fn)
	}
	if probs := cat.CheckArgs("okta.suspendUser", map[string]any{"connection": "Okta", "user": ""}); len(probs) != 1 ||
		probs[0].Arg != "user" || probs[0].Msg != "expected a non-empty string" {
		t.Errorf("CheckArgs = %v", probs)
	}
	if probs := cat.CheckArgs("jira.createIssue", map[string]any{"connection": "J", "project": "P", "summary": "s", "labels": []any{"a", 2}}); len(probs) != 1 ||
		probs[0].Arg != "labels[1]" {
		t.Errorf("CheckArgs(labels) = %v", probs)
	}
	out, err := cat.Call(context.Background(), "okta.suspendUser", map[string]any{"connection": "Okta", "user": u.ID}, &engine.CallEnv{})
	if err != nil {
		t.Fatal(err)
	}
	if out.(map[string]any)["status"] != "SUSPENDED" || len(ok.Requests()) != 1 {
		t.Errorf("output %v, %d requests", out, len(ok.Requests()))
	}
}
