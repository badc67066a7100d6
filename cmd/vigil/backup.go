package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/backup"
	"github.com/vigil-ispm/vigil/internal/secret"
)

func newBackupCmd(g *globals) *cobra.Command {
	var opts app.BackupOptions
	cmd := &cobra.Command{
		Use:   "backup FILE [--force]",
		Short: "Copy the database to FILE, also while the server runs (the master key is not included)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.Backup(cmd.Context(), g.config(), args[0], opts); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "backed up the database to %s; keep the master key (%s or VIGIL_MASTER_KEY) apart from it: the backup's secrets open only with it\n",
				args[0], secret.KeyFile)
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace FILE if it exists")
	pgToolsFlag(cmd, &opts.Tools)
	return cmd
}

func newRestoreCmd(g *globals) *cobra.Command {
	var opts app.BackupOptions
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the database with the backup in FILE (stop the server first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := app.Restore(cmd.Context(), g.config(), args[0], opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "restored the database from %s\n", args[0])
			if res.Aside != "" {
				fmt.Fprintf(g.stdout, "the previous database was kept as %s\n", res.Aside)
			}
			if res.NoKey {
				fmt.Fprintf(g.stdout, "the data directory has no master key: put the backed-up server's %s there or set VIGIL_MASTER_KEY before serving, or its secrets cannot be opened\n", secret.KeyFile)
			}
			return nil
		},
	}
	pgToolsFlag(cmd, &opts.Tools)
	return cmd
}

// pgToolsFlag adds the flag naming where pg_dump and pg_restore are.
func pgToolsFlag(cmd *cobra.Command, t *backup.Tools) {
	cmd.Flags().StringVar(&t.Dir, "pg-bin", os.Getenv("VIGIL_PG_BIN"), "PostgreSQL only: the directory holding pg_dump and pg_restore, searched before PATH (env VIGIL_PG_BIN)")
}
