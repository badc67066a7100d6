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
		kept := func(id string) (found, missing bool) { return tb.svc.flows.Kept(id) }
		for range 2 {
			if _, err := tb.svc.Invoke().InvokeTarget(tb.ctx, "flw_missing"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a missing flow: %v; want store.ErrNotFound", err)
			}
		}
		if found, missing := kept("flw_missing"); !missing || found {
			t.Errorf("the absence is not kept: found %v, missing %v", found, missing)
		}
		tb.svc.flowsChanged()
		if found, missing := kept("flw_missing"); found || missing {
			t.Error("a change on this node did not forget the kept absence")
		}
	})
}
