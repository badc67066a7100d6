package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Record is one audit entry as the API, the console and `vigil audit list
// --json` show it.
type Record struct {
	ID      string          `json:"id"`
	At      time.Time       `json:"at"`
	Actor   RecordActor     `json:"actor"`
	Action  string          `json:"action"`
	Target  Target          `json:"target"`
	Outcome Outcome         `json:"outcome"`
	Details json.RawMessage `json:"details"`
}

// RecordActor is Actor as a Record shows it.
type RecordActor struct {
	Kind    ActorKind `json:"kind"`
	ID      string    `json:"id,omitempty"`
	Name    string    `json:"name,omitempty"`
	Token   string    `json:"token,omitempty"`
	Address string    `json:"address,omitempty"`
}

func recordFrom(e *store.AuditEntry) Record {
	details := json.RawMessage(e.Details)
	if !json.Valid(details) {
		details = json.RawMessage("{}")
	}
	return Record{
		ID: e.ID, At: e.At,
		Actor:  RecordActor{Kind: ActorKind(e.ActorKind), ID: e.ActorID, Name: e.ActorName, Token: e.TokenName, Address: e.Address},
		Action: e.Action, Target: Target{Kind: e.TargetKind, ID: e.TargetID, Name: e.TargetName},
		Outcome: Outcome(e.Outcome), Details: details,
	}
}

// Filter selects entries; see store.AuditFilter.
type Filter = store.AuditFilter

// DefaultLimit and MaxLimit bound a page.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// FilterInput is a filter as a person types it, in the API's query, the
// console's form or the command line's flags.
type FilterInput struct {
	Actor, Action, Since, Until, Before, Limit string
}

var (
	actionPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._]*$`)
	idPattern     = regexp.MustCompile(`^aud_[0-9A-Z]{26}$`)
)

// ParseFilter checks in and returns the filter it describes, or an error of
// one sentence naming the bad field. Times are RFC 3339 or a date
// (2006-01-02, midnight UTC).
func ParseFilter(in FilterInput) (Filter, error) {
	f := Filter{Actor: strings.TrimSpace(in.Actor), Limit: DefaultLimit}
	if a := strings.TrimSpace(in.Action); a != "" {
		if !actionPattern.MatchString(a) {
			return Filter{}, &InvalidError{Field: "action", Message: "The action filter must be a dotted action name or its start, such as flow or flow.enable."}
		}
		f.ActionPrefix = a
	}
	var err error
	if f.Since, err = parseTime("since", in.Since); err != nil {
		return Filter{}, err
	}
	if f.Until, err = parseTime("until", in.Until); err != nil {
		return Filter{}, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return Filter{}, &InvalidError{Field: "until", Message: "The until time must be after the since time."}
	}
	if b := strings.TrimSpace(in.Before); b != "" {
		if !idPattern.MatchString(b) {
			return Filter{}, &InvalidError{Field: "before", Message: "The before cursor must be an audit entry id such as aud_01JD5Q9Z8W3K4M6N7P8R9S0T1V."}
		}
		f.Before = b
	}
	if l := strings.TrimSpace(in.Limit); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			return Filter{}, &InvalidError{Field: "limit", Message: fmt.Sprintf("The limit must be a whole number from 1 to %d.", MaxLimit)}
		}
		f.Limit = n
	}
	return f, nil
}

func parseTime(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, &InvalidError{Field: field, Message: fmt.Sprintf("The %s time must be RFC 3339 (2026-12-01T09:30:00Z) or a date (2026-12-01).", field)}
}

// InvalidError is a filter that cannot be used; Message is one sentence for
// the person who typed it.
type InvalidError = input.InvalidError

// Page is one page of entries, newest first. Next is the Before cursor of
// the following page, empty on the last.
type Page struct {
	Entries []Record `json:"entries"`
	Next    string   `json:"next,omitempty"`
}

// Log reads the audit log for the API, the console and the command line.
type Log struct{ q *store.Queries }

// NewLog returns a Log reading with q (a store's queries).
func NewLog(q *store.Queries) *Log { return &Log{q: q} }

// List returns the page of entries f selects.
func (l *Log) List(ctx context.Context, f Filter) (*Page, error) {
	if f.Limit <= 0 || f.Limit > MaxLimit {
		f.Limit = DefaultLimit
	}
	want := f.Limit
	f.Limit++
	rows, err := l.q.AuditEntries(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	p := &Page{Entries: make([]Record, 0, len(rows))}
	if len(rows) > want {
		rows = rows[:want]
		p.Next = rows[want-1].ID
	}
	for _, e := range rows {
		p.Entries = append(p.Entries, recordFrom(e))
	}
	return p, nil
}

// exportBatch is how many rows an export reads at a time, so that a long
// log streams in bounded memory.
const exportBatch = 500

// Export writes every entry f selects (ignoring its Limit) to w as JSON
// lines, newest first, reading the table a batch at a time. after, when not
// nil, runs after each batch (an HTTP handler flushes there).
func (l *Log) Export(ctx context.Context, f Filter, w io.Writer, after func()) error {
	enc := json.NewEncoder(w)
	f.Limit = exportBatch
	for {
		rows, err := l.q.AuditEntries(ctx, f)
		if err != nil {
			return fmt.Errorf("export audit entries: %w", err)
		}
		for _, e := range rows {
			if err := enc.Encode(recordFrom(e)); err != nil {
				return fmt.Errorf("export audit entries: %w", err)
			}
		}
		if after != nil {
			after()
		}
		if len(rows) < exportBatch {
			return nil
		}
		f.Before = rows[len(rows)-1].ID
	}
}
