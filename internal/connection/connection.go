// Package connection keeps the vendor accounts that connector actions act
// through: what Okta Workflows calls the environments a flow is connected
// to. A connection has a kind (okta, entra, google, salesforce, slack, jira,
// http), a name flows find it by, the fields of its kind's form with the
// secret ones sealed at rest, and a dry-run switch.
//
// Secrets never leave this package in clear except through Resolve, which
// the connector actions call to build a vendor client; lists, forms, errors
// and test results show them masked or not at all. Test makes one harmless
// read call and says in one sentence what happened.
package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/store"
)

// ErrNotFound is matched (errors.Is) by the error of a lookup of a
// connection that does not exist.
var ErrNotFound = errors.New("connection not found")

// ErrConflict is matched by the error of a create or rename to a name that
// another connection has.
var ErrConflict = errors.New("connection name taken")

// InvalidError is an input that cannot be saved. Its message is one
// sentence for the user; Field names the form field at fault.
type InvalidError = input.InvalidError

func invalid(field, msg string) error { return &InvalidError{Field: field, Message: msg} }

// notFound is the error of a lookup by name.
type notFound struct{ name string }

func (e *notFound) Error() string {
	return fmt.Sprintf("connection %q does not exist; add it under Connections or with vigil connections add", e.name)
}

// Is makes errors.Is(err, ErrNotFound) true for every named not-found error.
func (e *notFound) Is(target error) bool { return target == ErrNotFound }

// Limits on what a user may type.
const (
	maxNameLen  = 100
	maxFieldLen = 16 << 10
)

// Resolver resolves host names, to tell whether a host is on the outbound
// allowlist. *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config tunes a Service. Zero values mean the default named on each field.
type Config struct {
	// Client sends the Test connection requests. It should be the
	// SSRF-guarded client of internal/netguard. Required for Test.
	Client *http.Client
	// Allow is the outbound allowlist (--allow-outbound): a URL field may
	// use plain http only when its host's addresses are all on it.
	Allow []netip.Prefix
	// Resolver resolves hosts for the allowlist check. Default
	// net.DefaultResolver.
	Resolver Resolver
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Sleep waits between retries of the vendor clients. Default a timer;
	// tests pass one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// TestTimeout bounds one Test connection. Default 30 s.
	TestTimeout time.Duration
	// Logger receives one line per test. Default discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.TestTimeout <= 0 {
		c.TestTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Service manages connections. It is safe for concurrent use.
type Service struct {
	st  *store.Store
	box *secret.Box
	cfg Config
	// guard checks URL fields when they are saved; the client checks them
	// again at each connection.
	guard *netguard.Guard
	// audit records the changes people make to connections.
	audit *audit.Recorder
}

// New returns a Service over st, sealing secrets with box.
func New(st *store.Store, box *secret.Box, cfg Config) *Service {
	cfg = cfg.withDefaults()
	return &Service{st: st, box: box, cfg: cfg, guard: netguard.New(netguard.Config{Allow: cfg.Allow, Resolver: cfg.Resolver}),
		audit: audit.NewRecorder(st, cfg.Logger, cfg.Now)}
}

// connTarget is c as the audit log names it.
func connTarget(c *store.Connection) audit.Target {
	return audit.Target{Kind: "connection", ID: c.ID, Name: c.Name}
}

// changedFields names the fields of t whose values differ between before
// and after, for the audit log: a secret field is named, never its value.
func changedFields(t Type, before, after map[string]string) []string {
	var out []string
	for _, f := range t.Fields {
		if before[f.Name] != after[f.Name] {
			out = append(out, f.Name)
		}
	}
	return out
}

// Input is what a user sets on a connection: the console's form, the API's
// body, the CLI's flags.
type Input struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Fields holds the values of the kind's fields by name, secret ones in
	// clear. On Update, a secret field left empty keeps its saved value.
	Fields map[string]string `json:"fields"`
	// DryRun makes every action through the connection record the request
	// it would send instead of sending it.
	DryRun bool `json:"dryRun"`
}

