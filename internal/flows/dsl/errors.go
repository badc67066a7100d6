package dsl

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a document: where (a dotted path such as
// `do[2].suspendUser.with.userId` and the source line) and what.
type Problem struct {
	Path string
	Line int
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	return b.String()
}

// ValidationError lists every problem found in a document. Parse collects
// as many as it cheaply can so authors fix them in one pass.
type ValidationError struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unsupported tells whether every problem is a refusal of a feature Vigil
// does not execute (as opposed to a mistake in the document).
func (e *ValidationError) Unsupported() bool {
	if len(e.Problems) == 0 {
		return false
	}
	for _, p := range e.Problems {
		if !strings.Contains(p.Msg, "not supported") {
			return false
		}
	}
	return true
}
