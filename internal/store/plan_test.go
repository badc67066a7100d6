package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestUnfinishedCountPlan checks that SQLite counts a flow's unfinished
// executions (done before every invoke) through the partial index that
// holds only those, not by walking the flow's whole history.
func TestUnfinishedCountPlan(t *testing.T) {
	st := storetest.SQLite(t)
	rows, err := st.DB().QueryContext(context.Background(),
		"EXPLAIN QUERY PLAN "+store.UnfinishedFlowExecutionsSQL, "f1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan, "; "); !strings.Contains(got, "vigil_flow_execution_unfinished") {
		t.Errorf("the count's plan is %q; want it to use vigil_flow_execution_unfinished", got)
	}
}
