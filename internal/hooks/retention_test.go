package hooks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const day = 24 * time.Hour

// addEvent stores an outbox event created at created and returns its id.
func addEvent(t testing.TB, st *store.Store, created time.Time) string {
	t.Helper()
	evID := id.NewAt("evt", created)
	err := st.CreateHookEvent(context.Background(), &store.HookEvent{ID: evID, Type: "issue.created", IssueID: "iss_1",
		Title: "Unused Admin Account", Payload: `{}`, CreatedAt: created})
	if err != nil {
		t.Fatalf("CreateHookEvent: %v", err)
	}
	return evID
}

// addDelivery stores a delivery of eventID to hookID in status, last
// changed at changed, with the given number of attempts, and returns its id.
func addDelivery(t testing.TB, st *store.Store, eventID, hookID, status string, changed time.Time, attempts int) string {
	t.Helper()
	ctx := context.Background()
	d := &store.HookDelivery{ID: id.NewAt("hkd", changed), EventID: eventID, HookID: hookID, IssueID: "iss_1",
		EventType: "issue.created", Title: "Unused Admin Account", Status: status, Generation: 1,
		RoundAttempts: attempts, Attempts: attempts, NextAttemptAt: changed, CreatedAt: changed, UpdatedAt: changed}
	if err := st.CreateHookDelivery(ctx, d); err != nil {
		t.Fatalf("CreateHookDelivery: %v", err)
	}
	for i := range attempts {
		a := &store.HookAttempt{ID: id.NewAt("hka", changed), DeliveryID: d.ID, Generation: 1,
			StartedAt: changed.Add(time.Duration(i-attempts) * time.Minute), LatencyMS: 12, StatusCode: 500, Response: []byte("no"),
			Request: `{"method":"POST"}`}
		if err := st.CreateHookAttempt(ctx, a); err != nil {
			t.Fatalf("CreateHookAttempt: %v", err)
		}
	}
	return d.ID
}

// exists reports whether a delivery is still stored, and how many
// attempts rows it has (counted even for a missing delivery, so that
// orphaned attempts would show).
func exists(t testing.TB, st *store.Store, deliveryID string) (bool, int) {
	t.Helper()
	ctx := context.Background()
	_, err := st.HookDelivery(ctx, deliveryID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	as, aerr := st.HookAttempts(ctx, deliveryID)
	if aerr != nil {
		t.Fatal(aerr)
	}
	return err == nil, len(as)
}

func eventExists(t testing.TB, st *store.Store, eventID string) bool {
	t.Helper()
	_, err := st.HookEventPayload(context.Background(), eventID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// TestPrune checks which deliveries and events retention deletes: finished
// ones older than the retention period, with their attempts, and events
// left without deliveries; never pending or held ones, nor young ones, nor
// anything when retention is off.
func TestPrune(t *testing.T) {
	type row struct {
		name   string
		status string
		age    time.Duration
		pruned bool // with a retention of 30 days
	}
	rows := []row{
		{"old delivered", StatusDelivered, 40 * day, true},
		{"old dead", StatusDead, 31 * day, true},
		{"old pending", StatusPending, 90 * day, false},
		{"old held", StatusHeld, 90 * day, false},
		{"young delivered", StatusDelivered, 29 * day, false},
		{"young dead", StatusDead, time.Hour, false},
		{"delivered exactly at the limit", StatusDelivered, 30 * day, false},
	}
	for _, tt := range []struct {
		name      string
		retention time.Duration
	}{{"retention 30 days", 30 * day}, {"retention off", 0}} {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				b := setup(t, st, func(c *Config) { c.Retention = tt.retention })
				now := b.clock.Now()
				a, _ := b.addHook(t, "a", "http://127.0.0.1:1/a")
				other, _ := b.addHook(t, "b", "http://127.0.0.1:1/b")

				ids := make([]string, len(rows))
				events := make([]string, len(rows))
				for i, r := range rows {
					events[i] = addEvent(t, st, now.Add(-r.age))
					ids[i] = addDelivery(t, st, events[i], a.ID, r.status, now.Add(-r.age), 3)
				}
				// An old event with one old delivered delivery and one
				// pending one: the event stays for the pending one.
				shared := addEvent(t, st, now.Add(-60*day))
				sharedDone := addDelivery(t, st, shared, a.ID, StatusDelivered, now.Add(-60*day), 1)
				sharedPending := addDelivery(t, st, shared, other.ID, StatusPending, now.Add(-60*day), 2)
				// Events no integration matched: old ones go, young ones stay.
				oldLone := addEvent(t, st, now.Add(-45*day))
				youngLone := addEvent(t, st, now.Add(-2*day))

				n, err := b.svc.Prune(ctx)
				if err != nil {
					t.Fatalf("Prune: %v", err)
				}
				on := tt.retention > 0
				want := 0
				for i, r := range rows {
					gone := on && r.pruned
					if gone {
						want++
					}
					ok, attempts := exists(t, st, ids[i])
					if ok == gone {
						t.Errorf("%s: stored = %v, want %v", r.name, ok, !gone)
					}
					if wantAttempts := map[bool]int{true: 0, false: 3}[gone]; attempts != wantAttempts {
						t.Errorf("%s: %d attempts left, want %d", r.name, attempts, wantAttempts)
					}
					if eventExists(t, st, events[i]) == gone {
						t.Errorf("%s: its event stored = %v, want %v", r.name, !gone, !gone)
					}
				}
				if on {
					want++ // sharedDone
				}
				if n != want {
					t.Errorf("Prune() = %d, want %d", n, want)
				}
				if ok, _ := exists(t, st, sharedDone); ok == on {
					t.Errorf("old delivered delivery of a shared event: stored = %v, want %v", ok, !on)
				}
				if ok, attempts := exists(t, st, sharedPending); !ok || attempts != 2 {
					t.Errorf("pending delivery of a shared event: stored = %v with %d attempts, want kept with 2", ok, attempts)
				}
				if !eventExists(t, st, shared) {
					t.Error("an event with a pending delivery was deleted")
				}
				if eventExists(t, st, oldLone) == on {
					t.Errorf("old event without deliveries: stored = %v, want %v", !on, !on)
				}
				if !eventExists(t, st, youngLone) {
					t.Error("a young event without deliveries was deleted")
				}
			})
		})
	}
}

