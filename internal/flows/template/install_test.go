package template_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector/connectortest"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestAddToFlowsService adds the template twice through the flows service:
// two folders, each with every flow (off) and both tables; a helper can be
// turned on only once its connection exists.
func TestAddToFlowsService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		env := connectortest.NewFlows(t, st)
		svc, conns := env.Service, env.Conns
		c, err := template.Load()
		if err != nil {
			t.Fatal(err)
		}
		inst := template.FlowsInstaller{Flows: svc}
		if err := c.CheckNew(ctx, inst, ispm, ""); err != nil {
			t.Fatalf("CheckNew before the first add: %v", err)
		}
		first, err := c.Add(ctx, inst, ispm, "", map[string]string{"oktaMfaGroupId": "00g1a2b3c4d5e6f7g8h9"})
		if err != nil {
			t.Fatal(err)
		}
		var present *template.PresentError
		if err := c.CheckNew(ctx, inst, ispm, ""); !errors.As(err, &present) || !errors.Is(err, template.ErrPresent) || present.Folder != first.Folder {
			t.Fatalf("CheckNew after the first add: %v", err)
		}
		if err := c.CheckNew(ctx, inst, ispm, "Elsewhere"); err != nil {
			t.Fatalf("CheckNew with another folder: %v", err)
		}
		second, err := c.Add(ctx, inst, ispm, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if first.Folder != "Identity Security Posture Management" || second.Folder != "Identity Security Posture Management (2)" {
			t.Fatalf("folders %q and %q", first.Folder, second.Folder)
		}
		for _, name := range []string{first.Folder, second.Folder} {
			f, err := svc.Folder(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := svc.Flows(ctx, flows.ListFlowsParams{FolderID: f.ID})
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, fl := range fs {
				titles = append(titles, fl.Title)
				if fl.On {
					t.Errorf("%s: %s is on", name, fl.Title)
				}
			}
			slices.Sort(titles)
			tp, _ := c.Get(ispm)
			if !slices.Equal(titles, tp.Flows) {
				t.Errorf("%s: flows %q", name, titles)
			}
			tables, err := svc.Tables(ctx, f.ID)
			if err != nil || len(tables) != 2 || tables[0].Name != "Error Logging" || tables[1].Name != "ISPM Events" || len(tables[1].Columns) != 11 {
				t.Errorf("%s: tables %+v %v", name, tables, err)
			}
			if name == first.Folder {
				suspend := fs[slices.IndexFunc(fs, func(fl *flows.Flow) bool { return fl.Title == "2.2 Suspend Okta User" })]
				_, err := svc.SetOn(ctx, suspend.ID, true)
				if err == nil || !strings.Contains(err.Error(), `connection "Okta" (okta) is not set`) {
					t.Errorf("turning 2.2 on without the Okta connection: %v", err)
				}
				if _, err := conns.Create(ctx, connection.Input{Name: "Okta", Kind: "okta",
					Fields: map[string]string{"url": "https://example.okta.com", "token": "t"}}); err != nil {
					t.Fatal(err)
				}
				if _, err := svc.SetOn(ctx, suspend.ID, true); err != nil {
					t.Errorf("turning 2.2 on with the connection: %v", err)
				}
			}
		}
	})
}
