// Package audittest helps tests check what the audit log recorded: that an
// action was written with its actor and address, and that no secret value
// reached any row.
package audittest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
)

// Rows returns every audit row, newest first.
func Rows(t testing.TB, q *store.Queries) []*store.AuditEntry {
	t.Helper()
	rows, err := q.AuditEntries(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatalf("read the audit log: %v", err)
	}
	return rows
}

// Want describes the row an action must have written; empty fields are
// not checked.
type Want struct {
	Action     string
	ActorKind  string
	ActorName  string
	Address    string
	TargetKind string
	TargetName string
	Outcome    string
	// Details are substrings the row's details JSON must contain.
	Details []string
}

func (w Want) matches(e *store.AuditEntry) bool {
	for _, c := range [][2]string{{w.Action, e.Action}, {w.ActorKind, e.ActorKind}, {w.ActorName, e.ActorName},
		{w.Address, e.Address}, {w.TargetKind, e.TargetKind}, {w.TargetName, e.TargetName}, {w.Outcome, e.Outcome}} {
		if c[0] != "" && c[0] != c[1] {
			return false
		}
	}
	for _, d := range w.Details {
		if !strings.Contains(e.Details, d) {
			return false
		}
	}
	return true
}

// Has fails the test unless a row matches w, and returns it.
func Has(t testing.TB, q *store.Queries, w Want) *store.AuditEntry {
	t.Helper()
	rows := Rows(t, q)
	for _, e := range rows {
		if w.matches(e) {
			return e
		}
	}
	var got []string
	for _, e := range rows {
		got = append(got, Format(e))
	}
	t.Fatalf("no audit row matches %+v; the log holds:\n%s", w, strings.Join(got, "\n"))
	return nil
}

// NoSecret fails the test if any audit row holds any of secrets, in any
// column.
func NoSecret(t testing.TB, q *store.Queries, secrets ...string) {
	t.Helper()
	rows := Rows(t, q)
	if len(rows) == 0 {
		t.Fatal("the audit log is empty, so it proves nothing about secrets")
	}
	for _, e := range rows {
		line := Format(e)
		for _, s := range secrets {
			if s == "" {
				t.Fatal("NoSecret was given an empty secret")
			}
			if strings.Contains(line, s) {
				t.Errorf("the audit row %s holds a secret value", line)
			}
		}
	}
}

// Format is every column of e on one line.
func Format(e *store.AuditEntry) string {
	return fmt.Sprintf("%s %s actor=%s/%s/%s token=%s from=%s action=%s target=%s/%s/%s outcome=%s details=%s",
		e.ID, e.At.Format("2006-01-02T15:04:05Z"), e.ActorKind, e.ActorID, e.ActorName, e.TokenName, e.Address,
		e.Action, e.TargetKind, e.TargetID, e.TargetName, e.Outcome, e.Details)
}
