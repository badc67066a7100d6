package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestRateTokenBurstThenRefusal takes tokens from one bucket from many
// goroutines at once, as several nodes do: exactly the burst is granted at
// once, the next request is refused with the wait until a token is there.
// The interval is an hour, so no token refills during the test.
func TestRateTokenBurstThenRefusal(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	const burst, callers = 5, 40
	var mu sync.Mutex
	granted := 0
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := st.TakeRateToken(ctx, "k", time.Hour, burst)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != burst {
		t.Errorf("%d tokens granted to %d concurrent callers; want the burst, %d", granted, callers, burst)
	}
	ok, wait, err := st.TakeRateToken(ctx, "k", time.Hour, burst)
	if err != nil {
		t.Fatal(err)
	}
	if ok || wait < 59*time.Minute || wait > time.Hour {
		t.Errorf("after the burst: ok=%v wait=%s; want refused, about an hour to wait", ok, wait)
	}
	// Another key has its own bucket.
	if ok, _, err := st.TakeRateToken(ctx, "other", time.Hour, 1); err != nil || !ok {
		t.Errorf("another key: ok=%v err=%v; want a token", ok, err)
	}
}

// TestRateTokenNeedsPostgres: SQLite keeps its limits in memory.
func TestRateTokenNeedsPostgres(t *testing.T) {
	st := storetest.SQLite(t)
	if _, _, err := st.TakeRateToken(context.Background(), "k", time.Second, 1); err == nil {
		t.Error("TakeRateToken on SQLite succeeded; want an error")
	}
	if _, _, err := st.TakeSlot(context.Background(), "k", "h", 1, time.Second); err == nil {
		t.Error("TakeSlot on SQLite succeeded; want an error")
	}
}

