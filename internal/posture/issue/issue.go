// Package issue keeps the posture issues: one per finding fingerprint
// (detection title + affected entity), with a lifecycle that follows the
// scans and the admins' decisions, every transition recorded, and an issue
// event written to the outbox in the same transaction as each change.
//
// # Lifecycle
//
//   - open: a scan found it and nobody has set it aside.
//   - resolved: a completed scan of the issue's source no longer found it.
//     Found again, it reopens with the same id.
//   - snoozed until a date: hidden until then; when the date passes it
//     reopens if it is still present (a periodic check, [Service.WakeSnoozed]).
//   - acknowledged: hidden for as long as it is present; resolved when a
//     scan no longer finds it.
//   - false_positive: never reopens, whatever scans find, unless an admin
//     reverts it ([Service.Reopen]).
//
// A scan resolves an issue only when every source the finding depends on
// was read successfully or still has the data of its last successful read
// (see [Scan.Unavailable]); a failed read never resolves anything.
//
// # Events
//
// A new issue sends issue.created; an issue that becomes resolved sends
// issue.resolved; every other change of status (reopened, snoozed,
// acknowledged, marked false positive, reverted, snooze ended) sends
// issue.updated. A rescan that finds an issue again without a change of
// status sends nothing: the stored details are refreshed silently, so
// receivers are not flooded with daily "unused for 92 days" updates.
package issue

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Status is where an issue is in its lifecycle. The values are the
// eventData.status strings of issue events.
type Status string

// Issue statuses.
const (
	StatusOpen          Status = "open"
	StatusResolved      Status = "resolved"
	StatusSnoozed       Status = "snoozed"
	StatusAcknowledged  Status = "acknowledged"
	StatusFalsePositive Status = "false_positive"
)

// Statuses lists every status, in the order a user interface offers them.
func Statuses() []Status {
	return []Status{StatusOpen, StatusSnoozed, StatusAcknowledged, StatusFalsePositive, StatusResolved}
}

// Valid reports whether s is one of [Statuses].
func (s Status) Valid() bool {
	switch s {
	case StatusOpen, StatusResolved, StatusSnoozed, StatusAcknowledged, StatusFalsePositive:
		return true
	}
	return false
}

// ParseStatus reads a status as a user types it ("false-positive" and
// "false positive" are accepted too).
func ParseStatus(s string) (Status, error) {
	switch s {
	case "false-positive", "false positive", "falsepositive":
		s = string(StatusFalsePositive)
	}
	st := Status(s)
	if !st.Valid() {
		return "", fmt.Errorf("%q is not an issue status; use open, snoozed, acknowledged, false_positive or resolved", s)
	}
	return st, nil
}

// Actions recorded in an issue's history.
const (
	ActionCreated       = "created"
	ActionReopened      = "reopened"
	ActionResolved      = "resolved"
	ActionSnoozed       = "snoozed"
	ActionSnoozeEnded   = "snooze_ended"
	ActionAcknowledged  = "acknowledged"
	ActionFalsePositive = "marked_false_positive"
	ActionReverted      = "reverted"
)

// Actors that are not users.
const (
	// ByScan is the actor of changes a scan makes.
	ByScan = "scan"
	// BySystem is the actor of changes Vigil makes on its own, such as the
	// end of a snooze or the removal of a source.
	BySystem = "system"
)

// Issue is an issue with its lifecycle state.
type Issue struct {
	ID          string
	Fingerprint string
	Status      Status
	// Present tells whether the last completed scan of the issue's source
	// found it. A false positive or resolved issue may be present or not.
	Present bool
	// SnoozedUntil is set while the issue is snoozed.
	SnoozedUntil time.Time
	// SourceID is the configured source the issue came from; Scope is the
	// part of it (the source's name, or name/inner for a snapshot holding
	// several sources).
	SourceID string
	Scope    string
	// Deps are the scopes the finding depends on, Scope first.
	Deps            []string
	FirstDetectedAt time.Time
	// DetectedAt is when the current occurrence began: creation, or the
	// latest reopening.
	DetectedAt time.Time
	LastSeenAt time.Time
	ResolvedAt time.Time
	UpdatedAt  time.Time
	// Data is the issue as its events carry it (eventData), with id,
	// status, link and detectedAt filled in.
	Data event.Issue
	// History is filled by [Service.Get] only, oldest first.
	History []Change
}

// Change is one transition of an issue.
type Change struct {
	At time.Time
	// By is a user name, [ByScan] or [BySystem].
	By     string
	Action string
	From   Status
	To     Status
	Reason string
	// ScanID is the scan that made the change, if a scan did.
	ScanID string
}

// Note says who makes a change and why; both are kept in the history.
type Note struct {
	By  string
	Why string
}

// severityRank orders severities for sorting: Critical first.
func severityRank(s string) int {
	switch detect.Severity(s) {
	case detect.SeverityCritical:
		return 4
	case detect.SeverityHigh:
		return 3
	case detect.SeverityMedium:
		return 2
	case detect.SeverityLow:
		return 1
	}
	return 0
}

var entityEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// EntityID is Vigil's id for an affected entity (affectedEntity.id): a
// prefix by type ("acc_", "usr_", "ten_") and 26 characters derived from
// the entity key, so that the same account keeps the same id across scans
// and restarts without a table of entities.
func EntityID(typ detect.EntityType, key string) string {
	prefix := "acc_"
	switch typ {
	case detect.EntityUser:
		prefix = "usr_"
	case detect.EntityTenant:
		prefix = "ten_"
	}
	sum := sha256.Sum256([]byte(key))
	return prefix + entityEncoding.EncodeToString(sum[:16])
}

// eventData turns a finding into the stored form of its eventData: every
// field but id, status, link and detectedAt, which the issue owns.
func eventData(f *detect.Finding) event.Issue {
	e := &f.Entity
	ad := e.AdditionalData
	types := make([]event.PrivilegeType, len(ad.Types))
	for i, t := range ad.Types {
		types[i] = event.PrivilegeType{Type: t.Type, Reasons: nonNil(t.Reasons)}
	}
	tokens := make([]event.Token, len(ad.UnrotatedTokens))
	for i, t := range ad.UnrotatedTokens {
		tokens[i] = event.Token{ID: t.ID, Name: t.Name, Kind: string(t.Type), CreatedAt: t.Created,
			LastUsedAt: t.LastUsed, LastRotated: t.LastRotated}
	}
	accounts := make([]event.Account, len(ad.ActiveAccounts))
	for i, a := range ad.ActiveAccounts {
		accounts[i] = event.Account{IDInService: a.IDInService, IdentifierInService: a.IdentifierInService,
			SourceProductName: string(a.SourceProductName), SourceProductTenant: a.SourceProductTenant, Status: string(a.Status)}
	}
	return event.Issue{
		Category:             string(f.Category),
		Severity:             string(f.Severity),
		Title:                f.Title,
		ShortDescription:     f.ShortDescription,
		FullDescription:      f.FullDescription,
		SuggestedRemediation: f.SuggestedRemediation,
		RiskAndImpact:        f.RiskAndImpact,
		AffectedEntity: event.AffectedEntity{
			ID:                  EntityID(e.Type, e.Key),
			Type:                string(e.Type),
			DisplayName:         e.DisplayName,
			IDInService:         e.IDInService,
			IdentifierInService: e.IdentifierInService,
			SourceProductName:   string(e.SourceProductName),
			SourceProductTenant: e.SourceProductTenant,
			AdditionalData: event.AdditionalData{
				Username:        ad.Username,
				Types:           types,
				LastLogin:       ad.LastLogin,
				UnrotatedTokens: tokens,
				ActiveAccounts:  accounts,
			},
		},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// encodeData returns the JSON of stored eventData and its SHA-256.
func encodeData(d *event.Issue) (string, string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", "", fmt.Errorf("encode issue data: %w", err)
	}
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:]), nil
}

// fromRow turns a stored row into an Issue, with eventData complete.
func (s *Service) fromRow(ctx context.Context, r *store.PostureIssue) (*Issue, error) {
	is := &Issue{
		ID: r.ID, Fingerprint: r.Fingerprint, Status: Status(r.Status), Present: r.Present,
		SnoozedUntil: r.SnoozedUntil, SourceID: r.SourceID, Scope: r.Scope,
		FirstDetectedAt: r.FirstDetectedAt, DetectedAt: r.DetectedAt, LastSeenAt: r.LastSeenAt,
		ResolvedAt: r.ResolvedAt, UpdatedAt: r.UpdatedAt,
	}
	if err := json.Unmarshal([]byte(r.DepsJSON), &is.Deps); err != nil {
		return nil, fmt.Errorf("issue %s: decode its sources: %w", r.ID, err)
	}
	d, err := s.data(ctx, r)
	if err != nil {
		return nil, err
	}
	is.Data = d
	return is, nil
}

// data returns the complete eventData of a row as it stands.
func (s *Service) data(ctx context.Context, r *store.PostureIssue) (event.Issue, error) {
	return dataUnder(s.publicURL(ctx), r)
}

// dataUnder is data with the issue's link under the public URL base.
func dataUnder(base string, r *store.PostureIssue) (event.Issue, error) {
	var d event.Issue
	if err := json.Unmarshal([]byte(r.DataJSON), &d); err != nil {
		return d, fmt.Errorf("issue %s: decode its data: %w", r.ID, err)
	}
	d.ID = r.ID
	d.Status = r.Status
	d.DetectedAt = r.DetectedAt
	d.Link = link(base, r.ID)
	return d, nil
}

// publicURL is the public URL as it is now.
func (s *Service) publicURL(ctx context.Context) string {
	if s.cfg.PublicURLSetting != nil {
		return s.cfg.PublicURLSetting(ctx)
	}
	return s.cfg.PublicURL
}

// link is the console URL of an issue under the public URL base.
func link(base, id string) string {
	if base == "" {
		return ""
	}
	return base + "/ispm/issues/" + id
}
