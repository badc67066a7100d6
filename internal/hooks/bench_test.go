package hooks

import (
	"context"
	"net/http"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// BenchmarkDeliveries measures end-to-end throughput on each database: b.N
// events published through the outbox (100 per transaction) and delivered
// by the River workers to a local receiver answering 204, with one
// integration whose limits are raised out of the way. Run with a fixed
// count, e.g. -bench Deliveries -benchtime 2000x.
func BenchmarkDeliveries(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			st := storetest.Open(b, dialect)
			rc := newReceiver(b, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
			svc := startQueue(b, st, Config{MaxInFlight: 20, RatePerSecond: 100000})
			bb := &bundle{st: st, svc: svc}
			bb.addHook(b, "bench", rc.URL)
			ctx := context.Background()
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(100, b.N-done)
				err := st.InTx(ctx, func(tx *store.Tx) error {
					for range n {
						if err := svc.Publish(ctx, tx, sampleEvent()); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				done += n
			}
			waitDelivered(b, st, b.N)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
