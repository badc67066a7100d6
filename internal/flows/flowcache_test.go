package flows

import (
	"errors"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestFlowCacheKeepsAbsence checks that a flow that does not exist is
// kept as such, as a found one is (the invoke endpoint's decoy lookup for
// an unknown alias must cost what a known flow's lookup costs), and that a
// change on this node forgets it.
func TestFlowCacheKeepsAbsence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		tb := setup(t, st, Config{})
		kept := func(id string) (cachedFlow, bool) {
			tb.svc.flows.mu.Lock()
			defer tb.svc.flows.mu.Unlock()
			e, ok := tb.svc.flows.rows[id]
			return e, ok
		}
		for range 2 {
			if _, err := tb.svc.Invoke().InvokeTarget(tb.ctx, "flw_missing"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a missing flow: %v; want store.ErrNotFound", err)
			}
		}
		if e, ok := kept("flw_missing"); !ok || e.f != nil {
			t.Errorf("the absence is not kept: %v %+v", ok, e)
		}
		tb.svc.flowsChanged()
		if _, ok := kept("flw_missing"); ok {
			t.Error("a change on this node did not forget the kept absence")
		}
	})
}
