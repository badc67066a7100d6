package flows

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/flows/engine/enginetest"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// BenchmarkDurableRun starts a 10-task flow and waits for it through the
// durable path, one execution at a time: the execution row and its job
// in one transaction, a queue worker, the journal writing every step
// (sealed), and the end recorded, on each database.
func BenchmarkDurableRun(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			st := storetest.Open(b, dialect)
			cat := catalog.New()
			cat.MustRegister("test.noop", catalog.Function{Args: []catalog.Arg{
				{Name: "user", Type: catalog.Any}, {Name: "msg", Type: catalog.Any}, {Name: "step", Type: catalog.Any}},
				Run: func(context.Context, map[string]any, *engine.CallEnv) (any, error) { return nil, nil }})
			tb := setup(b, st, Config{Catalog: cat})
			f := tb.saveOn(b, flowDoc("bench", "", enginetest.BenchFlow))
			input := map[string]any{"user": map[string]any{"id": "00u1", "source": "Okta"}}
			b.ReportAllocs()
			for b.Loop() {
				e := tb.run(b, f.ID, input, StartOptions{})
				if e.Status != StatusSucceeded || e.Steps != 10 {
					b.Fatalf("execution = %+v", e)
				}
			}
		})
	}
}

// nopInserter queues nothing: the benchmark runs executions itself.
type nopInserter struct{}

func (nopInserter) InsertTx(context.Context, *store.Tx, river.JobArgs, *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return &rivertype.JobInsertResult{}, nil
}

// BenchmarkDurableRunNoQueue is BenchmarkDurableRun without the queue's
// fetch latency: Start stores the execution (its job is dropped) and the
// worker's code runs it at once, so the figure is the database cost of
// durability: the execution row, ten sealed journal steps and the end.
func BenchmarkDurableRunNoQueue(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			st := storetest.Open(b, dialect)
			box := secrettest.Box(b)
			cat := catalog.New()
			cat.MustRegister("test.noop", catalog.Function{Args: []catalog.Arg{
				{Name: "user", Type: catalog.Any}, {Name: "msg", Type: catalog.Any}, {Name: "step", Type: catalog.Any}},
				Run: func(context.Context, map[string]any, *engine.CallEnv) (any, error) { return nil, nil }})
			svc := New(st, box, Config{Catalog: cat, Queue: nopInserter{}})
			folder, err := svc.CreateFolder(ctx, "Bench", "")
			if err != nil {
				b.Fatal(err)
			}
			res, err := svc.SaveFlow(ctx, SaveParams{FolderID: folder.ID, Document: []byte(flowDoc("bench", "", enginetest.BenchFlow))})
			if err != nil {
				b.Fatal(err)
			}
			input := map[string]any{"user": map[string]any{"id": "00u1", "source": "Okta"}}
			b.ReportAllocs()
			for b.Loop() {
				execID, err := svc.Start(ctx, res.Flow.ID, input, StartOptions{AllowOff: true})
				if err != nil {
					b.Fatal(err)
				}
				if err := svc.run(ctx, execID, 1, svc.release); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			list, _ := svc.Executions(ctx, ExecutionFilter{Status: StatusSucceeded, Limit: 1})
			if len(list) != 1 || list[0].Steps != 10 {
				b.Fatalf("last execution = %+v", list)
			}
		})
	}
}

// BenchmarkRecoverAtStart queues again, as a server does at start after a
// crash, the executions a dead process held in its line: 2,000 per
// iteration, each with its job. The figure is per execution.
func BenchmarkRecoverAtStart(b *testing.B) {
	const line = 2000
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			st := storetest.Open(b, dialect)
			now := time.Now().UTC()
			tb := setup(b, st, Config{Now: func() time.Time { return now }, QueueName: "recovered"})
			f := tb.saveOn(b, flowDoc("hello", "", helloTasks))
			b.ReportAllocs()
			round := 0
			for b.Loop() {
				b.StopTimer()
				round++
				deadLine(b, st, f.ID, fmt.Sprintf("exe_r%d_", round), line, now)
				b.StartTimer()
				if n, err := tb.svc.RecoverAtStart(tb.ctx, true); err != nil || n != line {
					b.Fatalf("RecoverAtStart = %d, %v; want %d", n, err, line)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*line), "µs/execution")
		})
	}
}
