package main

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/audit"
)

// globals are the flags every command takes.
type globals struct {
	dataDir       string
	database      string
	allowOutbound string
	snapshotDir   string
	logFormat     string
	logLevel      string
	stdout        io.Writer
	stderr        io.Writer
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Vigil: identity security posture management with a built-in workflow engine",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Management commands act as the command line in the audit log; the
	// server and the demo name each request's own user instead.
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		if n := cmd.Name(); n != "serve" && n != "demo" {
			cmd.SetContext(audit.WithActor(cmd.Context(), audit.CLI))
		}
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.dataDir, "data-dir", envOr("VIGIL_DATA_DIR", "vigil-data"), "directory for the SQLite database and the master key (env VIGIL_DATA_DIR)")
	pf.StringVar(&g.database, "database", os.Getenv("VIGIL_DATABASE_URL"), "database URL: sqlite://PATH or postgres://… (default sqlite://<data-dir>/vigil.db; env VIGIL_DATABASE_URL)")
	pf.StringVar(&g.allowOutbound, "allow-outbound", os.Getenv("VIGIL_ALLOW_OUTBOUND"), "comma-separated CIDRs outbound requests may reach despite the SSRF guard, e.g. 127.0.0.0/8 (env VIGIL_ALLOW_OUTBOUND)")
	pf.StringVar(&g.snapshotDir, "snapshot-dir", os.Getenv("VIGIL_SNAPSHOT_DIR"), "the only directory snapshot and AWS credential report files are read from (default <data-dir>/snapshots; env VIGIL_SNAPSHOT_DIR)")
	pf.StringVar(&g.logFormat, "log-format", envOr("VIGIL_LOG_FORMAT", "text"), "log format: text or json")
	pf.StringVar(&g.logLevel, "log-level", envOr("VIGIL_LOG_LEVEL", "info"), "log level: debug, info, warn or error")

	root.AddCommand(
		newServeCmd(g),
		newDemoCmd(g),
		newMigrateCmd(g),
		newHooksCmd(g),
		newFlowsCmd(g),
		newUsersCmd(g),
		newTokensCmd(g),
		newSourcesCmd(g),
		newScanCmd(g),
		newIssuesCmd(g),
		newIdentitiesCmd(g),
		newConnectionsCmd(g),
		newTemplatesCmd(g),
		newApprovalsCmd(g),
		newBenchCmd(g),
		newClusterCmd(g),
		newBackupCmd(g),
		newRestoreCmd(g),
		newAuditCmd(g),
	)
	return root
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// config turns the global flags into the app's configuration.
func (g *globals) config() app.Config {
	return app.Config{
		DataDir:       g.dataDir,
		DatabaseURL:   g.database,
		AllowOutbound: g.allowOutbound,
		SnapshotDir:   g.snapshotDir,
		LogFormat:     g.logFormat,
		LogLevel:      g.logLevel,
		LogOutput:     g.stderr,
		MasterKey:     os.Getenv("VIGIL_MASTER_KEY"),
		MetricsToken:  os.Getenv("VIGIL_METRICS_TOKEN"),
	}
}

// open opens the app for a management command, which works on the database
// directly, with or without a running server.
func (g *globals) open(ctx context.Context) (*app.App, error) {
	return app.Open(ctx, g.config())
}
