package flows

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/store"
)

// versionKey names one version of one flow.
type versionKey struct {
	flowID  string
	version int
}

// workflowCache keeps parsed versions, so that each version's document is
// parsed and its expressions compiled once per process. Versions never
// change once saved, so entries never go stale; the least recently used
// are dropped past max.
type workflowCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of versionKey, most recent first
	items map[versionKey]*cacheEntry
}

type cacheEntry struct {
	w    *dsl.Workflow
	elem *list.Element
}

func newWorkflowCache(max int) *workflowCache {
	return &workflowCache{max: max, order: list.New(), items: map[versionKey]*cacheEntry{}}
}

func (c *workflowCache) get(k versionKey) *dsl.Workflow {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.items[k]
	if e == nil {
		return nil
	}
	c.order.MoveToFront(e.elem)
	return e.w
}

func (c *workflowCache) put(k versionKey, w *dsl.Workflow) *dsl.Workflow {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.items[k]; e != nil {
		return e.w // another goroutine parsed it first: share one
	}
	c.items[k] = &cacheEntry{w: w, elem: c.order.PushFront(k)}
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(versionKey))
	}
	return w
}

// errBrokenVersion is wrapped when a saved version no longer parses.
var errBrokenVersion = errors.New("the saved document no longer validates")

// workflow returns a version of a flow, parsed.
func (s *Service) workflow(ctx context.Context, flowID string, version int) (*dsl.Workflow, error) {
	k := versionKey{flowID, version}
	if w := s.cache.get(k); w != nil {
		return w, nil
	}
	v, err := s.st.FlowVersion(ctx, flowID, version)
	if err != nil {
		return nil, fmt.Errorf("read version %d of flow %s: %w", version, flowID, err)
	}
	w, err := dsl.Parse([]byte(v.Document))
	if err != nil {
		// Saved versions were valid when saved; a newer Vigil may refuse
		// what an older one accepted.
		return nil, fmt.Errorf("version %d of flow %s: %w: %w", version, flowID, errBrokenVersion, err)
	}
	return s.cache.put(k, w), nil
}

// refMatches tells whether a document answers to ref.
func refMatches(d dsl.Document, ref engine.FlowRef) bool {
	return d.Namespace == ref.Namespace && d.Name == ref.Name &&
		(ref.Version == "" || ref.Version == "latest" || ref.Version == d.Version)
}

// checkResolver finds helper flows when a flow is saved: among the flows
// saved with it, then in the folder, on or off.
type checkResolver struct {
	s        *Service
	folderID string
	extra    []*dsl.Workflow
}

// Resolve finds ref among the flows being checked first, then among the
// folder's saved flows.
func (r *checkResolver) Resolve(ctx context.Context, ref engine.FlowRef) (*dsl.Workflow, error) {
	for _, w := range r.extra {
		if w.Document.Namespace == ref.Namespace && w.Document.Name == ref.Name {
			if refMatches(w.Document, ref) {
				return w, nil
			}
			return nil, fmt.Errorf("it has version %s, not %s", w.Document.Version, ref.Version)
		}
	}
	if r.s == nil || r.folderID == "" {
		return nil, errors.New("it is not among the flows given")
	}
	_, _, w, err := r.s.findHelper(ctx, r.folderID, ref, r.s.st.FlowByName)
	return w, err
}

// findHelper finds the version of a folder's flow that ref names.
func (s *Service) findHelper(ctx context.Context, folderID string, ref engine.FlowRef, byName flowByName) (*store.Flow, int, *dsl.Workflow, error) {
	f, err := byName(ctx, folderID, ref.Namespace, ref.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil, fmt.Errorf("the folder has no flow %s/%s", ref.Namespace, ref.Name)
	}
	if err != nil {
		return nil, 0, nil, err
	}
	version := f.Version
	if ref.Version != "" && ref.Version != "latest" && ref.Version != f.DocVersion {
		v, err := s.st.FlowVersionByDoc(ctx, f.ID, ref.Version)
		if errors.Is(err, store.ErrNotFound) {
			return nil, 0, nil, fmt.Errorf("flow %s/%s has no version %s (its current version is %s)", ref.Namespace, ref.Name, ref.Version, f.DocVersion)
		}
		if err != nil {
			return nil, 0, nil, err
		}
		version = v.Version
	}
	w, err := s.workflow(ctx, f.ID, version)
	if err != nil {
		return nil, 0, nil, err
	}
	return f, version, w, nil
}

// runResolver finds helper flows while an execution runs: in the
// execution's folder, and only flows that are on. It remembers which
// flow version each parsed workflow is, for the spawner.
type runResolver struct {
	s        *Service
	folderID string

	mu   sync.Mutex
	seen map[*dsl.Workflow]versionKey
}

// Resolve finds the folder's version of ref, refuses a helper that is off,
// and remembers which version it gave for lookup.
func (r *runResolver) Resolve(ctx context.Context, ref engine.FlowRef) (*dsl.Workflow, error) {
	f, v, w, err := r.s.findHelper(ctx, r.folderID, ref, r.s.cachedFlowByName)
	if err != nil {
		return nil, err
	}
	if !f.On {
		return nil, &engine.Fault{Type: engine.ErrConfiguration, Status: 409, Title: "Helper flow is off",
			Detail: fmt.Sprintf("helper flow %q (%s/%s) is off; turn it on so that other flows can call it", f.Title, f.Namespace, f.Name)}
	}
	r.mu.Lock()
	if r.seen == nil {
		r.seen = map[*dsl.Workflow]versionKey{}
	}
	r.seen[w] = versionKey{f.ID, v}
	r.mu.Unlock()
	return w, nil
}

func (r *runResolver) lookup(w *dsl.Workflow) (versionKey, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.seen[w]
	return k, ok
}
