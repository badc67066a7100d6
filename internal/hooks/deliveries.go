package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Delivery states, as shown and filtered on.
const (
	StatusPending   = store.HookDeliveryPending
	StatusDelivered = store.HookDeliveryDelivered
	// StatusHeld: the integration is paused; Resume sends it.
	StatusHeld = store.HookDeliveryHeld
	// StatusDead: every attempt of its round failed; Resend sends it again.
	StatusDead = store.HookDeliveryDead
)

// Delivery is one event's delivery to one integration.
type Delivery struct {
	ID        string `json:"id"`
	EventID   string `json:"eventId"`
	HookID    string `json:"hookId"`
	IssueID   string `json:"issueId"`
	EventType string `json:"eventType"`
	Title     string `json:"title"`
	Status    string `json:"status"`
	// Attempts counts every attempt; RoundAttempts those since the last
	// resend or resume, which the retry schedule counts.
	Attempts      int        `json:"attempts"`
	RoundAttempts int        `json:"roundAttempts"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	LastAttemptAt *time.Time `json:"lastAttemptAt,omitempty"`
	LastStatus    int        `json:"lastStatusCode,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
	// AttemptLog is filled by Delivery, and by Deliveries when its filter
	// asks for Attempts.
	AttemptLog []*Attempt `json:"attemptLog,omitempty"`
	// Payload is the body every attempt sent: the event, as it was
	// signed. Filled by Delivery.
	Payload string `json:"payload,omitempty"`
}

// Attempt is one HTTP attempt of a delivery.
type Attempt struct {
	ID         string    `json:"id"`
	StartedAt  time.Time `json:"startedAt"`
	LatencyMS  int64     `json:"latencyMs"`
	StatusCode int       `json:"statusCode,omitempty"`
	// Response is the first 4 KB of the answer (Config.MaxResponse), its
	// secrets masked, as text when it is UTF-8.
	Response  string `json:"response"`
	Truncated bool   `json:"responseTruncated,omitempty"`
	ErrorKind string `json:"errorKind,omitempty"`
	Error     string `json:"error,omitempty"`
	// Request is the request sent, secrets masked; nil for attempts made
	// before Vigil kept it.
	Request *Request `json:"request,omitempty"`
}

// DeliveryFilter selects deliveries; empty fields match everything.
type DeliveryFilter struct {
	// Hook is an integration id or name.
	Hook    string
	IssueID string
	EventID string
	Status  string
	// BeforeID pages to older deliveries; Limit defaults to 100, at most 1000.
	BeforeID string
	Limit    int
	// Attempts fills each delivery's AttemptLog, reading the attempts of
	// every delivery listed in one query.
	Attempts bool
}

func deliveryView(d *store.HookDelivery) *Delivery {
	v := &Delivery{ID: d.ID, EventID: d.EventID, HookID: d.HookID, IssueID: d.IssueID, EventType: d.EventType,
		Title: d.Title, Status: d.Status, Attempts: d.Attempts, RoundAttempts: d.RoundAttempts,
		LastAttemptAt: timePtr(d.LastAttemptAt), LastStatus: d.LastStatus, LastError: d.LastError,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if d.Status == store.HookDeliveryPending {
		v.NextAttemptAt = timePtr(d.NextAttemptAt)
	}
	return v
}

// Deliveries lists deliveries matching f, newest first.
func (s *Service) Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error) {
	if f.Status != "" && !slices.Contains([]string{StatusPending, StatusDelivered, StatusHeld, StatusDead}, f.Status) {
		return nil, invalid("status", fmt.Sprintf("%q is not a delivery status; use pending, delivered, held or dead.", f.Status))
	}
	sf := store.HookDeliveryFilter{IssueID: f.IssueID, EventID: f.EventID, Status: f.Status, BeforeID: f.BeforeID,
		Limit: min(max(f.Limit, 0), 1000)}
	if f.Hook != "" {
		h, err := s.hook(ctx, f.Hook)
		if err != nil {
			return nil, err
		}
		sf.HookID = h.ID
	}
	ds, err := s.st.HookDeliveries(ctx, sf)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	out := make([]*Delivery, 0, len(ds))
	byID := make(map[string]*Delivery, len(ds))
	for _, d := range ds {
		v := deliveryView(d)
		out = append(out, v)
		byID[d.ID] = v
	}
	if f.Attempts && len(ds) > 0 {
		as, err := s.st.HookAttempts(ctx, slices.Collect(maps.Keys(byID))...)
		if err != nil {
			return nil, fmt.Errorf("list the attempts of the deliveries: %w", err)
		}
		for _, v := range out {
			v.AttemptLog = []*Attempt{}
		}
		for _, a := range as {
			v := byID[a.DeliveryID]
			v.AttemptLog = append(v.AttemptLog, attemptView(a))
		}
	}
	return out, nil
}

// DeadLetters lists the dead-lettered deliveries of an integration (all
// integrations when hook is empty), newest first.
func (s *Service) DeadLetters(ctx context.Context, hook string) ([]*Delivery, error) {
	return s.Deliveries(ctx, DeliveryFilter{Hook: hook, Status: StatusDead, Limit: 1000})
}

