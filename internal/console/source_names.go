package console

import (
	"context"
	"net/http"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// sourceNames lists the configured sources' names for a filter, or none
// when the server has no sources or the user may not see them.
func (c *Console) sourceNames(ctx context.Context, r *http.Request) ([]string, error) {
	if c.svc.Sources == nil || !can(r, auth.PermManageSources) {
		return nil, nil
	}
	list, err := c.svc.Sources.Sources(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(list))
	for _, s := range list {
		names = append(names, s.Name)
	}
	return names, nil
}
