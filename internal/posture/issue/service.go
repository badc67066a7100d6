package issue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Config tunes a Service. The zero value of each field means its default.
type Config struct {
	// PublicURL is how users reach the console; event links are
	// PublicURL + "/ispm/issues/<id>". Empty leaves links out.
	PublicURL string
	// PublicURLSetting, when set, is asked for each link instead of
	// PublicURL, so that a change of the saved public URL applies to a
	// running server.
	PublicURLSetting func(ctx context.Context) string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives one line per failure worth an operator's attention.
	// Default: discard.
	Logger *slog.Logger
}

// Service reads and changes issues. It is safe for concurrent use.
type Service struct {
	st     *store.Store
	outbox event.Outbox
	cfg    Config

	mu     sync.Mutex
	lastID string // the latest history id, to keep ids increasing
	// audit records the status changes people make.
	audit *audit.Recorder
}

// New returns a Service over st that writes issue events to outbox.
func New(st *store.Store, outbox event.Outbox, cfg Config) *Service {
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, outbox: outbox, cfg: cfg, audit: audit.NewRecorder(st, cfg.Logger, cfg.Now)}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// ErrNotFound is returned (wrapped) when no issue has the given id.
var ErrNotFound = errors.New("issue not found")

// ErrBadSort is returned by List for a Filter.Sort that names no sortable
// column.
var ErrBadSort = errors.New("the issue list cannot be sorted by this column")

// TransitionError says a change of status is not allowed from the issue's
// current status. Its message is one sentence for the user.
type TransitionError struct {
	ID   string
	From Status
	To   Status
	Msg  string
}

func (e *TransitionError) Error() string { return e.Msg }

// publish writes the event of a change to the outbox in tx.
func (s *Service) publish(ctx context.Context, tx *store.Tx, typ string, d event.Issue, at time.Time) error {
	if s.outbox == nil {
		return nil
	}
	ev := event.Event{ID: uuid.NewString(), Timestamp: at, Source: event.Source, Type: typ, EventData: d}
	if err := s.outbox.Publish(ctx, tx, ev); err != nil {
		return fmt.Errorf("publish %s for issue %s: %w", typ, d.ID, err)
	}
	return nil
}

// eventType is the event a transition to status to sends.
func eventType(action string, to Status) string {
	switch {
	case action == ActionCreated:
		return event.TypeCreated
	case to == StatusResolved:
		return event.TypeResolved
	}
	return event.TypeUpdated
}

// record keeps a transition in the history and sends its event.
func (s *Service) record(ctx context.Context, tx *store.Tx, r *store.PostureIssue, action string, from Status, note Note, scanID string, at time.Time) error {
	err := tx.InsertPostureIssueChange(ctx, &store.PostureIssueChange{
		ID: s.changeID(at), IssueID: r.ID, At: at, Actor: note.By, Action: action,
		From: string(from), To: r.Status, Reason: note.Why, ScanID: scanID,
	})
	if err != nil {
		return fmt.Errorf("record history of issue %s: %w", r.ID, err)
	}
	d, err := s.data(ctx, r)
	if err != nil {
		return err
	}
	return s.publish(ctx, tx, eventType(action, Status(r.Status)), d, at)
}

// changeID returns a history id greater than every one this Service made
// before, so that changes made in the same millisecond list in the order
// they happened.
func (s *Service) changeID(at time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := id.NewAt("ish", at)
	if next <= s.lastID {
		next = successor(s.lastID)
	}
	s.lastID = next
	return next
}

// successor returns the smallest id greater than v that keeps its length
// when possible, in Crockford base32 order.
func successor(v string) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := []byte(v)
	for i := len(b) - 1; i >= 0; i-- {
		k := strings.IndexByte(alphabet, b[i])
		if k < 0 {
			break
		}
		if k < len(alphabet)-1 {
			b[i] = alphabet[k+1]
			return string(b)
		}
		b[i] = alphabet[0]
	}
	return v + "0" // every digit was the last one: grow instead
}

