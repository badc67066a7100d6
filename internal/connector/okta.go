package connector

import (
	"context"
	"errors"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/okta"
)

var oktaUserArg = Arg{Name: "user", Type: "string", Required: true,
	Doc: "The Okta user: their id (00u…, the issue's idInService) or their login; a login is looked up first."}

func oktaFunctions() []*Function {
	userOut := Arg{Name: "userId", Type: "string", Doc: "The Okta id of the user acted on."}
	dryOut := Arg{Name: "dryRun", Type: "boolean", Doc: "True when the request was recorded instead of sent."}
	return []*Function{
		{
			Name: "okta.suspendUser", Kind: connection.KindOkta,
			Summary: "Suspends an active Okta user (POST /api/v1/users/{id}/lifecycle/suspend) so they can no longer sign in; a user already suspended is left as is.",
			Args:    []Arg{connectionArg, oktaUserArg},
			Output: []Arg{userOut, {Name: "status", Type: "string", Doc: "SUSPENDED."},
				{Name: "alreadySuspended", Type: "boolean", Doc: "True when the user was suspended before the call."}, dryOut},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				return oktaLifecycle(ctx, x, okta.StatusSuspended, (*okta.Client).SuspendUser, "alreadySuspended")
			},
		},
		{
			Name: "okta.unsuspendUser", Kind: connection.KindOkta,
			Summary: "Returns a suspended Okta user to active (POST /api/v1/users/{id}/lifecycle/unsuspend); a user already active is left as is.",
			Args:    []Arg{connectionArg, oktaUserArg},
			Output: []Arg{userOut, {Name: "status", Type: "string", Doc: "ACTIVE."},
				{Name: "alreadyActive", Type: "boolean", Doc: "True when the user was active before the call."}, dryOut},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				return oktaLifecycle(ctx, x, okta.StatusActive, (*okta.Client).UnsuspendUser, "alreadyActive")
			},
		},
		{
			Name: "okta.addUserToGroup", Kind: connection.KindOkta,
			Summary: "Adds a user to an Okta group (PUT /api/v1/groups/{groupId}/users/{userId}), such as a group an MFA policy applies to; adding a member again succeeds.",
			Args: []Arg{connectionArg, oktaUserArg,
				{Name: "groupId", Type: "string", Required: true, Doc: "The id of the Okta group (00g…)."}},
			Output: []Arg{userOut, {Name: "groupId", Type: "string", Doc: "The group's id."}, dryOut},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				c, id, err := oktaResolve(ctx, x)
				if err != nil {
					return nil, err
				}
				if err := c.AddUserToGroup(ctx, x.str("groupId"), id); err != nil {
					return nil, err
				}
				return map[string]any{"userId": id, "groupId": x.str("groupId")}, nil
			},
		},
		{
			Name: "okta.expirePassword", Kind: connection.KindOkta,
			Summary: "Makes an Okta user choose a new password at their next sign-in (POST /api/v1/users/{id}/lifecycle/expire_password).",
			Args:    []Arg{connectionArg, oktaUserArg},
			Output:  []Arg{userOut, {Name: "status", Type: "string", Doc: "PASSWORD_EXPIRED."}, dryOut},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				c, id, err := oktaResolve(ctx, x)
				if err != nil {
					return nil, err
				}
				if err := c.ExpirePassword(ctx, id); err != nil {
					return nil, err
				}
				return map[string]any{"userId": id, "status": okta.StatusPasswordExpired}, nil
			},
		},
		{
			Name: "okta.clearUserSessions", Kind: connection.KindOkta,
			Summary: "Ends all of an Okta user's sessions (DELETE /api/v1/users/{id}/sessions), signing them out everywhere.",
			Args:    []Arg{connectionArg, oktaUserArg},
			Output:  []Arg{userOut, {Name: "sessionsCleared", Type: "boolean", Doc: "True."}, dryOut},
			run: func(ctx context.Context, x *call) (map[string]any, error) {
				c, id, err := oktaResolve(ctx, x)
				if err != nil {
					return nil, err
				}
				if err := c.ClearUserSessions(ctx, id); err != nil {
					return nil, err
				}
				return map[string]any{"userId": id, "sessionsCleared": true}, nil
			},
		},
	}
}

// oktaResolve builds the client and turns the user argument into an id:
// an Okta user id is used as is, anything else is looked up as a login
// (Okta's lifecycle and group endpoints need the id).
func oktaResolve(ctx context.Context, x *call) (*okta.Client, string, error) {
	c, err := x.conn.Okta(x.opts)
	if err != nil {
		return nil, "", err
	}
	user := x.str("user")
	if oktaUserID.MatchString(user) {
		return c, user, nil
	}
	u, err := c.FindUserByLogin(ctx, user)
	if err != nil {
		return nil, "", err
	}
	return c, u.ID, nil
}

// oktaLifecycle runs a lifecycle change. Okta refuses (400) to suspend a
// user who is not active or unsuspend one who is not suspended; when the
// user already has the wanted status the call counts as done, so a flow
// that runs twice (a retry, a resumed execution) does not fail.
func oktaLifecycle(ctx context.Context, x *call, want string, do func(*okta.Client, context.Context, string) error, already string) (map[string]any, error) {
	c, id, err := oktaResolve(ctx, x)
	if err != nil {
		return nil, err
	}
	err = do(c, ctx, id)
	var oe *okta.Error
	if errors.As(err, &oe) && oe.StatusCode == 400 {
		if u, gerr := c.GetUser(ctx, id); gerr == nil && u.Status == want {
			return map[string]any{"userId": id, "status": want, already: true}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"userId": id, "status": want, already: false}, nil
}
