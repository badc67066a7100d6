package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/bench"
)

func newBenchCmd(g *globals) *cobra.Command {
	var cfg bench.Config
	var scenarios, out, cpuProfile string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure this machine: invoke a flow under load beside a bare net/http handler, and report ratios",
		Long: `Start Vigil on loopback in a temporary directory (SQLite, or the database
--database names), run bounded load against a routing flow behind an API
endpoint, and stop. Every scenario is measured with the same load generator
as a bare net/http handler in the same run and reported as a ratio to it, so
that runs on a busy or a different machine can be compared.

Scenarios: ` + strings.Join(bench.Scenarios, ", ") + `.

chain: a snapshot scan opens --chain-issues issues; the ISPM template's
routing flow, called by an outbound integration, sends each to a helper
whose Okta action runs in dry run; issues/s and the latency from issue
opened to action recorded. scan: a synthetic organization of about
--scan-accounts accounts, scanned twice by a vigil serve process of its
own; each scan's seconds and the server's peak memory.

It prints a table and writes the report as JSON (--json). The server and
its data are removed at the end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := os.MkdirTemp("", "vigil-bench-")
			if err != nil {
				return fmt.Errorf("cannot create a temporary directory: %w", err)
			}
			defer os.RemoveAll(dir)
			cfg.Dir, cfg.DatabaseURL, cfg.Progress = dir, g.database, g.stderr
			if scenarios != "" {
				cfg.Scenarios = strings.Split(scenarios, ",")
			}
			cfg.Serve = vigilCommand
			cfg.ServeCPUProfile = cpuProfile
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			rep, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			rep.Summary(g.stdout)
			b, err := rep.JSON()
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil { //nolint:gosec // G306: a benchmark report holds no secret and is meant to be shared
				return fmt.Errorf("cannot write the report: %w", err)
			}
			fmt.Fprintf(g.stdout, "\nreport written to %s\n", out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&scenarios, "scenarios", "", "comma-separated scenarios to run (default all)")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long each load runs")
	f.IntVar(&cfg.Requests, "requests", 0, "stop each load after this many requests (0: only --duration)")
	f.IntVar(&cfg.Connections, "connections", 64, "concurrent callers")
	f.IntVar(&cfg.Nodes, "nodes", 1, "servers sharing the database, each in this process; the load goes round robin to them (more than 1 needs --database postgres://…)")
	f.IntVar(&cfg.ChainIssues, "chain-issues", 2000, "issues the chain scenario's scan opens and its flows remediate (dry run)")
	f.IntVar(&cfg.ScanAccounts, "scan-accounts", 100_000, "about how many accounts the scan scenario's synthetic organization has")
	f.IntVar(&cfg.HopSamples, "hop-samples", 500, "invocations the hop scenario times, one at a time")
	f.DurationVar(&cfg.IdleAfter, "idle-after", 10*time.Second, "how long the idle server settles before it is measured")
	f.DurationVar(&cfg.IdleWindow, "idle-window", 5*time.Second, "how long the idle server's CPU is measured")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run (server and load generator) to this file; a scenario that runs a vigil serve of its own (scan, idle) writes that server's to FILE.SCENARIO")
	f.StringVar(&out, "json", "vigil-bench.json", "file the JSON report is written to")
	return cmd
}

// vigilCommand runs this program with args, for the idle and scan
// scenarios' own server process.
func vigilCommand(args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cmd := exec.Command(exe, args...) //nolint:gosec // G204: runs this same binary, with arguments the benchmark builds
	cmd.Env = os.Environ()
	endWithBench(cmd)
	return cmd
}
