package hooks

import (
	"context"
	"testing"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/audit/audittest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestAuditHooks checks that every change to an integration, and every
// resend, is written to the audit log with the actor and address the
// context carries, and that no key value or signing secret reaches it.
func TestAuditHooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		actor := audit.Actor{Kind: audit.ActorUser, ID: "usr_alice", Name: "alice", Address: "203.0.113.5"}
		ctx := audit.WithActor(context.Background(), actor)
		const keyValue, newKeyValue = "okta-client-token-first-1234", "okta-client-token-second-5678"
		rc := newReceiver(t, nil)

		h, whsec, err := b.svc.Create(ctx, Input{Name: "okta", URL: rc.URL, Keys: []Key{{Name: "x-api-client-token", Placement: PlaceHeader, Value: keyValue}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Update(ctx, h.ID, Input{Name: "okta wf", URL: rc.URL, Keys: []Key{{Name: "x-api-client-token", Placement: PlaceHeader, Value: newKeyValue}}}); err != nil {
			t.Fatal(err)
		}
		// Renaming keeps the saved key value: not recorded as set.
		if _, err := b.svc.Update(ctx, h.ID, Input{Name: "okta wf2", URL: rc.URL, Keys: []Key{{Name: "x-api-client-token", Placement: PlaceHeader}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Update(ctx, h.ID, Input{Name: "okta wf", URL: rc.URL, Keys: []Key{{Name: "x-api-client-token", Placement: PlaceHeader}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.SetAutomation(ctx, h.ID, AutomationInput{AllTitles: true}); err != nil {
			t.Fatal(err)
		}
		rotated, err := b.svc.RotateSecret(ctx, h.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		b.publish(t, sampleEvent())
		b.runJobs(t)
		d := b.only(t)
		if _, err := b.svc.Resend(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.Pause(ctx, h.ID, "maintenance window"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Resume(ctx, h.ID); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.Delete(ctx, h.ID); err != nil {
			t.Fatal(err)
		}

		has := func(action, target string, details ...string) {
			t.Helper()
			audittest.Has(t, st.Queries, audittest.Want{Action: action, ActorKind: "user", ActorName: "alice", Address: "203.0.113.5",
				TargetName: target, Outcome: "success", Details: details})
		}
		has("hook.create", "okta", `"keyValuesSet":["x-api-client-token"]`)
		has("hook.update", "okta wf2", `{"changed":["name"]}`)
		has("hook.update", "okta wf", `{"changed":["name","keys"],"keyValuesSet":["x-api-client-token"]}`)
		has("hook.automation.update", "okta wf", `"allTitles":true`)
		has("hook.secret.rotate", "okta wf", `"changed":["secret"]`)
		has("delivery.resend", "", `"count":1`, d.ID)
		has("hook.pause", "okta wf", `"reason":"maintenance window"`)
		has("hook.resume", "okta wf")
		has("hook.delete", "okta wf")
		audittest.NoSecret(t, st.Queries, keyValue, newKeyValue, whsec, rotated)
	})
}
