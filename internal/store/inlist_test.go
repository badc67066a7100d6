package store

import (
	"fmt"
	"strings"
	"testing"
)

// TestInListPadsToFewLengths checks that IN lists of every length up to
// maxInList make six statements, numbered from first, matching the ids.
func TestInListPadsToFewLengths(t *testing.T) {
	q := &Queries{d: Postgres}
	shapes := map[string]bool{}
	for n := 1; n <= maxInList; n++ {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprint("id", i)
		}
		marks, args := q.inList(ids, 2)
		shapes[marks] = true
		if !strings.HasPrefix(marks, "$2, ") && marks != "$2" {
			t.Fatalf("%d ids: placeholders %.20s…, want them from $2", n, marks)
		}
		if len(args) != strings.Count(marks, "$") || len(args) < n {
			t.Fatalf("%d ids: %d arguments for %d placeholders", n, len(args), strings.Count(marks, "$"))
		}
		for i, a := range args {
			if want := ids[min(i, n-1)]; a != want {
				t.Fatalf("%d ids: argument %d is %v, want %s", n, i, a, want)
			}
		}
	}
	if len(shapes) != 6 {
		t.Errorf("lists of 1 to %d ids make %d statements, want 6", maxInList, len(shapes))
	}
}
