package flows

import (
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestInputSealedAsBytes checks that a new execution's input is stored
// sealed as bytes, and that one stored before migration 0264, sealed as
// base64 text in input_sealed, is still opened by a worker and by history.
func TestInputSealedAsBytes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC()
		b := setup(t, st, Config{Now: func() time.Time { return now }})
		ctx := b.ctx
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))

		fresh := b.run(t, f.ID, map[string]any{"name": "ann"}, StartOptions{})
		var text string
		var bin []byte
		if err := st.DB().QueryRowContext(ctx, `SELECT input_sealed, input_sealed_bin FROM vigil_flow_execution WHERE id = $1`,
			fresh.ID).Scan(&text, &bin); err != nil {
			t.Fatal(err)
		}
		if text != "" || len(bin) == 0 || bin[0] != 0x01 {
			t.Errorf("stored input: text %q, bytes %q; want no text and SealBytes' bytes", text, bin)
		}

		// A row as stored before: the input sealed as text, no bytes.
		e := &store.FlowExecution{ID: "exe_text", FlowID: f.ID, Version: 1, Status: StatusPending, CreatedAt: now, UpdatedAt: now}
		e.InputSealed, _, _ = b.svc.sealInput(map[string]any{"name": "bob"}, e.ID)
		if err := st.CreateFlowExecution(ctx, e); err != nil {
			t.Fatal(err)
		}
		old, err := b.svc.box.Seal(`{"name":"bob"}`, purposeInput+e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB().ExecContext(ctx, `UPDATE vigil_flow_execution SET input_sealed = $1, input_sealed_bin = NULL WHERE id = $2`,
			old, e.ID); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.ClaimFlowExecution(ctx, e.ID, 1, now.Add(-2*time.Minute), now.Add(-time.Minute)); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if n, err := b.svc.Recover(ctx); err != nil || n != 1 {
			t.Fatalf("recover = %d, %v; want 1", n, err)
		}
		got, err := b.svc.Wait(ctx, e.ID)
		if err != nil || got.Status != StatusSucceeded || got.Output.(map[string]any)["greeting"] != "hello bob" {
			t.Fatalf("execution with a text input = %+v, %v; want hello bob", got, err)
		}
		r, err := st.FlowExecution(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		in, err := b.svc.openInput(r.InputSealed, r.ID)
		if err != nil || in.(map[string]any)["name"] != "bob" {
			t.Errorf("history's input = %#v, %v; want name bob", in, err)
		}
	})
}