// Filter selects issues for List and Counts. Empty fields match all.
type Filter struct {
	Statuses   []Status
	Severities []string
	Categories []string
	Titles     []string
	// Products are sourceProductName values such as "Okta" or "AAD".
	Products []string
	// Sources are configured source names.
	Sources []string
	// Search matches part of the title, the entity's name or login, or the
	// tenant, ignoring case.
	Search string
	// Limit is the page size; 0 means 50, negative means no limit. Offset
	// skips that many issues, counted from the cursor when one is given.
	Limit  int
	Offset int
	// After is a Page's Next: the page starts just after the last issue of
	// that page. Before is a Page's Prev: the page ends just before the
	// first issue of that page. A page by cursor costs what the first page
	// costs however deep it is, and an issue opened or resolved meanwhile
	// does not shift the pages after it. Set at most one; a cursor List did
	// not give is an error wrapping [ErrBadCursor].
	After  string
	Before string
	// Sort orders the list by another column than severity: one of the
	// keys of store.PostureIssueSorts (severity, title, affected, product,
	// category, status, detected), ascending unless Desc. A sorted list
	// pages by Offset: its Page has no cursors, and After and Before are
	// ignored.
	Sort string
	Desc bool
}

// Page is one page of issues and the number the filter selects in all.
type Page struct {
	Issues []*Issue
	Total  int
	// Offset is the number of selected issues listed before this page's
	// first one: with Total, where the page stands ("51–100 of 420").
	Offset int
	// Next is the cursor (Filter.After) of the page after this one, empty
	// on the last page. Prev is the cursor (Filter.Before) of the page
	// before it, empty on the first.
	Next string
	Prev string
}

func (s *Service) storeFilter(ctx context.Context, f Filter) (store.PostureIssueFilter, bool, error) {
	sf := store.PostureIssueFilter{Severities: f.Severities, Categories: f.Categories, Titles: f.Titles,
		Products: f.Products, Search: f.Search, Offset: f.Offset}
	// Most severe first is the list order itself, which pages by cursor.
	if f.Sort != "" && (f.Sort != "severity" || !f.Desc) {
		if _, ok := store.PostureIssueSorts[f.Sort]; !ok {
			return sf, false, fmt.Errorf("sort issues by %q: %w", f.Sort, ErrBadSort)
		}
		sf.Sort, sf.Desc = f.Sort, f.Desc
		f.After, f.Before = "", ""
	}
	for _, st := range f.Statuses {
		sf.Statuses = append(sf.Statuses, string(st))
	}
	if f.After != "" && f.Before != "" {
		return sf, false, fmt.Errorf("list issues after and before a cursor at once: %w", ErrBadCursor)
	}
	var err error
	if f.After != "" {
		if sf.After, err = decodeCursor(f.After); err != nil {
			return sf, false, fmt.Errorf("list issues after %q: %w", f.After, err)
		}
	}
	if f.Before != "" {
		if sf.Before, err = decodeCursor(f.Before); err != nil {
			return sf, false, fmt.Errorf("list issues before %q: %w", f.Before, err)
		}
	}
	for _, name := range f.Sources {
		src, err := s.st.PostureSourceByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return sf, false, fmt.Errorf("look up source %q: %w", name, err)
		}
		sf.SourceIDs = append(sf.SourceIDs, src.ID)
	}
	if len(f.Sources) > 0 && len(sf.SourceIDs) == 0 {
		return sf, false, nil // no named source exists: nothing matches
	}
	switch {
	case f.Limit == 0:
		sf.Limit = 50
	case f.Limit > 0:
		sf.Limit = f.Limit
	}
	return sf, true, nil
}

