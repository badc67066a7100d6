// Package source reads identity data from the systems a company runs (Okta,
// Microsoft Entra ID, Google Workspace, Salesforce, AWS, or a snapshot file)
// into Vigil's identity graph, and runs the posture scan: read, join, detect,
// reconcile issues.
//
// A configured source is a name, a kind, settings and sealed credentials. An
// adapter per kind ([Reader]) turns the vendor's API into graph accounts
// through the vendor client of internal/<vendor>, which pages, retries and
// honours rate limits; every request goes through the SSRF-guarded HTTP
// client the caller passes in.
//
// # Scans
//
// [Service.Scan] reads the sources asked for (all by default), builds one
// graph over every configured source — for the sources not read now, and
// for those whose read failed, from the accounts of their last successful
// read, which a scan stores — runs the detection catalog and reconciles
// issues in one transaction. Only the issues of the sources read
// successfully are created, updated or resolved; a source whose read failed
// changes nothing, and an issue that depends on it (a partially offboarded
// user, an orphaned account) is not resolved either. See docs/posture.md.
package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Kind is the kind of system a source reads.
type Kind string

// Source kinds.
const (
	KindOkta       Kind = "okta"
	KindEntra      Kind = "entra"
	KindGoogle     Kind = "google"
	KindSalesforce Kind = "salesforce"
	KindAWS        Kind = "aws"
	KindSnapshot   Kind = "snapshot"
)

// Kinds lists every kind, in the order a user interface offers them.
func Kinds() []Kind {
	return []Kind{KindOkta, KindEntra, KindGoogle, KindSalesforce, KindAWS, KindSnapshot}
}

// Valid reports whether k is one of [Kinds].
func (k Kind) Valid() bool {
	for _, v := range Kinds() {
		if k == v {
			return true
		}
	}
	return false
}

// Settings is the part of a source's configuration that is not secret.
// Which fields apply depends on the kind; see docs/posture.md.
type Settings struct {
	// URL is the Okta org URL, the Salesforce instance URL, the Google
	// Admin SDK base URL or the AWS IAM endpoint.
	URL string `json:"url,omitempty"`
	// Tenant is the Entra tenant (id or domain). For other kinds it
	// overrides the tenant name Vigil would derive (sourceProductTenant).
	Tenant string `json:"tenant,omitempty"`
	// ClientID is the Entra app, the Salesforce connected app or the Okta
	// OAuth service app.
	ClientID string `json:"clientId,omitempty"`
	// GraphURL and LoginURL are Entra's Microsoft Graph and identity
	// platform base URLs.
	GraphURL string `json:"graphUrl,omitempty"`
	LoginURL string `json:"loginUrl,omitempty"`
	// Subject is the Google admin the service account acts as.
	Subject string `json:"subject,omitempty"`
	// Customer is the Google customer id; default my_customer.
	Customer string `json:"customer,omitempty"`
	// APIVersion is the Salesforce REST API version, such as "62.0".
	APIVersion string `json:"apiVersion,omitempty"`
	// File is the snapshot file, or the AWS credential report CSV.
	File string `json:"file,omitempty"`
	// AccessKeyID and Region are the AWS credentials' key id and signing
	// region.
	AccessKeyID string `json:"accessKeyId,omitempty"`
	Region      string `json:"region,omitempty"`
	// Scopes and KeyID configure an Okta OAuth service app.
	Scopes []string `json:"scopes,omitempty"`
	KeyID  string   `json:"keyId,omitempty"`
}

// Credentials are a source's secrets. They are sealed with the master key
// at rest and never printed, logged or returned by List.
type Credentials struct {
	// Token is an Okta API token (SSWS).
	Token string `json:"token,omitempty"`
	// PrivateKey is an Okta OAuth service app's private key (PEM or JWK).
	PrivateKey string `json:"privateKey,omitempty"`
	// ClientSecret is the Entra or Salesforce client secret.
	ClientSecret string `json:"clientSecret,omitempty"`
	// ServiceAccountKey is a Google service account's JSON key file.
	ServiceAccountKey string `json:"serviceAccountKey,omitempty"`
	// SecretAccessKey and SessionToken go with Settings.AccessKeyID.
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	SessionToken    string `json:"sessionToken,omitempty"`
}

func (c Credentials) empty() bool { return c == Credentials{} }

