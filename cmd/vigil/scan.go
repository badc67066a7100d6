package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/posture/source"
)

func newScanCmd(g *globals) *cobra.Command {
	var names []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "scan [--source N]... [--json]",
		Short: "Scan the identity sources now and reconcile issues",
		Long: `Scan reads the sources (all, or those named with --source), joins their
accounts to people, runs every detection and opens, updates and resolves
issues in one transaction. A source that cannot be read changes nothing:
none of its issues is resolved. On a terminal it shows progress; then it
prints the accounts read and the issues opened, resolved and unchanged per
title. It exits with status 1 when a source could not be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withPosture(cmd, g, func(ctx context.Context, p *posture) error {
				opts := source.ScanOptions{Sources: names, Trigger: source.TriggerCLI}
				var prog *progressLine
				if !asJSON && isTerminal(g.stderr) {
					prog = &progressLine{w: g.stderr}
					opts.Progress = prog.report
				}
				res, err := p.sources.Scan(ctx, opts)
				prog.finish()
				if res == nil {
					return err
				}
				if asJSON {
					if werr := writePostureJSON(g.stdout, res); werr != nil {
						return werr
					}
				} else {
					printScan(g.stdout, res)
				}
				if err != nil {
					return err
				}
				if res.Status != source.ScanOK {
					return exitCode(1)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringSliceVar(&names, "source", nil, "scan only this source (repeat or separate with commas)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the scan result as JSON")
	return cmd
}

// isTerminal reports whether w is a terminal, where progress can be
// redrawn in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine redraws one line of progress at most ten times a second.
type progressLine struct {
	mu   sync.Mutex
	w    io.Writer
	last time.Time
	used bool
}

func (p *progressLine) report(pr source.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !pr.Done && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.used = true
	line := fmt.Sprintf("%s: %s, %d requests, %d accounts", pr.Source, pr.Step, pr.Requests, pr.Accounts)
	if pr.Done {
		line = fmt.Sprintf("%s: done, %d requests, %d accounts", pr.Source, pr.Requests, pr.Accounts)
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	if pr.Done {
		fmt.Fprintln(p.w)
	}
}

func (p *progressLine) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func printScan(w io.Writer, res *source.ScanResult) {
	took := res.FinishedAt.Sub(res.StartedAt).Round(10 * time.Millisecond)
	fmt.Fprintf(w, "Scan %s: %s in %s.\n\n", res.ID, res.Status, took)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tKIND\tRESULT\tACCOUNTS\tREQUESTS\tTIME")
	for _, s := range res.Sources {
		result := "ok"
		if !s.OK {
			result = "failed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", s.Name, s.Kind, result, s.Accounts, s.Requests, s.Duration.Round(time.Millisecond))
	}
	tw.Flush()
	for _, s := range res.Sources {
		if s.Error != "" {
			fmt.Fprintf(w, "\n%s\n", s.Error)
		}
		for _, warn := range s.Warnings {
			fmt.Fprintf(w, "\n%s: %s\n", s.Name, warn)
		}
	}
	if res.Error != "" {
		fmt.Fprintf(w, "\n%s\n", res.Error)
		return
	}
	fmt.Fprintf(w, "\nThe graph holds %d accounts of %d people across all sources.\n", res.Accounts, res.People)
	sum := res.Issues
	if len(sum.Titles) == 0 {
		fmt.Fprintln(w, "No issue changed.")
		return
	}
	titles := make([]string, 0, len(sum.Titles))
	for t := range sum.Titles {
		titles = append(titles, t)
	}
	slices.Sort(titles)
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ISSUES\tOPENED\tRESOLVED\tUNCHANGED")
	for _, t := range titles {
		c := sum.Titles[t]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", t, c.Opened+c.Reopened, c.Resolved, c.Unchanged)
	}
	fmt.Fprintf(tw, "Total\t%d\t%d\t%d\n", sum.Opened+sum.Reopened, sum.Resolved, sum.Unchanged)
	tw.Flush()
	if sum.Kept > 0 {
		fmt.Fprintf(w, "\n%d issues that depend on a source that could not be read were left as they were.\n", sum.Kept)
	}
}
