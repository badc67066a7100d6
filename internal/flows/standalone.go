package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// NewCatalog returns a catalog with the built-in functions: the tables
// functions working on tables, execution.setResult, and approval.request,
// which in a standalone run faults (no one could answer it).
func NewCatalog(tables catalog.Store) *catalog.Catalog {
	return NewCatalogApprovals(tables, &catalog.MemoryApprovals{})
}

// NewCatalogApprovals is NewCatalog with approval.request answered by
// approvals.
func NewCatalogApprovals(tables catalog.Store, approvals catalog.Approvals) *catalog.Catalog {
	c := catalog.New()
	if err := catalog.RegisterApproval(c, approvals); err != nil {
		panic(err)
	}
	if err := catalog.RegisterTables(c, tables); err != nil {
		panic(err) // the built-in names are fixed and valid
	}
	if err := catalog.RegisterExecution(c); err != nil {
		panic(err)
	}
	return c
}

// StandaloneConfig configures RunStandalone. Zero values mean defaults.
type StandaloneConfig struct {
	// HTTPClient sends the flow's HTTP requests; it must be the
	// SSRF-guarded client. Without one, HTTP calls fault.
	HTTPClient *http.Client
	// Helpers holds the helper flows the flow may run and the schemas of
	// the tables it uses.
	Helpers *Bundle
	// Tables holds the tables, in memory. Default: empty; tables the
	// helpers bundle declares are created, others are made on first use.
	Tables *catalog.MemoryTables
	// Catalog defaults to NewCatalog(Tables).
	Catalog *catalog.Catalog
	Secrets engine.SecretSource
	Limits  engine.Limits
	Clock   engine.Clock
	Logger  *slog.Logger
}

// RunStandalone runs a flow document once, in memory, without a database
// or a data directory (vigil flows run). Helper flows started without
// waiting run to completion before it returns (Result.Children). A fault
// is returned as a *engine.Fault.
func RunStandalone(ctx context.Context, doc []byte, input any, cfg StandaloneConfig) (*engine.Result, error) {
	w, err := dsl.Parse(doc)
	if err != nil {
		return nil, invalid(err)
	}
	if cfg.Tables == nil {
		cfg.Tables = catalog.NewMemoryTables(nil)
	}
	helpers, err := parseHelpers(cfg.Helpers)
	if err != nil {
		return nil, err
	}
	if cfg.Helpers != nil {
		for _, t := range cfg.Helpers.Tables {
			if err := cfg.Tables.Create("", t.Name, t.Columns); err != nil {
				return nil, invalid(err)
			}
		}
	}
	if cfg.Catalog == nil {
		cfg.Catalog = NewCatalog(cfg.Tables)
	}
	eng := engine.New(engine.Config{
		HTTPClient: cfg.HTTPClient,
		Catalog:    cfg.Catalog,
		Flows:      staticResolver(helpers),
		Secrets:    cfg.Secrets,
		Clock:      cfg.Clock,
		Limits:     cfg.Limits,
		Logger:     cfg.Logger,
	})
	// Helper flows are checked when called: a run may well not reach
	// one that was not given.
	if err := engine.New(engine.Config{Catalog: cfg.Catalog}).Check(ctx, w); err != nil {
		return nil, invalid(err)
	}
	return eng.Run(ctx, w, input, engine.RunOptions{})
}

func parseHelpers(b *Bundle) ([]*dsl.Workflow, error) {
	if b == nil {
		return nil, nil
	}
	var out []*dsl.Workflow
	var probs []error
	for _, f := range b.Flows {
		w, err := dsl.Parse(f.Document)
		if err != nil {
			probs = append(probs, fmt.Errorf("%s: %w", f.Source, err))
			continue
		}
		out = append(out, w)
	}
	if len(probs) > 0 {
		return nil, invalid(errors.Join(probs...))
	}
	return out, nil
}

// staticResolver finds helper flows among a fixed set of documents.
type staticResolver []*dsl.Workflow

// Resolve finds ref among the fixed documents.
func (r staticResolver) Resolve(_ context.Context, ref engine.FlowRef) (*dsl.Workflow, error) {
	var other string
	for _, w := range r {
		if refMatches(w.Document, ref) {
			return w, nil
		}
		if w.Document.Namespace == ref.Namespace && w.Document.Name == ref.Name {
			other = w.Document.Version
		}
	}
	if other != "" {
		return nil, fmt.Errorf("only version %s was given", other)
	}
	return nil, errors.New("it is not among the helper flows given (--helpers)")
}

// Validation is what Validate found in one document.
type Validation struct {
	Workflow *dsl.Workflow
	// Warnings are problems that do not make the document invalid, such
	// as a helper flow that is not among the documents validated.
	Warnings []string
}

// Validate checks a flow document as a save would: the DSL, catalog
// functions and their arguments. Helper flows are looked up among others
// (the other documents validated together); one not found is a warning,
// since it may already be in the folder the flow is imported into.
func Validate(ctx context.Context, doc []byte, cat *catalog.Catalog, others []*dsl.Workflow) (*Validation, error) {
	w, err := dsl.Parse(doc)
	if err != nil {
		return nil, invalid(err)
	}
	if err := engine.New(engine.Config{Catalog: cat}).Check(ctx, w); err != nil {
		return nil, invalid(err)
	}
	v := &Validation{Workflow: w}
	refs := helperRefs(w)
	paths := make([]string, 0, len(refs))
	for p := range refs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		ref := refs[p]
		if _, err := staticResolver(append(others, w)).Resolve(ctx, ref); err != nil {
			v.Warnings = append(v.Warnings, fmt.Sprintf("%s.run.workflow: helper flow %s/%s is not among the documents given; "+
				"it must be in the same folder, and on, when the flow runs", p, ref.Namespace, ref.Name))
		}
	}
	return v, nil
}