// DefaultSchedule is how often a source is scanned unless told otherwise.
const DefaultSchedule = 24 * time.Hour

// Source is a configured source as List shows it: no secrets.
type Source struct {
	ID       string
	Name     string
	Kind     Kind
	Settings Settings
	// HasCredentials tells whether secrets are stored.
	HasCredentials bool
	Primary        bool
	// Schedule is the interval between scheduled scans; 0 means on demand
	// only.
	Schedule time.Duration
	// LastScanAt is when the last scan that read the source ended (or a
	// scheduled scan began); zero before the first.
	LastScanAt    time.Time
	LastScanOK    bool
	LastError     string
	LastAccounts  int
	LastSuccessAt time.Time
	CreatedAt     time.Time
}

// Config tunes a Service. The zero value of each field means its default.
type Config struct {
	// HTTPClient sends every request to vendor APIs. Callers pass the
	// SSRF-guarded client of internal/netguard. Required to scan vendor
	// sources.
	HTTPClient *http.Client
	// Detect holds the detection thresholds.
	Detect detect.Config
	// ReadTimeout bounds the read of one source. Default 30 minutes.
	ReadTimeout time.Duration
	// PageSize is the page size asked of the APIs that let the client
	// choose (Okta, Microsoft Graph); 0 means each API's maximum, which is
	// what scans want. Tests set small pages to exercise paging.
	PageSize int
	// Concurrency is how many per-user requests (Okta factors) a read makes
	// at once. Default 4.
	Concurrency int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Sleep waits between a vendor client's retries; default a timer.
	// Tests pass one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter spreads a vendor client's backoff; default vendorhttp's. The
	// AWS client's retries are the SDK's, which sleeps on the wall clock
	// whatever Sleep is, so a test passes one that returns 0.
	Jitter func(d time.Duration) time.Duration
	// Logger receives one line per scan and one per failed source.
	// Default: discard.
	Logger *slog.Logger
	// Allow is the outbound allowlist (--allow-outbound): a source URL may
	// use plain http, or name a loopback or private address, only when its
	// host is on it. Resolver resolves host names for that check; default
	// net.DefaultResolver.
	Allow    []netip.Prefix
	Resolver netguard.Resolver
	// FileDir is the only directory the files of snapshot sources and AWS
	// credential reports may be in, so that a source cannot be pointed at
	// any file the server can read (the master key). Empty means no file
	// can be read.
	FileDir string
	// ScanLease is how long a running scan's lease lasts; its worker
	// renews it every third of that while it works, so a scan whose lease
	// ran out was left by a node that died. Default 30 s.
	ScanLease time.Duration
}

// Service manages sources and runs scans. It is safe for concurrent use.
type Service struct {
	st     *store.Store
	box    *secret.Box
	issues *issue.Service
	cfg    Config
	queue  JobInserter
	// guard checks source URLs when they are saved; the HTTP client checks
	// them again at each connection.
	guard *netguard.Guard
	// audit records the changes people make to sources.
	audit *audit.Recorder
	// live is the progress of the scans running in this process.
	live live
}

// JobInserter inserts River jobs in a store transaction: the
// application's *queue.Queue, or a test's wrapper of one.
type JobInserter = queue.TxInserter

// SetQueue gives the service the queue it queues an interrupted scan
// again on. Without one, Recover only marks such scans failed.
func (s *Service) SetQueue(q JobInserter) { s.queue = q }

// New returns a Service. issues receives the findings of scans.
func New(st *store.Store, box *secret.Box, issues *issue.Service, cfg Config) *Service {
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 30 * time.Minute
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ScanLease <= 0 {
		cfg.ScanLease = 30 * time.Second
	}
	return &Service{st: st, box: box, issues: issues, cfg: cfg, guard: netguard.New(netguard.Config{Allow: cfg.Allow, Resolver: cfg.Resolver}),
		audit: audit.NewRecorder(st, cfg.Logger, cfg.Now)}
}

