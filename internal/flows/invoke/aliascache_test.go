package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// countReads makes e count its endpoint reads by alias and keep rows for
// an hour, so that what is served from the cache does not depend on how
// fast the test runs.
func countReads(e *Endpoints) func(alias string) int {
	var mu sync.Mutex
	reads := map[string]int{}
	e.aliases.Age = time.Hour
	e.readAlias = func(ctx context.Context, alias string) (*store.Endpoint, error) {
		mu.Lock()
		reads[alias]++
		mu.Unlock()
		return e.store.EndpointByAlias(ctx, alias)
	}
	return func(alias string) int {
		mu.Lock()
		defer mu.Unlock()
		return reads[alias]
	}
}

// TestUnknownAliasCostsTheSame checks that refusing an unknown alias does
// the work refusing a known one does, read afresh and from the cache: one
// endpoint read the first time and none after, one flow lookup each time,
// and a token opened and compared, with the same answer.
func TestUnknownAliasCostsTheSame(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{})
		reads := countReads(b.h.endpoints)
		unknownAlias := strings.Repeat("a", len(b.ep.Alias))
		unknown := InvokeURL(b.srv.URL, unknownAlias)
		wrong := map[string]string{"x-api-client-token": "wrong-token-of-some-length-0000000"}
		var bodies []string
		for i := range 3 {
			for _, url := range []string{b.url, unknown} {
				resp, out := b.do(t, "POST", url, `{}`, wrong)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("call %d to %s: %d", i, url, resp.StatusCode)
				}
				j, _ := json.Marshal(out)
				bodies = append(bodies, string(j))
			}
		}
		for _, body := range bodies[1:] {
			if body != bodies[0] {
				t.Errorf("the refusals differ: %s and %s", bodies[0], body)
			}
		}
		if k, u := reads(b.ep.Alias), reads(unknownAlias); k != 1 || u != 1 {
			t.Errorf("endpoint reads over three calls: known alias %d, unknown %d; want 1 each", k, u)
		}
		b.flows.mu.Lock()
		known, decoy := b.flows.lookups["flw_1"], b.flows.lookups[b.h.decoy.FlowID]
		b.flows.mu.Unlock()
		if known != 3 || decoy != 3 {
			t.Errorf("flow lookups over three calls: known alias %d, unknown %d; want 3 each", known, decoy)
		}
	})
}

// TestCacheForgetsOnWrite checks that a client token rotated, or signing
// secrets set, through this node's Endpoints take effect on the next call
// although the old row is cached, and that a deleted flow's URL stops at
// once.
func TestCacheForgetsOnWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{})
		reads := countReads(b.h.endpoints)
		ctx := context.Background()
		call := func(tok string) int {
			resp, _ := b.do(t, "POST", b.url, `{}`, map[string]string{"x-api-client-token": tok})
			return resp.StatusCode
		}
		old := b.token
		first, second := call(old), call(old)
		if first != 200 || second != 200 || reads(b.ep.Alias) != 1 {
			t.Fatalf("the endpoint is not cached: %d reads", reads(b.ep.Alias))
		}
		fresh, err := b.h.endpoints.Rotate(ctx, "flw_1", 0)
		if err != nil {
			t.Fatal(err)
		}
		if c := call(old); c != 401 {
			t.Errorf("the rotated-out token answers %d; want 401 at once", c)
		}
		if c := call(fresh); c != 200 {
			t.Errorf("the new token answers %d; want 200 at once", c)
		}
		if err := b.h.endpoints.SetSigningSecrets(ctx, "flw_1", []string{"whsec_" + strings.Repeat("A", 32)}); err != nil {
			t.Fatal(err)
		}
		before := reads(b.ep.Alias)
		call(fresh)
		if reads(b.ep.Alias) != before+1 {
			t.Error("setting signing secrets did not make the next call read the endpoint again")
		}
		b.flows.mu.Lock()
		b.flows.gone = true
		b.flows.mu.Unlock()
		resp, out := b.do(t, "POST", b.url, `{}`, map[string]string{"x-api-client-token": fresh})
		if resp.StatusCode != 401 || errCode(out) != "unauthorized" {
			t.Errorf("a deleted flow's URL answers %d %v; want 401 unauthorized", resp.StatusCode, out)
		}
	})
}

// TestOtherNodeRotation checks that a rotation written by another node
// (another Endpoints on the same database) is seen once the cached row is
// older than AliasCacheAge. It waits for the change rather than timing it.
func TestOtherNodeRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, clientToken(), Config{})
		call := func(tok string) int {
			resp, _ := b.do(t, "POST", b.url, `{}`, map[string]string{"x-api-client-token": tok})
			return resp.StatusCode
		}
		old := b.token
		if call(old) != 200 {
			t.Fatal("the first token does not work")
		}
		other := NewEndpoints(st, b.h.endpoints.box, b.h.cfg.Now)
		fresh, err := other.Rotate(context.Background(), "flw_1", 0)
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(time.Minute); call(fresh) != 200; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("waited a minute for another node's rotation")
			}
		}
		if c := call(old); c != 401 {
			t.Errorf("after another node's rotation was seen the old token answers %d; want 401", c)
		}
	})
}

// TestTokenAndSecretChangesKeepEachOther writes a rotation and a signing
// secret from two copies of the endpoint read before either, as two nodes
// would: each change keeps the other's.
func TestTokenAndSecretChangesKeepEachOther(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		setup(t, st, clientToken(), Config{}) // flow flw_1's endpoint
		ctx := context.Background()
		read := func() *store.Endpoint {
			t.Helper()
			ep, err := st.EndpointByFlow(ctx, "flw_1")
			if err != nil {
				t.Fatal(err)
			}
			return ep
		}
		rotating, setting := read(), read()
		rotating.TokenSealed, rotating.PrevTokenSealed = "sealed-new-token", ""
		if err := st.UpdateEndpointTokens(ctx, rotating); err != nil {
			t.Fatal(err)
		}
		setting.SigningSecretsSealed = "sealed-secrets"
		if err := st.UpdateEndpointSigningSecrets(ctx, setting); err != nil {
			t.Fatal(err)
		}
		if got := read(); got.TokenSealed != "sealed-new-token" || got.SigningSecretsSealed != "sealed-secrets" {
			t.Errorf("token %q, secrets %q: one change undid the other", got.TokenSealed, got.SigningSecretsSealed)
		}
		if err := st.UpdateEndpointSigningSecrets(ctx, &store.Endpoint{FlowID: "flw_none"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("secrets of no endpoint: %v, want ErrNotFound", err)
		}
	})
}
