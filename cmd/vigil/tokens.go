package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/auth"
)

func newTokensCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Manage API tokens (sent as \"Authorization: Bearer\")",
	}
	cmd.AddCommand(newTokensCreateCmd(g), newTokensListCmd(g), newTokensRevokeCmd(g))
	return cmd
}

func newTokensCreateCmd(g *globals) *cobra.Command {
	var user, name string
	var days int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create --user NAME [--name LABEL] [--expires-in-days N]",
		Short: "Create an API token for a user; prints it once",
		Long: `Create an API token that acts as the user, with the user's role. The token
(vgl_…) is printed once and cannot be shown again: only its hash is kept.
Send it as "Authorization: Bearer vgl_…".`,
		Example: `  vigil tokens create --user alice --name ci --expires-in-days 90`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if days < 0 {
				return errors.New("--expires-in-days must not be negative (0 means the token lasts until revoked)")
			}
			return withAuth(cmd, g, func(ctx context.Context, svc *auth.Service) error {
				u, err := userByName(ctx, svc, user)
				if err != nil {
					return err
				}
				t, raw, err := svc.CreateToken(ctx, u.ID, name, time.Duration(days)*24*time.Hour)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g.stdout, map[string]any{"apiToken": t, "token": raw})
				}
				fmt.Fprintf(g.stdout, "Created API token %q (%s) for %q.\n", t.Name, t.ID, u.Name)
				if t.ExpiresAt != nil {
					fmt.Fprintf(g.stdout, "It expires at %s.\n", t.ExpiresAt.Format(time.RFC3339))
				}
				fmt.Fprintf(g.stdout, "Token (shown once; send it as \"Authorization: Bearer <token>\"):\n  %s\n", raw)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "user the token acts as (required)")
	f.StringVar(&name, "name", "", `label saying what the token is for (default "API token")`)
	f.IntVar(&days, "expires-in-days", 0, "days until the token expires (0: until revoked)")
	f.BoolVar(&asJSON, "json", false, `print {"apiToken": …, "token": …} as JSON`)
	_ = cmd.MarkFlagRequired("user") // fails only for a flag that is not defined; it is, above
	return cmd
}

func newTokensListCmd(g *globals) *cobra.Command {
	var user string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--user NAME] [--json]",
		Short: "List API tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAuth(cmd, g, func(ctx context.Context, svc *auth.Service) error {
				userID := ""
				if user != "" {
					u, err := userByName(ctx, svc, user)
					if err != nil {
						return err
					}
					userID = u.ID
				}
				tokens, err := svc.Tokens(ctx, userID)
				if err != nil {
					return err
				}
				if asJSON {
					if tokens == nil {
						tokens = []*auth.Token{}
					}
					return printJSON(g.stdout, tokens)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tUSER\tNAME\tCREATED\tLAST USED\tEXPIRES")
				for _, t := range tokens {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.UserName, t.Name, t.CreatedAt.Format("2006-01-02"),
						orNever(t.LastUsedAt, "never"), orNever(t.ExpiresAt, "never"))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "only this user's tokens")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tokens as a JSON array")
	return cmd
}

func orNever(t *time.Time, never string) string {
	if t == nil {
		return never
	}
	return t.Format(time.RFC3339)
}

func newTokensRevokeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token; requests carrying it fail from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAuth(cmd, g, func(ctx context.Context, svc *auth.Service) error {
				if err := svc.RevokeToken(ctx, args[0]); err != nil {
					if errors.Is(err, auth.ErrNotFound) {
						return fmt.Errorf("there is no API token %q; see 'vigil tokens list'", args[0])
					}
					return err
				}
				fmt.Fprintf(g.stdout, "Revoked API token %s.\n", args[0])
				return nil
			})
		},
	}
}