// sourceTarget is r as the audit log names it.
func sourceTarget(r *store.PostureSource) audit.Target {
	return audit.Target{Kind: "source", ID: r.ID, Name: r.Name}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// ErrNotFound is returned (wrapped) when no source has the given name.
var ErrNotFound = errors.New("source not found")

// ErrConflict matches (errors.Is) the *InvalidError of a name another
// source has, so that callers answering in HTTP terms can tell a taken
// name from other bad input.
var ErrConflict = errors.New("source name taken")

// InvalidError is a configuration a user typed that cannot work. Its
// message is one sentence for that user.
type InvalidError struct {
	// Field names the input at fault: "name", "url", "token", …
	Field   string
	Message string
	// conflict marks a name another source has.
	conflict bool
}

func (e *InvalidError) Error() string { return e.Message }

// Is makes a taken name match ErrConflict.
func (e *InvalidError) Is(target error) bool { return e.conflict && target == ErrConflict }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Input is a new source.
type Input struct {
	Name        string
	Kind        Kind
	Settings    Settings
	Credentials Credentials
	// Primary makes the source the primary identity provider, the one
	// whose accounts define people. The first Okta source is primary
	// unless another source is made so.
	Primary bool
	// Schedule is the interval between scheduled scans: 0 means
	// DefaultSchedule, negative means on demand only.
	Schedule time.Duration
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Add stores a new source, sealing its credentials. It checks the
// configuration (URLs, required fields, key files) without calling the
// vendor: the first scan does that.
func (s *Service) Add(ctx context.Context, in Input) (*Source, error) {
	in.Name = strings.TrimSpace(in.Name)
	if !nameRE.MatchString(in.Name) {
		return nil, invalid("name", "The source name %q must be 1 to 63 letters, digits, dots, dashes or underscores, starting with a letter or digit.", in.Name)
	}
	if !in.Kind.Valid() {
		return nil, invalid("kind", "The source kind %q is not one of okta, entra, google, salesforce, aws or snapshot.", in.Kind)
	}
	if in.Settings.File != "" {
		abs, err := filepath.Abs(in.Settings.File)
		if err != nil {
			return nil, invalid("file", "The path %s cannot be made absolute: %v.", in.Settings.File, err)
		}
		if in.Settings.File, err = s.localFile(abs); err != nil {
			return nil, err
		}
	}
	if err := s.check(in.Kind, in.Settings, in.Credentials); err != nil {
		return nil, err
	}
	if err := s.checkURLs(ctx, in.Settings); err != nil {
		return nil, err
	}
	settings, err := json.Marshal(in.Settings)
	if err != nil {
		return nil, fmt.Errorf("encode source settings: %w", err)
	}
	now := s.now()
	row := &store.PostureSource{ID: id.NewAt("src", now), Name: in.Name, Kind: string(in.Kind), SettingsJSON: string(settings),
		Enabled: true, CreatedAt: now, UpdatedAt: now}
	switch {
	case in.Schedule == 0:
		row.ScheduleSeconds = int64(DefaultSchedule / time.Second)
	case in.Schedule > 0:
		row.ScheduleSeconds = max(int64(in.Schedule/time.Second), 60)
	}
	if !in.Credentials.empty() {
		plain, err := json.Marshal(in.Credentials) //nolint:gosec // G117: encoded only to be sealed
		if err != nil {
			return nil, fmt.Errorf("encode source credentials: %w", err)
		}
		if row.CredentialsSealed, err = s.box.Seal(string(plain), purpose(row.ID)); err != nil {
			return nil, fmt.Errorf("seal source credentials: %w", err)
		}
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		all, err := tx.PostureSources(ctx)
		if err != nil {
			return err
		}
		hasPrimary := false
		for _, o := range all {
			hasPrimary = hasPrimary || o.Primary
		}
		if err := tx.CreatePostureSource(ctx, row); err != nil {
			return err
		}
		if err := s.audit.RecordTx(ctx, tx.Queries, audit.Entry{Action: "source.create", Target: sourceTarget(row),
			Details: map[string]any{"kind": row.Kind, "primary": in.Primary, "credentialsSet": !in.Credentials.empty()}}); err != nil {
			return err
		}
		if in.Primary || (!hasPrimary && in.Kind == KindOkta) {
			row.Primary = true
			return tx.SetPosturePrimary(ctx, row.ID, now)
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, &InvalidError{Field: "name", conflict: true,
			Message: fmt.Sprintf("A source named %q already exists; choose another name or remove it first.", in.Name)}
	}
	if err != nil {
		return nil, fmt.Errorf("add source %s: %w", in.Name, err)
	}
	return fromRow(row)
}

// purpose binds sealed credentials to their source, so a sealed value
// copied to another row does not open.
func purpose(sourceID string) string { return "posture-source:" + sourceID + ":credentials" }

func fromRow(r *store.PostureSource) (*Source, error) {
	src := &Source{ID: r.ID, Name: r.Name, Kind: Kind(r.Kind), HasCredentials: r.CredentialsSealed != "",
		Primary: r.Primary, Schedule: time.Duration(r.ScheduleSeconds) * time.Second, LastScanAt: r.LastScanAt,
		LastScanOK: r.LastScanOK, LastError: r.LastError, LastAccounts: r.LastAccounts, LastSuccessAt: r.LastSuccessAt,
		CreatedAt: r.CreatedAt}
	if err := json.Unmarshal([]byte(r.SettingsJSON), &src.Settings); err != nil {
		return nil, fmt.Errorf("source %s: decode its settings: %w", r.Name, err)
	}
	return src, nil
}

// List returns every source in the order they were added.
func (s *Service) List(ctx context.Context) ([]*Source, error) {
	rows, err := s.st.PostureSources(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	out := make([]*Source, 0, len(rows))
	for _, r := range rows {
		src, err := fromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, nil
}

// Get returns the source with the given name.
func (s *Service) Get(ctx context.Context, name string) (*Source, error) {
	r, err := s.row(ctx, s.st.Queries, name)
	if err != nil {
		return nil, err
	}
	return fromRow(r)
}

func (s *Service) row(ctx context.Context, q *store.Queries, name string) (*store.PostureSource, error) {
	r, err := q.PostureSourceByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no source is named %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read source %s: %w", name, err)
	}
	return r, nil
}

// Remove deletes a source and its stored accounts. Its open, snoozed and
// acknowledged issues are resolved in the same transaction (with their
// events); adding the source again later reopens them with the same ids.
// by is who removes it, for the issues' history.
func (s *Service) Remove(ctx context.Context, name, by string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.row(ctx, tx.Queries, name)
		if err != nil {
			return err
		}
		if s.issues != nil {
			if _, err := s.issues.ResolveSource(ctx, tx, r.ID, r.Name, issue.Note{By: by}); err != nil {
				return err
			}
		}
		if err := tx.DeletePostureSource(ctx, r.ID); err != nil {
			return fmt.Errorf("remove source %s: %w", name, err)
		}
		return s.audit.RecordTx(ctx, tx.Queries, audit.Entry{Action: "source.delete", Target: sourceTarget(r)})
	})
}

// SetPrimary makes the named source the primary identity provider: its
// accounts define people, and accounts elsewhere that match none of them
// are orphans.
func (s *Service) SetPrimary(ctx context.Context, name string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.row(ctx, tx.Queries, name)
		if err != nil {
			return err
		}
		if err := tx.SetPosturePrimary(ctx, r.ID, s.now()); err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, tx.Queries, audit.Entry{Action: "source.primary", Target: sourceTarget(r)})
	})
}

