package flows

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// routingTasks is the shape of the ISPM template's routing flow (and of
// `vigil bench`'s): a set that classifies the event, a switch that routes
// it, and a set that ends the flow. No task has an effect outside the
// execution.
const routingTasks = `do:
  - classify:
      set:
        title: '${ .issue.title }'
        severity: '${ .issue.severity }'
  - route:
      switch:
        - critical:
            when: '${ .severity == "CRITICAL" or .severity == "HIGH" }'
            then: escalate
        - other:
            then: record
  - escalate:
      set: {route: escalate, title: '${ .title }'}
      then: end
  - record:
      set: {route: record, title: '${ .title }'}
`

// TestCommitsPerExecution counts the commits of executions run one after
// another on the local pool: an execution commits its row and input before
// its first task and its end; steps without effect are written with the
// next commit, and only a step with an effect (an HTTP call, a task that
// read the clock) commits on its own, before the flow goes on.
func TestCommitsPerExecution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, _ := setupLocal(t, st, Config{}, 4)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true}`))
		}))
		defer srv.Close()
		notify := "  - notify: {call: http, with: {method: post, endpoint: '" + srv.URL + "/notify', body: '${ . }'}}\n"
		cases := []struct {
			name  string
			tasks string
			// commits per execution and steps in its history.
			commits, steps int
		}{
			{"routing", routingTasks, 2, 3},
			{"routing-then-call", "do:\n" + notify + routingTasks[len("do:\n"):], 3, 4},
			{"clock", "do:\n  - stamp: {set: {at: '${ now }'}}\n  - after: {set: {at: '${ .at }'}}\n", 3, 2},
			{"set-result", "do:\n  - note: {call: execution.setResult, with: {result: routed}}\n  - after: {set: {done: true}}\n", 2, 2},
			// A row a task adds is written with that task's step.
			{"table-row", "do:\n  - log: {call: tables.createRow, with: {table: Log, row: {Step: log}}}\n  - after: {set: {done: true}}\n", 3, 2},
			// A long loop commits its steps in groups of maxPendingRows.
			{"long-loop", "do:\n  - loop:\n      for: {each: i, in: '${ [range(0; 300)] }'}\n      do:\n        - each: {set: {i: '${ $i }'}}\n",
				2 + 301/maxPendingRows, 301},
		}
		input := map[string]any{"issue": map[string]any{"title": "Admin without MFA", "severity": "HIGH"}}
		const runs = 5
		table, err := b.svc.CreateTable(b.ctx, b.folder.ID, TableParams{Name: "Log", Columns: []catalog.Column{{Name: "Step", Type: catalog.ColText}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			f := b.saveOn(t, flowDoc(c.name, saveAll, c.tasks))
			before := st.Commits()
			var last *Execution
			for range runs {
				last = b.run(t, f.ID, input, StartOptions{})
				if last.Status != StatusSucceeded {
					t.Fatalf("%s: execution ended %s: %+v", c.name, last.Status, last.Error)
				}
			}
			if got := st.Commits() - before; got != int64(runs*c.commits) {
				t.Errorf("%s: %d commits for %d executions; want %d each", c.name, got, runs, c.commits)
			}
			h, err := b.svc.Execution(b.ctx, last.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Steps) != c.steps {
				t.Errorf("%s: %d steps in the history; want %d: %+v", c.name, len(h.Steps), c.steps, h.Steps)
			}
			if c.name == "set-result" && h.Execution.Result != "routed" {
				t.Errorf("%s: result %q; want routed", c.name, h.Execution.Result)
			}
			if c.name == "table-row" {
				rows, err := b.svc.TableRows(b.ctx, table.ID, catalog.Query{})
				if err != nil || len(rows) != runs || rows[0][catalog.RowExecution] == nil {
					t.Errorf("%s: rows %v, %v; want %d, each naming its execution", c.name, rows, err, runs)
				}
			}
		}
	})
}

// TestParkCommitsKeptSteps parks an execution at an approval after a task
// without effect: the park commits that task's step with it, so the
// history of the waiting execution shows it.
func TestParkCommitsKeptSteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newApprovalWorld(t, st)
		n := w.start(t)
		folder, err := n.svc.CreateFolder(w.ctx, "Approvals", "")
		if err != nil {
			t.Fatal(err)
		}
		doc := flowDoc("kept", saveAll, "do:\n  - prepare: {set: {eventData: '${ .eventData }'}}\n"+approvalFlow[len("do:\n"):])
		res, err := n.svc.SaveFlow(w.ctx, SaveParams{FolderID: folder.ID, Document: []byte(doc)})
		if err != nil {
			t.Fatal(err)
		}
		execID, err := n.svc.Start(w.ctx, res.Flow.ID, approvalInput, StartOptions{AllowOff: true})
		if err != nil {
			t.Fatal(err)
		}
		waitStatus(t, n.svc, execID, StatusWaiting)
		steps, err := st.FlowSteps(w.ctx, execID)
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) != 1 || steps[0].Name != "prepare" {
			t.Errorf("journal of the waiting execution: %+v; want the prepare step alone", steps)
		}
	})
}