// TestPruneBatches checks that a backlog larger than one batch is deleted
// whole, batch after batch, and that one store call deletes at most its
// limit, oldest first.
func TestPruneBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st, func(c *Config) { c.Retention = 7 * day; c.PruneBatch = 3 })
		now := b.clock.Now()
		h, _ := b.addHook(t, "a", "http://127.0.0.1:1/a")
		var old []string
		for i := range 11 {
			status := StatusDelivered
			if i%2 == 0 {
				status = StatusDead
			}
			age := 8*day + time.Duration(i)*time.Hour
			old = append(old, addDelivery(t, st, addEvent(t, st, now.Add(-age)), h.ID, status, now.Add(-age), 1))
		}
		pending := addDelivery(t, st, addEvent(t, st, now.Add(-20*day)), h.ID, StatusPending, now.Add(-20*day), 1)

		// One store call: the three oldest (the last three created).
		n, err := st.DeleteFinishedHookDeliveries(ctx, now.Add(-7*day), 3)
		if err != nil || n != 3 {
			t.Fatalf("DeleteFinishedHookDeliveries(limit 3) = %d, %v; want 3", n, err)
		}
		for i, did := range old {
			if ok, _ := exists(t, st, did); ok != (i < 8) {
				t.Errorf("after one batch, delivery %d (age 8 d + %d h) stored = %v, want %v", i, i, ok, i < 8)
			}
		}

		n, err = b.svc.Prune(ctx)
		if err != nil || n != 8 {
			t.Fatalf("Prune() = %d, %v; want 8", n, err)
		}
		left, err := st.HookDeliveries(ctx, store.HookDeliveryFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 || left[0].ID != pending {
			t.Errorf("after Prune %d deliveries left, want only the pending one", len(left))
		}
		// The events of every deleted delivery went too, including the
		// three whose deliveries the single store call removed.
		if n, err := st.DeleteUnreferencedHookEvents(ctx, now, 100); err != nil || n != 0 {
			t.Errorf("events left without deliveries after Prune: %d, %v; want 0", n, err)
		}
	})
}

