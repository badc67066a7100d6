package connector

import (
	"context"
	"fmt"
	"regexp"

	"github.com/vigil-ispm/vigil/internal/connection"
)

// salesforceUserID matches a Salesforce User record id, 15 or 18
// characters with the User key prefix 005.
var salesforceUserID = regexp.MustCompile(`^005[0-9A-Za-z]{12}([0-9A-Za-z]{3})?$`)

func salesforceFunctions() []*Function {
	return []*Function{
		{
			Name: "salesforce.deactivateUser", Kind: connection.KindSalesforce,
			Summary: "Deactivates a Salesforce user (PATCH /services/data/vNN.0/sobjects/User/{id} with IsActive false); an inactive user stays inactive.",
			Args: []Arg{connectionArg, {Name: "user", Type: "string", Required: true,
				Doc: "The User record id (005…, the issue's idInService)."}},
			Output: []Arg{{Name: "userId", Type: "string", Doc: "The User record id."},
				{Name: "isActive", Type: "boolean", Doc: "False."},
				{Name: "dryRun", Type: "boolean", Doc: "True when the request was recorded instead of sent."}},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				user := x.str("user")
				if !salesforceUserID.MatchString(user) {
					return nil, argFault(x.fn, argProblem("user", fmt.Sprintf("expected a User record id (005 followed by 12 or 15 letters and digits, the issue's idInService), got %q", user)))
				}
				c, err := x.conn.Salesforce(x.opts)
				if err != nil {
					return nil, err
				}
				if err := c.DeactivateUser(ctx, user); err != nil {
					return nil, err
				}
				return map[string]any{"userId": user, "isActive": false}, nil
			},
		},
	}
}
