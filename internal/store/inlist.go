package store

import (
	"strconv"
	"strings"
)

// mark is the placeholder of the nth parameter of a long statement.
// SQLite takes "$n" for a name, and finding each name among thousands
// made a statement's preparation and binding grow with the square of its
// parameters; an anonymous "?" is bound by position alone.
func (q *Queries) mark(n int) string {
	if q.d == SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

// maxInList is how many ids inList is given at most, so that a statement
// stays well within both databases' limits on parameters.
const maxInList = 500

// inList returns the placeholders of an IN list of ids, numbered from
// first, and the ids as arguments. The list is padded to the next of a few
// lengths by repeating its last id, which changes nothing an IN list
// matches: otherwise a list of each length is a statement of its own, and
// the statement cache (see stmtCache), whose slots the invocation path's
// statements need, would fill with them.
func (q *Queries) inList(ids []string, first int) (string, []any) {
	n := len(ids)
	for _, size := range [...]int{1, 4, 16, 64, 256, maxInList} {
		if size >= n {
			n = size
			break
		}
	}
	marks := make([]string, n)
	args := make([]any, n)
	for i := range n {
		marks[i] = q.mark(first + i)
		args[i] = ids[min(i, len(ids)-1)]
	}
	return strings.Join(marks, ", "), args
}
