package hooks

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestIntegrationLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		const token = "tok-SECRET-1234567890"
		in, whsec, err := b.svc.Create(ctx, Input{Name: "Okta Workflows", URL: "https://example.okta.com/api/flo/abc/invoke",
			Keys: []Key{{Name: "clientToken", Placement: PlaceParam, Value: token}, {Name: "X-Api-Key", Placement: PlaceHeader, Value: "hdr-SECRET-abcdef"}}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(whsec, "whsec_") {
			t.Errorf("secret %q lacks the whsec_ prefix", whsec)
		}
		if in.State != StateActive || len(in.Keys) != 2 || in.Keys[0].Name != "clientToken" || in.Keys[0].Placement != PlaceParam {
			t.Errorf("created %+v", in)
		}
		if in.Keys[0].Masked != "••••••••7890" {
			t.Errorf("masked value %q", in.Keys[0].Masked)
		}

		// At rest, values and the signing secret are sealed.
		h, err := st.Hook(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, plain := range []string{token, "hdr-SECRET-abcdef", strings.TrimPrefix(whsec, "whsec_")} {
			if strings.Contains(h.KeysJSON, plain) || strings.Contains(h.SecretSealed, plain) {
				t.Errorf("%q is stored in clear", plain)
			}
		}

		// A second integration of the same name is refused.
		_, _, err = b.svc.Create(ctx, Input{Name: "Okta Workflows", URL: "https://example.com"})
		var conflict *ConflictError
		if !errors.As(err, &conflict) {
			t.Errorf("duplicate name: %v, want a ConflictError", err)
		}

		// Editing without retyping a value keeps it; a new entry needs one.
		b.clock.Add(time.Minute)
		up, err := b.svc.Update(ctx, "Okta Workflows", Input{Name: "Okta WF", URL: "https://example.okta.com/api/flo/def/invoke",
			Keys: []Key{{Name: "clientToken", Placement: PlaceParam}}})
		if err != nil {
			t.Fatal(err)
		}
		h, _ = st.Hook(ctx, in.ID)
		keys, err := b.svc.openKeys(h)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0].Value != token || up.Name != "Okta WF" || !up.UpdatedAt.After(up.CreatedAt) {
			t.Errorf("after update: %+v, keys %d", up, len(keys))
		}
		_, err = b.svc.Update(ctx, in.ID, Input{Name: "Okta WF", URL: "https://example.com", Keys: []Key{{Name: "other", Placement: PlaceParam}}})
		var inv *InvalidError
		if !errors.As(err, &inv) {
			t.Errorf("update with a new empty key: %v", err)
		}
		// Another host needs the saved values again: the stored token
		// never goes to a host it did not go to, and nothing changes.
		_, err = b.svc.Update(ctx, in.ID, Input{Name: "Okta WF", URL: "https://attacker.example/api/flo/def/invoke",
			Keys: []Key{{Name: "clientToken", Placement: PlaceParam}}})
		if !errors.As(err, &inv) || !strings.Contains(inv.Message, "moved to another host") || !strings.Contains(inv.Message, `"clientToken"`) {
			t.Errorf("moving to another host without the key's value: %v", err)
		}
		if h, _ := st.Hook(ctx, in.ID); h.URL != "https://example.okta.com/api/flo/def/invoke" {
			t.Errorf("the refused edit changed the address to %s", h.URL)
		}

		list, err := b.svc.List(ctx)
		if err != nil || len(list) != 1 || list[0].Automation != nil {
			t.Fatalf("List = %+v, %v", list, err)
		}
		if _, err := b.svc.SetAutomation(ctx, in.ID, AutomationInput{Titles: []string{"Unused Admin Account"}}); err != nil {
			t.Fatal(err)
		}
		got, err := b.svc.Get(ctx, "Okta WF")
		if err != nil || got.Automation == nil || !got.Automation.AutoSend || got.Automation.EventTypes[0] != "issue.created" {
			t.Fatalf("Get = %+v, %v", got, err)
		}

		if err := b.svc.Delete(ctx, "Okta WF"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Get(ctx, in.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Delete = %v, want ErrNotFound", err)
		}
		if _, err := st.HookAutomation(ctx, in.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("automation survived its integration: %v", err)
		}
	})
}

func TestRotateSecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		in, first, err := b.svc.Create(ctx, Input{Name: "r", URL: "https://example.com"})
		if err != nil {
			t.Fatal(err)
		}
		second, err := b.svc.RotateSecret(ctx, in.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if second == first {
			t.Fatal("rotation kept the secret")
		}
		h, _ := st.Hook(ctx, in.ID)
		secrets, err := b.svc.secrets(h, b.clock.Now())
		if err != nil || len(secrets) != 2 || secrets[0] != second || secrets[1] != first {
			t.Errorf("during the grace period: %d secrets, err %v", len(secrets), err)
		}
		got, _ := b.svc.Get(ctx, in.ID)
		if got.PreviousSecretUntil == nil || !got.PreviousSecretUntil.Equal(b.clock.Now().Add(DefaultSecretGrace)) {
			t.Errorf("PreviousSecretUntil = %v", got.PreviousSecretUntil)
		}
		b.clock.Add(DefaultSecretGrace + time.Second)
		if secrets, _ = b.svc.secrets(h, b.clock.Now()); len(secrets) != 1 || secrets[0] != second {
			t.Errorf("after the grace period: %d secrets", len(secrets))
		}
		third, err := b.svc.RotateSecret(ctx, in.ID, -1)
		if err != nil {
			t.Fatal(err)
		}
		h, _ = st.Hook(ctx, in.ID)
		if secrets, _ = b.svc.secrets(h, b.clock.Now()); len(secrets) != 1 || secrets[0] != third {
			t.Errorf("rotation without grace: %d secrets", len(secrets))
		}
	})
}
