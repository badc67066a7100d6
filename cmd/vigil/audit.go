package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/audit"
)

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read the audit log of administrative actions",
	}
	cmd.AddCommand(newAuditListCmd(g))
	return cmd
}

func newAuditListCmd(g *globals) *cobra.Command {
	var in audit.FilterInput
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--actor NAME] [--action PREFIX] [--since T] [--until T] [--limit N | --all] [--json]",
		Short: "List audit entries, newest first",
		Long: `List audit entries, newest first: who did what, when and from where.
--actor takes a user name or id (or "cli"); --action an action or its start
(flow matches flow.enable and flow.update); --since and --until RFC 3339
times or dates (2026-12-01, midnight UTC). --limit shows at most N entries
(default 50); --all shows every match. --json prints one JSON object per
line, the shape of GET /api/v1/audit?format=jsonl.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := audit.ParseFilter(in)
			if err != nil {
				return err
			}
			return withApp(cmd, g, func(ctx context.Context, a *app.App) error {
				log := audit.NewLog(a.Store.Queries)
				if asJSON && all {
					return log.Export(ctx, f, g.stdout, nil)
				}
				page, err := log.List(ctx, f)
				if err != nil {
					return err
				}
				for all && page.Next != "" {
					f.Before = page.Next
					more, err := log.List(ctx, f)
					if err != nil {
						return err
					}
					page.Entries, page.Next = append(page.Entries, more.Entries...), more.Next
				}
				if asJSON {
					enc := json.NewEncoder(g.stdout)
					for _, e := range page.Entries {
						if err := enc.Encode(e); err != nil {
							return err
						}
					}
					return nil
				}
				if len(page.Entries) == 0 {
					fmt.Fprintln(g.stdout, "No audit entries match.")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TIME (UTC)\tACTOR\tFROM\tACTION\tTARGET\tOUTCOME")
				for _, e := range page.Entries {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.DateTime), actorText(e.Actor), e.Actor.Address,
						e.Action, targetText(e.Target), e.Outcome)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if page.Next != "" {
					fmt.Fprintf(g.stdout, "\nMore entries are older; add --all, or --before %s for the next page.\n", page.Next)
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Actor, "actor", "", "user name or id, or cli")
	fl.StringVar(&in.Action, "action", "", "action or its start, such as flow or auth.signin")
	fl.StringVar(&in.Since, "since", "", "only entries at or after this time (RFC 3339 or a date)")
	fl.StringVar(&in.Until, "until", "", "only entries before this time (RFC 3339 or a date)")
	fl.StringVar(&in.Before, "before", "", "only entries older than this entry id (the next page)")
	fl.StringVar(&in.Limit, "limit", "", fmt.Sprintf("show at most this many entries, up to %d (default %d)", audit.MaxLimit, audit.DefaultLimit))
	fl.BoolVar(&all, "all", false, "show every matching entry")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object per line")
	return cmd
}

// actorText names an actor in one column: the user, and the token used.
func actorText(a audit.RecordActor) string {
	name := a.Name
	if name == "" {
		name = string(a.Kind)
	}
	if a.Token != "" {
		name += " (token " + a.Token + ")"
	}
	return name
}

// targetText names a target in one column.
func targetText(t audit.Target) string {
	parts := []string{t.Kind}
	if t.Name != "" {
		parts = append(parts, t.Name)
	} else if t.ID != "" {
		parts = append(parts, t.ID)
	}
	return strings.TrimSpace(strings.Join(parts, " "))
}