// List returns the issues f selects, most severe and most recently
// detected first, with the cursors of the pages around them.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	sf, ok, err := s.storeFilter(ctx, f)
	if err != nil || !ok {
		return Page{Issues: []*Issue{}}, err
	}
	limit := sf.Limit
	if limit > 0 {
		sf.Limit++ // one issue more tells whether there is a page beyond
	}
	rows, total, err := s.st.FindPostureIssues(ctx, sf)
	if err != nil {
		return Page{}, fmt.Errorf("list issues: %w", err)
	}
	beyond := limit > 0 && len(rows) > limit
	if beyond {
		if sf.Before != nil {
			rows = rows[1:] // the extra issue is the farthest from the cursor
		} else {
			rows = rows[:limit]
		}
	}
	out := Page{Issues: make([]*Issue, 0, len(rows)), Total: total, Offset: max(f.Offset, 0)}
	switch {
	case sf.After == nil && sf.Before == nil:
		if limit <= 0 {
			out.Offset = 0 // the store ignores an offset without a limit
		}
	case len(rows) > 0:
		if out.Offset, err = s.st.CountPostureIssuesBefore(ctx, sf, rows[0].Key()); err != nil {
			return Page{}, fmt.Errorf("list issues: find the page's position: %w", err)
		}
	case sf.After != nil:
		out.Offset = total // past the last issue
	default:
		out.Offset = 0 // before the first issue
	}
	if len(rows) > 0 && sf.Sort == "" {
		first, last := rows[0].Key(), rows[len(rows)-1].Key()
		if sf.Before != nil {
			if beyond {
				out.Prev = encodeCursor(first)
			}
			out.Next = encodeCursor(last) // the cursor's own issue follows
		} else {
			if out.Offset > 0 {
				out.Prev = encodeCursor(first)
			}
			if beyond {
				out.Next = encodeCursor(last)
			}
		}
	}
	for _, r := range rows {
		is, err := s.fromRow(ctx, r)
		if err != nil {
			return Page{}, err
		}
		out.Issues = append(out.Issues, is)
	}
	return out, nil
}