// TestRetentionJob checks the wiring: with Retention set, the periodic job
// runs at start on a real queue and prunes; without it there is no job.
func TestRetentionJob(t *testing.T) {
	if got := len(New(nil, nil, Config{}).PeriodicJobs()); got != 1 {
		t.Errorf("without Retention: %d periodic jobs, want 1 (maintenance only)", got)
	}
	if got := len(New(nil, nil, Config{Retention: day}).PeriodicJobs()); got != 2 {
		t.Errorf("with Retention: %d periodic jobs, want 2", got)
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		now := time.Now().UTC()
		h, _ := b.addHook(t, "a", "http://127.0.0.1:1/a")
		old := addDelivery(t, st, addEvent(t, st, now.Add(-3*day)), h.ID, StatusDelivered, now.Add(-3*day), 2)
		young := addDelivery(t, st, addEvent(t, st, now.Add(-time.Hour)), h.ID, StatusDelivered, now.Add(-time.Hour), 2)

		startQueue(t, st, Config{Retention: day})
		deadline := time.Now().Add(2 * time.Minute) // a safeguard, not a timing assertion
		for {
			if ok, _ := exists(t, st, old); !ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the retention job did not delete the old delivery before the deadline")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if ok, attempts := exists(t, st, young); !ok || attempts != 2 {
			t.Errorf("young delivery: stored = %v with %d attempts, want kept with 2", ok, attempts)
		}
		// The requests the attempts sent go with the old delivery, and
		// stay with the young one.
		for _, c := range []struct {
			delivery string
			want     int
		}{{old, 0}, {young, 2}} {
			var n int
			if err := st.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM vigil_hook_attempt_request WHERE delivery_id = $1`, c.delivery).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != c.want {
				t.Errorf("delivery %s: %d requests kept, want %d", c.delivery, n, c.want)
			}
		}
	})
}

// TestPruneRetentionSetting checks that the retention an administrator
// saves is read at each run: a positive setting replaces Config.Retention,
// and none keeps it.
func TestPruneRetentionSetting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var setting time.Duration
		b := setup(t, st, func(c *Config) {
			c.Retention = 30 * day
			c.RetentionSetting = func(context.Context) time.Duration { return setting }
		})
		now := b.clock.Now()
		h, _ := b.addHook(t, "a", "http://127.0.0.1:1/a")
		old := addDelivery(t, st, addEvent(t, st, now.Add(-10*day)), h.ID, StatusDelivered, now.Add(-10*day), 1)
		for _, tc := range []struct {
			setting time.Duration
			want    int
		}{{0, 0}, {-day, 0}, {11 * day, 0}, {7 * day, 1}} {
			setting = tc.setting
			n, err := b.svc.Prune(ctx)
			if err != nil || n != tc.want {
				t.Fatalf("with the setting at %v, Prune() = %d, %v; want %d", tc.setting, n, err, tc.want)
			}
		}
		if ok, _ := exists(t, st, old); ok {
			t.Error("the 10-day-old delivery is still stored after a 7-day setting")
		}
	})
}

// TestHookAttemptsOfManyDeliveries reads the attempts of more deliveries
// than one IN list holds: every attempt comes back once, oldest first
// across the lists.
func TestHookAttemptsOfManyDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		h, _ := b.addHook(t, "many", "https://hooks.example.com/in")
		base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		const n = 503
		var ids []string
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for i := range n {
				// Later deliveries were attempted earlier, so that the
				// lists' orders have to be merged.
				at := base.Add(-time.Duration(i) * time.Second)
				ev := &store.HookEvent{ID: id.NewAt("evt", at), Type: "issue.created", IssueID: "iss_1",
					Title: "Unused Admin Account", Payload: `{}`, CreatedAt: at}
				if err := tx.CreateHookEvent(ctx, ev); err != nil {
					return err
				}
				d := &store.HookDelivery{ID: id.NewAt("hkd", base), EventID: ev.ID, HookID: h.ID, IssueID: "iss_1",
					EventType: "issue.created", Title: "Unused Admin Account", Status: StatusDead, Generation: 1,
					Attempts: 1, RoundAttempts: 1, NextAttemptAt: at, CreatedAt: at, UpdatedAt: at}
				if err := tx.CreateHookDelivery(ctx, d); err != nil {
					return err
				}
				a := &store.HookAttempt{ID: id.NewAt("hka", at), DeliveryID: d.ID, Generation: 1, StartedAt: at,
					StatusCode: 500, Response: []byte("no")}
				if err := tx.CreateHookAttempt(ctx, a); err != nil {
					return err
				}
				ids = append(ids, d.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		as, err := st.HookAttempts(ctx, ids...)
		if err != nil || len(as) != n {
			t.Fatalf("HookAttempts = %d attempts, %v; want %d", len(as), err, n)
		}
		for k, a := range as {
			if want := ids[n-1-k]; a.DeliveryID != want {
				t.Fatalf("attempt %d is of delivery %s, want %s (oldest first)", k, a.DeliveryID, want)
			}
		}
		if as, err := st.HookAttempts(ctx, ids[7], ids[3]); err != nil || len(as) != 2 || as[0].DeliveryID != ids[7] {
			t.Errorf("HookAttempts of two = %+v, %v", as, err)
		}
	})
}