// TestSlotsHoldClusterWide takes slots from many goroutines: never more
// than max are held, a released slot is taken again, and a slot whose
// hold ran out (its node died) is free.
func TestSlotsHoldClusterWide(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	const maxSlots, callers = 3, 20
	var mu sync.Mutex
	held := map[int]string{}
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			holder := string(rune('a' + i))
			slot, _, err := st.TakeSlot(ctx, "k", holder, maxSlots, time.Hour)
			if err != nil {
				t.Error(err)
				return
			}
			if slot >= 0 {
				mu.Lock()
				if prev, ok := held[slot]; ok {
					t.Errorf("slot %d given to %s and %s", slot, prev, holder)
				}
				held[slot] = holder
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(held) != maxSlots {
		t.Fatalf("%d slots held after %d callers; want %d", len(held), callers, maxSlots)
	}
	if slot, wait, err := st.TakeSlot(ctx, "k", "late", maxSlots, time.Hour); err != nil || slot != -1 || wait < 59*time.Minute {
		t.Errorf("with every slot held for an hour: slot=%d wait=%s err=%v; want -1 and about an hour", slot, wait, err)
	}
	// A release by someone else frees nothing; by the holder, the slot.
	if err := st.ReleaseSlot(ctx, "k", 0, "nobody"); err != nil {
		t.Fatal(err)
	}
	if slot, _, _ := st.TakeSlot(ctx, "k", "late", maxSlots, time.Hour); slot != -1 {
		t.Errorf("a release by a stranger freed slot %d", slot)
	}
	if err := st.ReleaseSlot(ctx, "k", 0, held[0]); err != nil {
		t.Fatal(err)
	}
	if slot, _, err := st.TakeSlot(ctx, "k", "late", maxSlots, time.Hour); err != nil || slot != 0 {
		t.Errorf("after releasing slot 0: slot=%d err=%v; want 0", slot, err)
	}
	// A slot released later stays held until then, and says so; released
	// after nothing, it is free.
	if err := st.ReleaseSlotAfter(ctx, "k", 0, "late", 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if slot, wait, err := st.TakeSlot(ctx, "k", "later", maxSlots, time.Hour); err != nil || slot != -1 || wait < 59*time.Minute {
		t.Errorf("with slot 0 released in two hours: slot=%d wait=%s err=%v; want -1 and about an hour", slot, wait, err)
	}
	if err := st.ReleaseSlotAfter(ctx, "k", 0, "late", 0); err != nil {
		t.Fatal(err)
	}
	if slot, _, err := st.TakeSlot(ctx, "k", "later", maxSlots, time.Hour); err != nil || slot != 0 {
		t.Errorf("after releasing slot 0 at once: slot=%d err=%v; want 0", slot, err)
	}
	// Slots held for a moment only come free on their own.
	if slot, _, err := st.TakeSlot(ctx, "short", "dead-node", 1, time.Millisecond); err != nil || slot != 0 {
		t.Fatalf("slot=%d err=%v", slot, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		slot, _, err := st.TakeSlot(ctx, "short", "live-node", 1, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if slot == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a slot whose hold ran out was never freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNodesRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		old := store.Node{ID: "node_old", Role: "worker", Version: "v1", StartedAt: now.Add(-2 * time.Hour), HeartbeatAt: now.Add(-2 * time.Hour)}
		cur := store.Node{ID: "node_cur", Role: "web", Version: "v2", Hostname: "h", Addr: "127.0.0.1:1", StartedAt: now, HeartbeatAt: now, Running: 3}
		for _, n := range []store.Node{old, cur} {
			if err := st.PutNode(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		cur.Running, cur.Draining = 1, true
		if err := st.PutNode(ctx, cur); err != nil {
			t.Fatal(err)
		}
		nodes, err := st.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes) != 2 || nodes[0].ID != "node_old" || nodes[1].ID != "node_cur" {
			t.Fatalf("nodes = %+v; want old then cur", nodes)
		}
		if got := nodes[1]; got.Running != 1 || !got.Draining || got.Role != "web" || !got.HeartbeatAt.Equal(now) {
			t.Errorf("renewed node = %+v; want running 1, draining, role web, heartbeat %s", got, now)
		}
		n, err := st.DeleteStaleNodes(ctx, now.Add(-time.Hour))
		if err != nil || n != 1 {
			t.Errorf("DeleteStaleNodes = %d, %v; want 1", n, err)
		}
		if err := st.DeleteNode(ctx, "node_cur"); err != nil {
			t.Fatal(err)
		}
		if nodes, _ := st.Nodes(ctx); len(nodes) != 0 {
			t.Errorf("nodes left: %+v", nodes)
		}
		if _, err := st.QueueDepth(ctx); err != nil {
			t.Errorf("QueueDepth: %v", err)
		}
	})
}

// TestReleaseSlots checks the release of a request's two slots in one
// statement: its concurrency slot is free at once, its window slot only
// after the span, and a stranger's release frees neither.
func TestReleaseSlots(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	for _, key := range []string{"in-flight", "window"} {
		if slot, _, err := st.TakeSlot(ctx, key, "node", 1, time.Hour); err != nil || slot != 0 {
			t.Fatalf("TakeSlot(%s): slot=%d err=%v", key, slot, err)
		}
	}
	free := func(key string) bool {
		t.Helper()
		slot, _, err := st.TakeSlot(ctx, key, "probe", 1, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		return slot == 0
	}
	if err := st.ReleaseSlots(ctx, "in-flight", 0, "window", 0, "stranger", 0); err != nil {
		t.Fatal(err)
	}
	if free("in-flight") || free("window") {
		t.Fatal("a stranger's release freed a slot")
	}
	if err := st.ReleaseSlots(ctx, "in-flight", 0, "window", 0, "node", 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if !free("in-flight") {
		t.Error("the in-flight slot is still held after its release")
	}
	if slot, wait, err := st.TakeSlot(ctx, "window", "probe", 1, time.Hour); err != nil || slot != -1 || wait < 119*time.Minute {
		t.Errorf("the window slot released in two hours: slot=%d wait=%s err=%v; want -1 and about two hours", slot, wait, err)
	}
}

// TestSlotsOfDeadNodeFreed: a slot held for an hour by a node that dies
// (its node lock goes) is freed by the next FreeSlotsOfDeadNodes, while a
// live node's slot and a slot taken without a node lock are left alone.
func TestSlotsOfDeadNodeFreed(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	if slot, _, err := st.TakeSlot(ctx, "k", "no-lock", 2, time.Hour); err != nil || slot < 0 {
		t.Fatalf("slot without a node lock: %d, %v", slot, err)
	}
	lock, err := st.HoldNodeLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slot, _, err := st.TakeSlot(ctx, "k", "node", 2, time.Hour); err != nil || slot < 0 {
		t.Fatalf("slot of the node: %d, %v", slot, err)
	}
	if n, err := st.FreeSlotsOfDeadNodes(ctx); err != nil || n != 0 {
		t.Fatalf("FreeSlotsOfDeadNodes with the node alive = %d, %v; want 0", n, err)
	}
	if slot, _, _ := st.TakeSlot(ctx, "k", "late", 2, time.Hour); slot != -1 {
		t.Fatalf("a third caller got slot %d of 2", slot)
	}
	lock.Release(ctx) // the node dies: its connection, and so its lock, goes
	freed := int64(0)
	for deadline := time.Now().Add(time.Minute); freed == 0; time.Sleep(20 * time.Millisecond) {
		n, err := st.FreeSlotsOfDeadNodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		freed += n
		if freed == 0 && time.Now().After(deadline) {
			t.Fatal("a minute after its node died, its slot was still held")
		}
	}
	if freed != 1 {
		t.Errorf("freed %d slots; want the dead node's one", freed)
	}
	if slot, _, err := st.TakeSlot(ctx, "k", "late", 2, time.Hour); err != nil || slot < 0 {
		t.Errorf("after the dead node's slot was freed: %d, %v; want a slot", slot, err)
	}
}
