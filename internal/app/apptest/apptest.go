// Package apptest holds what tests of the wired server share: setting up
// flows behind their API endpoints through the services the server runs.
package apptest

import (
	"context"
	"testing"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/flows"
)

// EndpointFlow is a saved flow that is on, with its endpoint's alias and
// client token.
type EndpointFlow struct {
	ID, Title    string
	Alias, Token string
}

// SaveEndpointFlow saves doc in the folder, turns it on and returns it with
// its endpoint's alias and client token.
func SaveEndpointFlow(ctx context.Context, t testing.TB, svc *app.Services, folderID, doc string) EndpointFlow {
	t.Helper()
	res, err := svc.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: folderID, Document: []byte(doc)})
	if err != nil {
		t.Fatalf("saving the flow: %v", err)
	}
	if _, err := svc.Flows.SetOn(ctx, res.Flow.ID, true); err != nil {
		t.Fatal(err)
	}
	ep, err := svc.Endpoints.Ensure(ctx, res.Flow.ID)
	if err != nil {
		t.Fatal(err)
	}
	token, err := svc.Endpoints.Token(ep)
	if err != nil {
		t.Fatal(err)
	}
	return EndpointFlow{ID: res.Flow.ID, Title: res.Flow.Title, Alias: ep.Alias, Token: token}
}
