package issue

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/store"
)

// tableOutbox writes events into a table in the caller's transaction, so a
// test sees an event exactly when the change that caused it committed.
type tableOutbox struct {
	fail error
	seq  atomic.Int64
}

func (o *tableOutbox) Publish(ctx context.Context, tx *store.Tx, ev event.Event) error {
	if o.fail != nil {
		return o.fail
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = tx.SQL().ExecContext(ctx, `INSERT INTO test_outbox (id, type, issue_id, status, payload, seq) VALUES ($1, $2, $3, $4, $5, $6)`,
		ev.ID, ev.Type, ev.EventData.ID, ev.EventData.Status, string(b), o.seq.Add(1))
	return err
}

type testBundle struct {
	st     *store.Store
	svc    *Service
	clock  *clocktest.Clock
	outbox *tableOutbox
}

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T, st *store.Store) *testBundle {
	t.Helper()
	if _, err := st.DB().ExecContext(t.Context(), `CREATE TABLE test_outbox (id TEXT PRIMARY KEY, type TEXT NOT NULL,
		issue_id TEXT NOT NULL, status TEXT NOT NULL, payload TEXT NOT NULL, seq INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	c := clocktest.New(t0)
	ob := &tableOutbox{}
	svc := New(st, ob, Config{PublicURL: "https://vigil.example.com/", Now: c.Now})
	return &testBundle{st: st, svc: svc, clock: c, outbox: ob}
}

// sentEvent is an event as the test outbox stored it.
type sentEvent struct {
	Type    string
	IssueID string
	Status  string
	Event   event.Event
}

// events returns the events written so far, in order, and forgets them.
func (b *testBundle) events(t *testing.T) []sentEvent {
	t.Helper()
	ctx := t.Context()
	rows, err := b.st.DB().QueryContext(ctx, `SELECT type, issue_id, status, payload FROM test_outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sentEvent
	for rows.Next() {
		var e sentEvent
		var payload string
		if err := rows.Scan(&e.Type, &e.IssueID, &e.Status, &payload); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(payload), &e.Event); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.DB().ExecContext(ctx, `DELETE FROM test_outbox`); err != nil {
		t.Fatal(err)
	}
	return out
}

// reconcile runs one scan's reconciliation in its own transaction.
func (b *testBundle) reconcile(t *testing.T, scan Scan) Summary {
	t.Helper()
	sum, err := b.try(t, scan)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func (b *testBundle) try(t *testing.T, scan Scan) (Summary, error) {
	t.Helper()
	if scan.Scopes == nil {
		scan.Scopes = map[string]string{"okta": "src_okta"}
	}
	if scan.ID == "" {
		scan.ID = "scn_test"
	}
	var sum Summary
	err := b.st.InTx(t.Context(), func(tx *store.Tx) error {
		var err error
		sum, err = b.svc.Reconcile(t.Context(), tx, scan)
		return err
	})
	return sum, err
}

// issueOf returns the issue of a finding, failing when there is none.
func (b *testBundle) issueOf(t *testing.T, f detect.Finding) *Issue {
	t.Helper()
	page, err := b.svc.List(t.Context(), Filter{Limit: -1, Statuses: Statuses()})
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range page.Issues {
		if is.Fingerprint == f.Fingerprint {
			full, err := b.svc.Get(t.Context(), is.ID)
			if err != nil {
				t.Fatal(err)
			}
			return full
		}
	}
	t.Fatalf("no issue for %q on %s", f.Title, f.Entity.Key)
	return nil
}

// finding makes an account finding of a title on an Okta account.
func finding(title, login string) detect.Finding {
	d, ok := detect.Lookup(title)
	if !ok {
		panic("unknown title " + title)
	}
	key := detect.AccountKey(graph.ProductOkta, "acme.okta.com", "00u"+login)
	last := t0.AddDate(0, 0, -100)
	return detect.Finding{
		Title: d.Title, Category: d.Category, Severity: d.Severity,
		ShortDescription: "short " + login, FullDescription: d.FullDescription,
		SuggestedRemediation: d.SuggestedRemediation, RiskAndImpact: d.RiskAndImpact,
		Entity: detect.Entity{
			Type: detect.EntityAccount, Key: key, DisplayName: "Name " + login,
			IDInService: "00u" + login, IdentifierInService: login + "@example.com",
			SourceProductName: graph.ProductOkta, SourceProductTenant: "acme.okta.com",
			AdditionalData: detect.AdditionalData{
				Username:        login + "@example.com",
				Types:           []detect.TypeReasons{{Type: "Admin", Reasons: []string{"Member of Org Admins group"}}},
				LastLogin:       &last,
				UnrotatedTokens: []detect.Token{},
				ActiveAccounts:  []detect.AccountRef{},
			},
		},
		Fingerprint: detect.Fingerprint(d.Title, key),
		Source:      "okta",
		Sources:     []string{"okta"},
	}
}

func wantStatus(t *testing.T, is *Issue, want Status) {
	t.Helper()
	if is.Status != want {
		t.Fatalf("issue %s is %s, want %s", is.ID, is.Status, want)
	}
	if is.Data.Status != string(want) {
		t.Fatalf("issue %s eventData.status is %s, want %s", is.ID, is.Data.Status, want)
	}
}

func wantEvents(t *testing.T, got []sentEvent, want ...string) {
	t.Helper()
	var types []string
	for _, e := range got {
		types = append(types, e.Type+":"+e.Status)
	}
	if len(types) != len(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("events %v, want %v", types, want)
		}
	}
}

func wantActions(t *testing.T, is *Issue, want ...string) {
	t.Helper()
	var got []string
	for _, h := range is.History {
		got = append(got, h.Action)
	}
	if len(got) != len(want) {
		t.Fatalf("history %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("history %v, want %v", got, want)
		}
	}
}

func isTransitionError(err error) bool {
	var te *TransitionError
	return errors.As(err, &te)
}
