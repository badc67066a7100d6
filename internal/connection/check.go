package connection

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// Uses returns the names of the connections a flow's catalog calls name
// literally (`with: {connection: Okta}`), in order of first use. A
// connection given by an expression is known only at run time and is not
// listed.
func Uses(w *dsl.Workflow) []string {
	var names []string
	var walk func(l dsl.TaskList)
	walk = func(l dsl.TaskList) {
		for _, nt := range l {
			t := nt.Task
			if t == nil {
				continue
			}
			if c := t.Call; c != nil && c.HTTP == nil && c.OpenAPI == nil && c.With != nil {
				if m, ok := c.With.Value.(map[string]any); ok {
					if name, ok := m["connection"].(string); ok && name != "" && !slices.Contains(names, name) {
						names = append(names, name)
					}
				}
			}
			walk(t.Do)
			if t.Fork != nil {
				walk(t.Fork.Branches)
			}
			if t.Try != nil {
				walk(t.Try.Do)
				if t.Try.Catch != nil {
					walk(t.Try.Catch.Do)
				}
			}
		}
	}
	walk(w.Do)
	for _, name := range sortedKeys(w.Use.Functions) {
		walk(dsl.TaskList{{Name: name, Task: w.Use.Functions[name]}})
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// MissingError says which connections a flow needs that do not exist.
type MissingError struct {
	// Flow is the flow's title (or name).
	Flow string
	// Names are the missing connections, in order of first use.
	Names []string
}

func (e *MissingError) Error() string {
	quoted := make([]string, len(e.Names))
	for i, n := range e.Names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	if len(quoted) == 1 {
		return fmt.Sprintf("Flow %q cannot be turned on: it uses the connection %s, which does not exist; add it under Connections (vigil connections add) or change the flow.",
			e.Flow, quoted[0])
	}
	return fmt.Sprintf("Flow %q cannot be turned on: it uses the connections %s, which do not exist; add them under Connections (vigil connections add) or change the flow.",
		e.Flow, strings.Join(quoted, ", "))
}

// CheckFlow returns a *MissingError naming every connection the flow uses
// that does not exist, or nil. The flows service calls it before turning a
// flow on.
func (s *Service) CheckFlow(ctx context.Context, w *dsl.Workflow) error {
	var missing []string
	for _, name := range Uses(w) {
		ok, err := s.Exists(ctx, name)
		if err != nil {
			return err
		}
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	title := w.Document.Title
	if title == "" {
		title = w.Document.Namespace + "/" + w.Document.Name
	}
	return &MissingError{Flow: title, Names: missing}
}