// Delivery returns one delivery with its attempts.
func (s *Service) Delivery(ctx context.Context, deliveryID string) (*Delivery, error) {
	d, err := s.st.HookDelivery(ctx, deliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no delivery %q: %w", deliveryID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load delivery %s: %w", deliveryID, err)
	}
	as, err := s.st.HookAttempts(ctx, d.ID)
	if err != nil {
		return nil, fmt.Errorf("load the attempts of delivery %s: %w", deliveryID, err)
	}
	v := deliveryView(d)
	v.AttemptLog = make([]*Attempt, 0, len(as))
	for _, a := range as {
		v.AttemptLog = append(v.AttemptLog, attemptView(a))
	}
	payload, err := s.st.HookEventPayload(ctx, d.EventID)
	switch {
	case err == nil:
		v.Payload = payload
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("load the event of delivery %s: %w", deliveryID, err)
	}
	return v, nil
}

// attemptView is the stored attempt a as Delivery shows it.
func attemptView(a *store.HookAttempt) *Attempt {
	at := &Attempt{ID: a.ID, StartedAt: a.StartedAt, LatencyMS: a.LatencyMS,
		StatusCode: a.StatusCode, Response: printable(a.Response), Truncated: a.ResponseTruncated,
		ErrorKind: a.ErrorKind, Error: a.Error}
	if a.Request != "" {
		var r Request
		if json.Unmarshal([]byte(a.Request), &r) == nil {
			at.Request = &r
		}
	}
	return at
}

// printable shows a response body as text, or says it is binary.
func printable(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return fmt.Sprintf("(%d bytes of binary data)", len(b))
}

// Resend starts a new round of attempts for each delivery, whatever its
// state (dead-lettered, delivered, held): the same event, the same
// webhook-id. It is all or nothing, and returns how many it queued.
func (s *Service) Resend(ctx context.Context, deliveryIDs ...string) (int, error) {
	if s.queue == nil {
		return 0, ErrNoQueue
	}
	if len(deliveryIDs) == 0 {
		return 0, nil
	}
	now := s.now()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		for _, did := range deliveryIDs {
			ref, err := tx.ResendHookDelivery(ctx, did, now)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no delivery %q, or it is being attempted right now: %w", did, ErrNotFound)
			}
			if err != nil {
				return err
			}
			if err := s.requeue(ctx, tx, []store.HookJobRef{ref}, priorityNormal); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("resend: %w", err)
	}
	shown := deliveryIDs
	if len(shown) > 20 {
		shown = shown[:20]
	}
	s.audit.Record(ctx, audit.Entry{Action: "delivery.resend", Target: audit.Target{Kind: "delivery", ID: deliveryIDs[0]},
		Details: map[string]any{"count": len(deliveryIDs), "deliveries": shown}})
	return len(deliveryIDs), nil
}

// ResendDead resends every dead-lettered delivery of an integration (by id
// or name): the dead-letter list's "Resend all".
func (s *Service) ResendDead(ctx context.Context, hook string) (int, error) {
	total := 0
	for {
		ds, err := s.Deliveries(ctx, DeliveryFilter{Hook: hook, Status: StatusDead, Limit: 500})
		if err != nil || len(ds) == 0 {
			return total, err
		}
		ids := make([]string, len(ds))
		for i, d := range ds {
			ids[i] = d.ID
		}
		n, err := s.Resend(ctx, ids...)
		total += n
		if err != nil {
			return total, err
		}
	}
}

// Pause stops sending to an integration: its pending deliveries are held,
// and new events for it are stored held, until Resume.
func (s *Service) Pause(ctx context.Context, idOrName, reason string) error {
	h, err := s.hook(ctx, idOrName)
	if err != nil {
		return err
	}
	if reason == "" {
		reason = "Paused by a user."
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		return s.pauseTx(ctx, tx, h.ID, reason, s.now())
	})
	if err == nil {
		s.audit.Record(ctx, audit.Entry{Action: "hook.pause", Target: hookTarget(h), Details: map[string]any{"reason": reason}})
	}
	return err
}

// Resume makes a paused integration active again and queues what it holds
// (and what was pending when it was paused) in a new round of attempts, due
// now. It returns how many deliveries it queued; resuming an active
// integration does nothing.
func (s *Service) Resume(ctx context.Context, idOrName string) (int, error) {
	h, err := s.hook(ctx, idOrName)
	if err != nil {
		return 0, err
	}
	if h.State == StateActive {
		return 0, nil
	}
	if s.queue == nil {
		return 0, ErrNoQueue
	}
	now := s.now()
	var n int
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.ActivateHook(ctx, h.ID, now); err != nil {
			return err
		}
		tx.AfterCommit(s.hooksChanged)
		refs, err := tx.RequeueHookDeliveries(ctx, h.ID, now)
		if err != nil {
			return err
		}
		n = len(refs)
		return s.requeue(ctx, tx, refs, priorityNormal)
	})
	if err != nil {
		return 0, fmt.Errorf("resume integration %s: %w", h.Name, err)
	}
	s.audit.Record(ctx, audit.Entry{Action: "hook.resume", Target: hookTarget(h), Details: map[string]any{"requeued": n}})
	return n, nil
}
