package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
)

func newMigrateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema up to date (serve also does this at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, g, func(ctx context.Context, a *app.App) error {
				fmt.Fprintf(g.stdout, "database schema is up to date (%s)\n", a.Store.Dialect())
				return nil
			})
		},
	}
}
