package flows

import (
	"context"
	"fmt"
	"sort"
)

// HelperWarning is a helper flow that a flow runs but that cannot run now.
type HelperWarning struct {
	// FlowID is the helper's id, "" when the folder has no such flow.
	FlowID string
	// Message says what is wrong and what to do, in one sentence.
	Message string
}

// HelperWarnings lists the helper flows that the current version of a
// flow runs (run: workflow) but that are off or missing in its folder, so
// that the console can say so before a run faults on them.
func (s *Service) HelperWarnings(ctx context.Context, flowID string) ([]HelperWarning, error) {
	f, err := s.st.Flow(ctx, flowID)
	if err != nil {
		return nil, fmt.Errorf("read flow %s: %w", flowID, err)
	}
	w, err := s.workflow(ctx, f.ID, f.Version)
	if err != nil {
		return nil, err
	}
	refs := helperRefs(w)
	paths := make([]string, 0, len(refs))
	for p := range refs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []HelperWarning
	seen := map[string]bool{}
	for _, p := range paths {
		ref := refs[p]
		key := ref.Namespace + "/" + ref.Name + "@" + ref.Version
		if seen[key] {
			continue
		}
		seen[key] = true
		h, _, _, err := s.findHelper(ctx, f.FolderID, ref, s.st.FlowByName)
		switch {
		case err != nil:
			out = append(out, HelperWarning{Message: fmt.Sprintf("It runs %s/%s, which cannot run: %v.", ref.Namespace, ref.Name, err)})
		case !h.On:
			out = append(out, HelperWarning{FlowID: h.ID,
				Message: fmt.Sprintf("It runs the helper flow %q, which is off: runs that reach it fault until you turn it on.", h.Title)})
		}
	}
	return out, nil
}
