package connector

import (
	"context"
	"fmt"
	"regexp"

	"github.com/vigil-ispm/vigil/internal/connection"
)

// objectID matches a directory object id (a GUID).
var objectID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func entraFunctions() []*Function {
	dryOut := Arg{Name: "dryRun", Type: "boolean", Doc: "True when the request was recorded instead of sent."}
	return []*Function{
		{
			Name: "entra.disableUser", Kind: connection.KindEntra,
			Summary: "Blocks a Microsoft Entra ID user's sign-in (PATCH /v1.0/users/{id} with accountEnabled false); a disabled user stays disabled.",
			Args: []Arg{connectionArg, {Name: "user", Type: "string", Required: true,
				Doc: "The user's object id (the issue's idInService) or user principal name."}},
			Output: []Arg{{Name: "userId", Type: "string", Doc: "The user as given."},
				{Name: "accountEnabled", Type: "boolean", Doc: "False."}, dryOut},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				c, err := x.conn.Entra(x.opts)
				if err != nil {
					return nil, err
				}
				if err := c.DisableUser(ctx, x.str("user")); err != nil {
					return nil, err
				}
				return map[string]any{"userId": x.str("user"), "accountEnabled": false}, nil
			},
		},
		{
			Name: "entra.addGroupMember", Kind: connection.KindEntra,
			Summary: "Adds a user to a Microsoft Entra ID group (POST /v1.0/groups/{id}/members/$ref), such as a group a Conditional Access MFA policy applies to; a member already in the group counts as added.",
			Args: []Arg{connectionArg,
				{Name: "user", Type: "string", Required: true, Doc: "The user's object id (the issue's idInService)."},
				{Name: "groupId", Type: "string", Required: true, Doc: "The group's object id."}},
			Output: []Arg{{Name: "userId", Type: "string", Doc: "The user's object id."},
				{Name: "groupId", Type: "string", Doc: "The group's object id."},
				{Name: "alreadyMember", Type: "boolean", Doc: "True when the user was in the group before the call."}, dryOut},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				user := x.str("user")
				if !objectID.MatchString(user) {
					return nil, argFault(x.fn, argProblem("user", fmt.Sprintf("expected the user's object id (a GUID such as the issue's idInService), got %q", user)))
				}
				c, err := x.conn.Entra(x.opts)
				if err != nil {
					return nil, err
				}
				already, err := c.AddGroupMember(ctx, x.str("groupId"), user)
				if err != nil {
					return nil, err
				}
				return map[string]any{"userId": user, "groupId": x.str("groupId"), "alreadyMember": already}, nil
			},
		},
	}
}