// TestResult is the outcome of Test connection.
type TestResult struct {
	OK bool `json:"ok"`
	// Message is one sentence saying what happened.
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Connection is a saved connection as shown to users: secret fields are
// masked, never in clear.
type Connection struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Settings holds the non-secret fields.
	Settings map[string]string `json:"settings"`
	// Secrets holds the secret fields that are set, masked.
	Secrets   map[string]string `json:"secrets"`
	DryRun    bool              `json:"dryRun"`
	LastTest  *TestResult       `json:"lastTest,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
	UpdatedAt time.Time         `json:"updatedAt"`
}

func purpose(connID string) string { return "connection:" + connID + ":credentials" }

// Create validates in and saves a new connection.
func (s *Service) Create(ctx context.Context, in Input) (*Connection, error) {
	t, vals, err := s.check(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	c := &store.Connection{ID: id.NewAt("con", now), Name: strings.TrimSpace(in.Name), Kind: t.Kind, DryRun: in.DryRun,
		CreatedAt: now, UpdatedAt: now}
	if err := s.save(ctx, c, t, vals, s.st.CreateConnection, "choose another name or remove it first"); err != nil {
		return nil, err
	}
	s.audit.Record(ctx, audit.Entry{Action: "connection.create", Target: connTarget(c),
		Details: map[string]any{"kind": c.Kind, "dryRun": c.DryRun, "fieldsSet": changedFields(t, nil, vals)}})
	return s.view(c, t, vals), nil
}

// Update replaces the name, fields and dry-run switch of the connection
// named nameOrID. Its kind cannot change; secret fields left empty keep
// their saved values.
func (s *Service) Update(ctx context.Context, nameOrID string, in Input) (*Connection, error) {
	c, err := s.lookup(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	if in.Kind == "" {
		in.Kind = c.Kind
	}
	if in.Kind != c.Kind {
		return nil, invalid("kind", fmt.Sprintf("The connection %q is a %s connection; its kind cannot change. Add a new connection instead.", c.Name, c.Kind))
	}
	saved, err := s.open(c)
	if err != nil {
		return nil, err
	}
	t, vals, err := s.check(ctx, in, saved)
	if err != nil {
		return nil, err
	}
	changed := changedFields(t, saved, vals)
	if name := strings.TrimSpace(in.Name); name != c.Name {
		changed = append(changed, "name")
	}
	if in.DryRun != c.DryRun {
		changed = append(changed, "dryRun")
	}
	c.Name = strings.TrimSpace(in.Name)
	c.DryRun = in.DryRun
	c.UpdatedAt = s.cfg.Now()
	if err := s.save(ctx, c, t, vals, s.st.UpdateConnection, "choose another name"); err != nil {
		return nil, err
	}
	s.audit.Record(ctx, audit.Entry{Action: "connection.update", Target: connTarget(c), Details: audit.Changed(changed...)})
	return s.view(c, t, vals), nil
}

// save seals vals into c and writes c with write, the store's create or
// update. A name another connection has is ErrConflict, with hint saying
// what to do about it.
func (s *Service) save(ctx context.Context, c *store.Connection, t Type, vals map[string]string,
	write func(context.Context, *store.Connection) error, hint string) error {
	if err := s.seal(c, t, vals); err != nil {
		return err
	}
	if err := write(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: a connection named %q already exists; %s", ErrConflict, c.Name, hint)
		}
		return fmt.Errorf("save connection %q: %w", c.Name, err)
	}
	return nil
}

// SetDryRun turns the dry-run switch of a connection on or off.
func (s *Service) SetDryRun(ctx context.Context, nameOrID string, on bool) (*Connection, error) {
	c, vals, err := s.lookupOpen(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	c.DryRun = on
	c.UpdatedAt = s.cfg.Now()
	if err := s.st.UpdateConnection(ctx, c); err != nil {
		return nil, fmt.Errorf("save connection %q: %w", c.Name, err)
	}
	s.audit.Record(ctx, audit.Entry{Action: "connection.dryrun", Target: connTarget(c), Details: map[string]any{"dryRun": on}})
	t, _ := TypeOf(c.Kind)
	return s.view(c, t, vals), nil
}

// List returns every connection by name, secrets masked.
func (s *Service) List(ctx context.Context) ([]*Connection, error) {
	rows, err := s.st.Connections(ctx)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	out := make([]*Connection, 0, len(rows))
	for _, c := range rows {
		vals, err := s.open(c)
		if err != nil {
			return nil, err
		}
		t, _ := TypeOf(c.Kind)
		out = append(out, s.view(c, t, vals))
	}
	return out, nil
}

// Get returns the connection with that name (compared without case) or id,
// secrets masked.
func (s *Service) Get(ctx context.Context, nameOrID string) (*Connection, error) {
	c, vals, err := s.lookupOpen(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	t, _ := TypeOf(c.Kind)
	return s.view(c, t, vals), nil
}

// Exists tells whether a connection has that name. Flows use it before
// they are turned on.
func (s *Service) Exists(ctx context.Context, name string) (bool, error) {
	_, err := s.st.ConnectionByName(ctx, name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("look up connection %q: %w", name, err)
}

// Delete removes the connection. Flows that use it can no longer be
// turned on, and running ones fail with a clear error at the action.
func (s *Service) Delete(ctx context.Context, nameOrID string) error {
	c, err := s.lookup(ctx, nameOrID)
	if err != nil {
		return err
	}
	if err := s.st.DeleteConnection(ctx, c.ID); err != nil {
		return fmt.Errorf("remove connection %q: %w", c.Name, err)
	}
	s.audit.Record(ctx, audit.Entry{Action: "connection.delete", Target: connTarget(c)})
	return nil
}

// Resolved is a connection with its secrets in clear, for the connector
// actions that build vendor clients from it. It must not be logged, stored
// or shown.
type Resolved struct {
	ID     string
	Name   string
	Kind   string
	DryRun bool
	values map[string]string
	cfg    Config
}

// Get returns the value of a field, its default when unset.
func (r *Resolved) Get(field string) string { return r.values[field] }

// Secrets returns the values of the secret fields that are set, so that a
// dry run can mask them wherever they appear in a request.
func (r *Resolved) Secrets() []string {
	t, _ := TypeOf(r.Kind)
	var out []string
	for _, f := range t.Fields {
		if f.Secret && r.values[f.Name] != "" {
			out = append(out, r.values[f.Name])
		}
	}
	return out
}

// Resolve returns the connection named name (compared without case) with
// its secrets, or an error matching ErrNotFound that names it.
func (s *Service) Resolve(ctx context.Context, name string) (*Resolved, error) {
	c, err := s.st.ConnectionByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &notFound{name: name}
	}
	if err != nil {
		return nil, fmt.Errorf("look up connection %q: %w", name, err)
	}
	vals, err := s.open(c)
	if err != nil {
		return nil, err
	}
	return &Resolved{ID: c.ID, Name: c.Name, Kind: c.Kind, DryRun: c.DryRun, values: vals, cfg: s.cfg}, nil
}

// lookupOpen is lookup with the connection's fields opened.
func (s *Service) lookupOpen(ctx context.Context, nameOrID string) (*store.Connection, map[string]string, error) {
	c, err := s.lookup(ctx, nameOrID)
	if err != nil {
		return nil, nil, err
	}
	vals, err := s.open(c)
	if err != nil {
		return nil, nil, err
	}
	return c, vals, nil
}

func (s *Service) lookup(ctx context.Context, nameOrID string) (*store.Connection, error) {
	c, err := s.st.ConnectionByName(ctx, nameOrID)
	if errors.Is(err, store.ErrNotFound) && strings.HasPrefix(nameOrID, "con_") {
		c, err = s.st.ConnectionByID(ctx, nameOrID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, &notFound{name: nameOrID}
	}
	if err != nil {
		return nil, fmt.Errorf("look up connection %q: %w", nameOrID, err)
	}
	return c, nil
}

// check validates in against its kind's form. saved holds the values of
// the connection being edited, whose secrets are kept when left empty.
// It returns the complete values, defaults filled in.
func (s *Service) check(ctx context.Context, in Input, saved map[string]string) (Type, map[string]string, error) {
	t, ok := TypeOf(in.Kind)
	if !ok {
		return Type{}, nil, invalid("kind", fmt.Sprintf("Unknown connection type %q; use one of %s.", in.Kind, kindNames()))
	}
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return t, nil, invalid("name", "The connection needs a name.")
	case len(name) > maxNameLen:
		return t, nil, invalid("name", fmt.Sprintf("The connection name is longer than %d characters.", maxNameLen))
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return t, nil, invalid("name", "The connection name contains control characters.")
	case strings.HasPrefix(name, "con_"):
		return t, nil, invalid("name", "A connection name may not start with con_, which is how ids start.")
	}
	for k := range in.Fields {
		if _, ok := t.Field(k); !ok {
			return t, nil, invalid(k, fmt.Sprintf("A %s connection has no field %q.", t.Kind, k))
		}
	}
	vals := map[string]string{}
	var kept []Field // secret fields that keep their saved value
	for _, f := range t.Fields {
		v := strings.TrimSpace(in.Fields[f.Name])
		if v == "" && f.Secret && saved != nil && saved[f.Name] != "" {
			v = saved[f.Name]
			kept = append(kept, f)
		}
		if v == "" {
			v = f.Default
		}
		if len(v) > maxFieldLen {
			return t, nil, invalid(f.Name, fmt.Sprintf("The field %s is longer than %d bytes.", f.Label, maxFieldLen))
		}
		if v == "" && f.Required {
			return t, nil, invalid(f.Name, fmt.Sprintf("A %s connection needs the field %s (%s).", t.Title, f.Label, f.Name))
		}
		if len(f.Options) > 0 && v != "" && !slices.Contains(f.Options, v) {
			return t, nil, invalid(f.Name, fmt.Sprintf("The field %s must be one of %s.", f.Name, strings.Join(f.Options, ", ")))
		}
		if v != "" {
			vals[f.Name] = v
		}
	}
	for _, f := range t.Fields {
		if f.URL && vals[f.Name] != "" {
			u, err := s.checkURL(ctx, f, vals[f.Name])
			if err != nil {
				return t, nil, err
			}
			vals[f.Name] = u
		}
	}
	// A saved secret goes only to the origin it went to before: another
	// host needs the secrets again, so that whoever may edit a connection cannot send
	// its stored token to a host of their choosing.
	for _, f := range t.Fields {
		if f.URL && saved[f.Name] != "" && !netguard.SameOrigin(vals[f.Name], saved[f.Name]) && len(kept) > 0 {
			return t, nil, invalid(kept[0].Name, fmt.Sprintf("The %s moved to another host, so the %s must be given again: a saved secret is never sent to a new host.",
				f.Label, kept[0].Label))
		}
	}
	if err := t.check(vals); err != nil {
		return t, nil, err
	}
	return t, vals, nil
}

// seal splits vals into the row's settings and sealed credentials.
func (s *Service) seal(c *store.Connection, t Type, vals map[string]string) error {
	settings, secrets := map[string]string{}, map[string]string{}
	for _, f := range t.Fields {
		if v, ok := vals[f.Name]; ok {
			if f.Secret {
				secrets[f.Name] = v
			} else {
				settings[f.Name] = v
			}
		}
	}
	b, err := json.Marshal(settings)
	if err != nil {
		return err
	}
	c.SettingsJSON = string(b)
	c.CredentialsSealed = ""
	if len(secrets) > 0 {
		b, err := json.Marshal(secrets)
		if err != nil {
			return err
		}
		if c.CredentialsSealed, err = s.box.Seal(string(b), purpose(c.ID)); err != nil {
			return fmt.Errorf("seal the credentials of connection %q: %w", c.Name, err)
		}
	}
	return nil
}

// open returns every field value of a stored connection, secrets in clear.
func (s *Service) open(c *store.Connection) (map[string]string, error) {
	vals := map[string]string{}
	if err := json.Unmarshal([]byte(c.SettingsJSON), &vals); err != nil {
		return nil, fmt.Errorf("read the settings of connection %q: %w", c.Name, err)
	}
	if c.CredentialsSealed != "" {
		plain, err := s.box.Open(c.CredentialsSealed, purpose(c.ID))
		if err != nil {
			return nil, fmt.Errorf("open the credentials of connection %q: %w", c.Name, err)
		}
		secrets := map[string]string{}
		if err := json.Unmarshal([]byte(plain), &secrets); err != nil {
			return nil, fmt.Errorf("read the credentials of connection %q: the sealed value is not JSON", c.Name)
		}
		maps.Copy(vals, secrets)
	}
	return vals, nil
}

func (s *Service) view(c *store.Connection, t Type, vals map[string]string) *Connection {
	out := &Connection{ID: c.ID, Name: c.Name, Kind: c.Kind, Settings: map[string]string{}, Secrets: map[string]string{},
		DryRun: c.DryRun, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	for _, f := range t.Fields {
		v, ok := vals[f.Name]
		switch {
		case !ok:
		case f.Secret:
			out.Secrets[f.Name] = secret.Mask(v)
		default:
			out.Settings[f.Name] = v
		}
	}
	if !c.LastTestAt.IsZero() {
		out.LastTest = &TestResult{OK: c.LastTestOK, Message: c.LastTestMessage, At: c.LastTestAt}
	}
	return out
}
