package connector

import (
	"context"

	"github.com/vigil-ispm/vigil/internal/connection"
)

func googleFunctions() []*Function {
	return []*Function{
		{
			Name: "google.suspendUser", Kind: connection.KindGoogle,
			Summary: "Suspends a Google Workspace user (PUT /admin/directory/v1/users/{userKey} with suspended true); a suspended user stays suspended.",
			Args: []Arg{connectionArg, {Name: "user", Type: "string", Required: true,
				Doc: "The user's id (the issue's idInService) or primary email."}},
			Output: []Arg{{Name: "userId", Type: "string", Doc: "The user's id."},
				{Name: "primaryEmail", Type: "string", Doc: "The user's primary email."},
				{Name: "suspended", Type: "boolean", Doc: "True."},
				{Name: "dryRun", Type: "boolean", Doc: "True when the request was recorded instead of sent."}},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				c, err := x.conn.Google(x.opts)
				if err != nil {
					return nil, err
				}
				u, err := c.SuspendUser(ctx, x.str("user"))
				if err != nil {
					return nil, err
				}
				return map[string]any{"userId": u.ID, "primaryEmail": u.PrimaryEmail, "suspended": u.Suspended}, nil
			},
		},
	}
}