// Get returns an issue with its history.
func (s *Service) Get(ctx context.Context, issueID string) (*Issue, error) {
	r, err := s.st.PostureIssue(ctx, issueID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("issue %s: %w", issueID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read issue %s: %w", issueID, err)
	}
	is, err := s.fromRow(ctx, r)
	if err != nil {
		return nil, err
	}
	hist, err := s.st.PostureIssueHistory(ctx, issueID)
	if err != nil {
		return nil, fmt.Errorf("read history of issue %s: %w", issueID, err)
	}
	is.History = make([]Change, len(hist))
	for i, h := range hist {
		is.History[i] = Change{At: h.At, By: h.Actor, Action: h.Action, From: Status(h.From), To: Status(h.To),
			Reason: h.Reason, ScanID: h.ScanID}
	}
	return is, nil
}

// Event returns the event an integration would be sent about the issue as
// it stands now: issue.resolved for a resolved issue, issue.updated
// otherwise, with the complete eventData and a new event id. Running a
// flow on an issue by hand gives the flow this event, so that one flow
// serves both the webhook and the issue page.
func (s *Service) Event(ctx context.Context, issueID string) (event.Event, error) {
	r, err := s.st.PostureIssue(ctx, issueID)
	if errors.Is(err, store.ErrNotFound) {
		return event.Event{}, fmt.Errorf("issue %s: %w", issueID, ErrNotFound)
	}
	if err != nil {
		return event.Event{}, fmt.Errorf("read issue %s: %w", issueID, err)
	}
	d, err := s.data(ctx, r)
	if err != nil {
		return event.Event{}, err
	}
	return event.Event{ID: uuid.NewString(), Timestamp: s.now(), Source: event.Source,
		Type: eventType("", Status(r.Status)), EventData: d}, nil
}

// OpenIssues returns the eventData of every open issue: what an
// integration is sent when its automation is turned on with "also send
// the issues open now".
func (s *Service) OpenIssues(ctx context.Context) ([]event.Issue, error) {
	page, err := s.List(ctx, Filter{Statuses: []Status{StatusOpen}, Limit: -1})
	if err != nil {
		return nil, err
	}
	out := make([]event.Issue, 0, len(page.Issues))
	for _, is := range page.Issues {
		out = append(out, is.Data)
	}
	return out, nil
}

// Counts summarizes issues for the dashboard.
type Counts struct {
	// Open is the number of open issues.
	Open int
	// BySeverity and ByCategory count the open issues.
	BySeverity map[string]int
	ByCategory map[string]int
	// ByTitle counts the open issues per title.
	ByTitle map[string]int
	// ByStatus counts every issue by status.
	ByStatus map[Status]int
}

// Counts counts the issues f selects (f's Statuses and cursors are
// ignored: the per-severity, per-category and per-title counts are of open
// issues, ByStatus of all).
func (s *Service) Counts(ctx context.Context, f Filter) (Counts, error) {
	c := Counts{BySeverity: map[string]int{}, ByCategory: map[string]int{}, ByTitle: map[string]int{}, ByStatus: map[Status]int{}}
	f.Statuses, f.After, f.Before = nil, "", ""
	sf, ok, err := s.storeFilter(ctx, f)
	if err != nil || !ok {
		return c, err
	}
	tally, err := s.st.TallyPostureIssues(ctx, sf)
	if err != nil {
		return c, fmt.Errorf("count issues: %w", err)
	}
	for _, n := range tally {
		c.ByStatus[Status(n.Status)] += n.Count
		if Status(n.Status) == StatusOpen {
			c.BySeverity[n.Severity] += n.Count
			c.ByCategory[n.Category] += n.Count
			c.ByTitle[n.Title] += n.Count
		}
	}
	c.Open = c.ByStatus[StatusOpen]
	return c, nil
}

// TrendPoint is the number of open issues at the end of one day.
type TrendPoint struct {
	// Day is midnight UTC of the day.
	Day        time.Time
	Open       int
	BySeverity map[string]int
}

const dayLayout = "2006-01-02"

// Trend returns one point per day for the last days days, today included,
// oldest first. A day without a scan or change carries the previous day's
// counts; days before the first scan count zero.
func (s *Service) Trend(ctx context.Context, days int) ([]TrendPoint, error) {
	if days <= 0 {
		days = 30
	}
	today := s.now().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(days - 1))
	rows, err := s.st.PostureTrend(ctx, first.Format(dayLayout), today.Format(dayLayout))
	if err != nil {
		return nil, fmt.Errorf("read issue trend: %w", err)
	}
	byDay := map[string]map[string]int{}
	for _, r := range rows {
		if byDay[r.Day] == nil {
			byDay[r.Day] = map[string]int{}
		}
		byDay[r.Day][r.Severity] = r.Open
	}
	// Start from the latest day before the window, if the store gave one.
	carry := map[string]int{}
	var before []string
	for d := range byDay {
		if d < first.Format(dayLayout) {
			before = append(before, d)
		}
	}
	if len(before) > 0 {
		carry = byDay[slices.Max(before)]
	}
	out := make([]TrendPoint, 0, days)
	for d := first; !d.After(today); d = d.AddDate(0, 0, 1) {
		if m, ok := byDay[d.Format(dayLayout)]; ok {
			carry = m
		}
		p := TrendPoint{Day: d, Open: carry[""], BySeverity: map[string]int{}}
		for sev, n := range carry {
			if sev != "" {
				p.BySeverity[sev] = n
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// recordTrend rewrites today's trend point.
func (s *Service) recordTrend(ctx context.Context, tx *store.Tx, at time.Time) error {
	if err := tx.RecordPostureTrend(ctx, at.UTC().Format(dayLayout)); err != nil {
		return fmt.Errorf("record issue trend: %w", err)
	}
	return nil
}
