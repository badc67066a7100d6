package connection

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-ispm/vigil/internal/store"
)

// Ref is a connection a flow names: `call: okta.suspendUser` with
// `connection: Okta` is {Okta, okta}.
type Ref struct {
	Name string
	// Kind is the kind the flow's function needs.
	Kind string
}

// MissingError says which connections a flow names that are not set:
// missing altogether, or of another kind than the flow needs.
type MissingError struct {
	// Missing are the connections that do not exist.
	Missing []Ref
	// WrongKind are the connections that exist with another kind; Kind is
	// the kind the flow needs.
	WrongKind []Ref
	// Have holds the actual kind of each of WrongKind, by name.
	Have map[string]string
}

func (e *MissingError) Error() string {
	var parts []string
	for _, r := range e.Missing {
		parts = append(parts, fmt.Sprintf("connection %q (%s) is not set; add it with vigil connections add %s --name %q", r.Name, r.Kind, r.Kind, r.Name))
	}
	for _, r := range e.WrongKind {
		parts = append(parts, fmt.Sprintf("connection %q is a %s connection, but the flow uses it for %s", r.Name, e.Have[r.Name], r.Kind))
	}
	return strings.Join(parts, "; ")
}

// CheckRefs returns a *MissingError naming every connection of refs that
// is not set or is of the wrong kind, or nil. The flows service calls it
// (through its Checker) before turning a flow on.
func (s *Service) CheckRefs(ctx context.Context, refs []Ref) error {
	e := &MissingError{Have: map[string]string{}}
	for _, r := range refs {
		c, err := s.st.ConnectionByName(ctx, r.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			e.Missing = append(e.Missing, r)
		case err != nil:
			return fmt.Errorf("look up connection %q: %w", r.Name, err)
		case r.Kind != "" && c.Kind != r.Kind:
			e.WrongKind = append(e.WrongKind, r)
			e.Have[r.Name] = c.Kind
		}
	}
	if len(e.Missing)+len(e.WrongKind) == 0 {
		return nil
	}
	return e
}
