package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
)

func newUsersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the accounts of the console and API",
	}
	cmd.AddCommand(newUsersAddCmd(g), newUsersListCmd(g), newUsersPasswdCmd(g), newUsersSetRoleCmd(g),
		newUsersEnableCmd(g, "disable", true), newUsersEnableCmd(g, "enable", false), newUsersUnlinkCmd(g))
	return cmd
}

// withAuth opens the app and runs fn with an accounts service.
func withAuth(cmd *cobra.Command, g *globals, fn func(ctx context.Context, svc *auth.Service) error) error {
	ctx := cmd.Context()
	a, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(ctx, newAuthService(a))
}

func newAuthService(a *app.App) *auth.Service {
	return auth.New(a.Store, auth.Config{Logger: a.Logger, Now: a.Config.Now, PublicURL: a.Config.PublicURL})
}

// readPassword reads a password from r (standard input), as readStdin.
func readPassword(r io.Reader) (string, error) {
	return readStdin(r, "the password", "--password-stdin")
}

// readStdin reads a secret (what, given with flag) from r, standard input:
// everything up to the end, without the final line break, so that both
// `echo` and `printf '%s'` work, and never from the command line, where
// it would stay in the shell's history and the process list.
func readStdin(r io.Reader, what, flag string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return "", fmt.Errorf("cannot read %s from standard input: %w", what, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("%s was given but standard input was empty", flag)
	}
	return v, nil
}

// passwordFlag returns the password from standard input when fromStdin is
// set, or a generated one (and true) otherwise.
func passwordFlag(cmd *cobra.Command, fromStdin bool) (string, bool, error) {
	if fromStdin {
		pw, err := readPassword(cmd.InOrStdin())
		return pw, false, err
	}
	return auth.GeneratePassword(), true, nil
}

func newUsersAddCmd(g *globals) *cobra.Command {
	var role string
	var fromStdin, asJSON bool
	cmd := &cobra.Command{
		Use:   "add NAME --role super_admin|workflows_admin|issue_responder|issue_viewer [--password-stdin]",
		Short: "Add a user; prints a generated password unless one is read from standard input",
		Long: `Add a local user who signs in with a password. Without --password-stdin a
random password is generated and printed once: pass it on to the user. The
name is stored in lower case. Roles are described in docs/auth.md.`,
		Example: `  vigil users add alice --role super_admin
  printf '%s' "$PASSWORD" | vigil users add bob --role issue_viewer --password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return err
			}
			pw, generated, err := passwordFlag(cmd, fromStdin)
			if err != nil {
				return err
			}
			return withAuth(cmd, g, func(ctx context.Context, svc *auth.Service) error {
				u, err := svc.CreateUser(ctx, args[0], r, pw)
				if err != nil {
					return err
				}
				if asJSON {
					out := map[string]any{"user": u}
					if generated {
						out["password"] = pw
					}
					return printJSON(g.stdout, out)
				}
				fmt.Fprintf(g.stdout, "Added user %q (%s) with role %s.\n", u.Name, u.ID, u.Role)
				if generated {
					fmt.Fprintf(g.stdout, "Password (shown once; pass it on to the user):\n  %s\n", pw)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "super_admin, workflows_admin, issue_responder or issue_viewer (required)")
	f.BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input instead of generating one")
	f.BoolVar(&asJSON, "json", false, `print {"user": …, "password": …} as JSON (password only when generated)`)
	_ = cmd.MarkFlagRequired("role") // fails only for a flag that is not defined; it is, above
	return cmd
}

func newUsersListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAuth(cmd, g, func(ctx context.Context, svc *auth.Service) error {
				users, err := svc.Users(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					if users == nil {
						users = []*auth.User{}
					}
					return printJSON(g.stdout, users)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tCREATED\tID")
				for _, u := range users {
					state := "enabled"
					if u.Disabled {
						state = "disabled"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, state, u.CreatedAt.Format("2006-01-02"), u.ID)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the users as a JSON array")
	return cmd
}

func newUsersPasswdCmd(g *globals) *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "passwd NAME [--password-stdin]",
		Short: "Set a user's password (generated unless read from standard input); ends their sessions",
		Long: `Set a new password for a user, for example when the first administrator's
password is lost. The user's sessions end; API tokens keep working.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, generated, err := passwordFlag(cmd, fromStdin)
			if err != nil {
				return err
			}
			return withAuth(cmd, g, func(ctx context.Context, svc *auth.Service) error {
				u, err := updateByName(ctx, svc, args[0], auth.UserUpdate{Password: &pw})
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Set a new password for %q; their sessions have ended.\n", u.Name)
				if generated {
					fmt.Fprintf(g.stdout, "Password (shown once; pass it on to the user):\n  %s\n", pw)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input instead of generating one")
	return cmd
}

func newUsersSetRoleCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "set-role NAME ROLE",
		Short: "Change a user's role",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := auth.ParseRole(args[1])
			if err != nil {
				return err
			}
			return withAuth(cmd, g, func(ctx context.Context, svc *auth.Service) error {
				u, err := updateByName(ctx, svc, args[0], auth.UserUpdate{Role: &r})
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "%q is now %s.\n", u.Name, u.Role)
				return nil
			})
		},
	}
}

func newUsersUnlinkCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "unlink NAME",
		Short: "Unlink a user from its single sign-on account, so that the next sign-in under its name links anew",
		Long: `Single sign-on links a user to the identity provider account (issuer and
subject) that first signed in under its name, and afterwards refuses any
other account with that name. Unlink after replacing the provider, or to
give the name to another account there; the user is signed out everywhere.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAuth(cmd, g, func(ctx context.Context, svc *auth.Service) error {
				u, err := userByName(ctx, svc, args[0])
				if err != nil {
					return err
				}
				was, err := svc.UnlinkExternal(ctx, u.ID)
				if err != nil {
					return err
				}
				if !was {
					fmt.Fprintf(g.stdout, "%q was not linked to a single sign-on account.\n", u.Name)
					return nil
				}
				fmt.Fprintf(g.stdout, "%q is no longer linked to a single sign-on account.\n", u.Name)
				return nil
			})
		},
	}
}

func newUsersEnableCmd(g *globals, verb string, disable bool) *cobra.Command {
	short := "Enable a disabled user"
	if disable {
		short = "Disable a user: their sessions end and their API tokens stop working"
	}
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAuth(cmd, g, func(ctx context.Context, svc *auth.Service) error {
				u, err := updateByName(ctx, svc, args[0], auth.UserUpdate{Disabled: &disable})
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "%q is %sd.\n", u.Name, verb)
				return nil
			})
		},
	}
}

// updateByName applies up to the user called name.
func updateByName(ctx context.Context, svc *auth.Service, name string, up auth.UserUpdate) (*auth.User, error) {
	u, err := userByName(ctx, svc, name)
	if err != nil {
		return nil, err
	}
	return svc.UpdateUser(ctx, u.ID, up)
}

// userByName finds a user, saying how to list them when there is none.
func userByName(ctx context.Context, svc *auth.Service, name string) (*auth.User, error) {
	u, err := svc.UserByName(ctx, name)
	if errors.Is(err, auth.ErrNotFound) {
		return nil, fmt.Errorf("there is no user named %q; see 'vigil users list'", name)
	}
	return u, err
}