// SetSchedule sets the interval between scheduled scans of a source; 0
// means on demand only. Intervals under a minute are raised to a minute.
func (s *Service) SetSchedule(ctx context.Context, name string, every time.Duration) error {
	r, err := s.row(ctx, s.st.Queries, name)
	if err != nil {
		return err
	}
	secs := int64(0)
	if every > 0 {
		secs = max(int64(every/time.Second), 60)
	}
	if err := s.st.UpdatePostureSchedule(ctx, r.ID, secs, true, s.now()); err != nil {
		return err
	}
	s.audit.Record(ctx, audit.Entry{Action: "source.schedule", Target: sourceTarget(r), Details: map[string]any{"everySeconds": secs}})
	return nil
}

// credentials opens a source's sealed secrets.
func (s *Service) credentials(r *store.PostureSource) (Credentials, error) {
	var c Credentials
	if r.CredentialsSealed == "" {
		return c, nil
	}
	plain, err := s.box.Open(r.CredentialsSealed, purpose(r.ID))
	if err != nil {
		return c, fmt.Errorf("the credentials of source %s cannot be opened with this master key: %w", r.Name, err)
	}
	if err := json.Unmarshal([]byte(plain), &c); err != nil {
		return c, fmt.Errorf("the credentials of source %s are corrupt", r.Name)
	}
	return c, nil
}
