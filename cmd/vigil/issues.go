package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/api"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

func newIssuesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "issues",
		Short: "List posture issues and change their status",
	}
	cmd.AddCommand(newIssuesListCmd(g), newIssuesShowCmd(g),
		newIssuesChangeCmd(g, "snooze", "Hide issues until a date; they reopen then if still present"),
		newIssuesChangeCmd(g, "ack", "Acknowledge issues: hidden while present, resolved when scans no longer find them"),
		newIssuesChangeCmd(g, "false-positive", "Mark issues false positive: they never reopen until reverted"),
		newIssuesChangeCmd(g, "reopen", "Revert a snooze, acknowledgement or false-positive mark"),
		newIssuesRunFlowCmd(g))
	return cmd
}

func withPosture(cmd *cobra.Command, g *globals, fn func(ctx context.Context, p *posture) error) error {
	ctx := cmd.Context()
	a, p, err := openPosture(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(ctx, p)
}

func parseStatuses(s string) ([]issue.Status, error) {
	if s == "all" {
		return nil, nil
	}
	var out []issue.Status
	for _, v := range splitComma(s) {
		st, err := issue.ParseStatus(v)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func newIssuesListCmd(g *globals) *cobra.Command {
	var status, severity, category, title, sources, search string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--status S] [--json]",
		Short: "List issues, most severe first",
		Long: `List issues, most severe first. --status takes open (the default), snoozed,
acknowledged, false_positive, resolved, a comma-separated list, or all.
--json prints an array of issue event eventData objects (id, title,
category, severity, status, link, affectedEntity, …), the shape webhooks
receive.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			statuses, err := parseStatuses(status)
			if err != nil {
				return err
			}
			f := issue.Filter{Statuses: statuses, Severities: splitComma(severity), Categories: splitComma(category),
				Titles: splitComma(title), Sources: splitComma(sources), Search: search, Limit: limit}
			if limit <= 0 {
				f.Limit = -1
			}
			return withPosture(cmd, g, func(ctx context.Context, p *posture) error {
				page, err := p.issues.List(ctx, f)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]event.Issue, 0, len(page.Issues))
					for _, is := range page.Issues {
						out = append(out, is.Data)
					}
					return writePostureJSON(g.stdout, out)
				}
				if page.Total == 0 {
					fmt.Fprintln(g.stdout, "No issues match.")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSEVERITY\tSTATUS\tTITLE\tENTITY\tPRODUCT\tDETECTED")
				for _, is := range page.Issues {
					d := is.Data
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Severity, d.Status, d.Title,
						d.AffectedEntity.IdentifierInService, d.AffectedEntity.SourceProductName, d.DetectedAt.Local().Format("2006-01-02"))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if len(page.Issues) < page.Total {
					fmt.Fprintf(g.stdout, "\n%d of %d issues shown.\n", len(page.Issues), page.Total)
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&status, "status", "open", "open, snoozed, acknowledged, false_positive, resolved, a comma-separated list, or all")
	fl.StringVar(&severity, "severity", "", "Low, Medium, High or Critical (comma-separated)")
	fl.StringVar(&category, "category", "", "MFA, Least Privilege, Credential Hygiene or Account Lifecycle (comma-separated)")
	fl.StringVar(&title, "title", "", "exact issue titles (comma-separated)")
	fl.StringVar(&sources, "source", "", "source names (comma-separated)")
	fl.StringVar(&search, "search", "", "part of the title, the account's name or login, or the tenant")
	fl.IntVar(&limit, "limit", 0, "show at most this many (default all)")
	fl.BoolVar(&asJSON, "json", false, "print eventData objects as JSON")
	return cmd
}

func newIssuesShowCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID [--json]",
		Short: "Show an issue with its history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withPosture(cmd, g, func(ctx context.Context, p *posture) error {
				is, err := p.issues.Get(ctx, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					out := struct {
						event.Issue
						SnoozedUntil *time.Time   `json:"snoozedUntil,omitempty"`
						History      []api.Change `json:"history"`
					}{Issue: is.Data, SnoozedUntil: timeOrNil(is.SnoozedUntil), History: api.HistoryOf(is.History)}
					return writePostureJSON(g.stdout, out)
				}
				d := is.Data
				e := d.AffectedEntity
				w := g.stdout
				fmt.Fprintf(w, "%s  %s  [%s, %s]\n", d.ID, d.Title, d.Severity, d.Category)
				status := d.Status
				if !is.SnoozedUntil.IsZero() {
					status += " until " + is.SnoozedUntil.Local().Format("2006-01-02 15:04")
				}
				fmt.Fprintf(w, "Status:     %s\n", status)
				fmt.Fprintf(w, "Entity:     %s (%s) %s in %s %s\n", e.DisplayName, e.Type, e.IdentifierInService, e.SourceProductName, e.SourceProductTenant)
				fmt.Fprintf(w, "Summary:    %s\n", d.ShortDescription)
				fmt.Fprintf(w, "Detected:   %s (first %s)\n", d.DetectedAt.Local().Format(time.RFC3339), is.FirstDetectedAt.Local().Format(time.RFC3339))
				fmt.Fprintf(w, "Last seen:  %s\n", is.LastSeenAt.Local().Format(time.RFC3339))
				fmt.Fprintf(w, "Remedy:     %s\n", d.SuggestedRemediation)
				if d.Link != "" {
					fmt.Fprintf(w, "Link:       %s\n", d.Link)
				}
				fmt.Fprintln(w, "\nHistory:")
				for _, h := range is.History {
					line := fmt.Sprintf("  %s  %-22s %s", h.At.Local().Format("2006-01-02 15:04:05"), h.Action, h.By)
					if h.Reason != "" {
						line += ": " + h.Reason
					}
					fmt.Fprintln(w, line)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// parseUntil reads a snooze end: a date (2026-12-31, the start of that day
// in local time), a time (RFC 3339), or a duration from now (72h).
func parseUntil(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--until %q is not a date (2026-12-31), a time (2026-12-31T09:00:00Z) or a duration (72h)", s)
}

func newIssuesChangeCmd(g *globals, verb, short string) *cobra.Command {
	var until, reason, by string
	cmd := &cobra.Command{
		Use:   verb + " ID... [--reason R]",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if by == "" {
				by = cliActor()
			}
			note := issue.Note{By: by, Why: reason}
			return withPosture(cmd, g, func(ctx context.Context, p *posture) error {
				var out issue.Outcome
				var err error
				done := map[string]string{"snooze": "Snoozed", "ack": "Acknowledged", "false-positive": "Marked false positive", "reopen": "Reopened"}[verb]
				switch verb {
				case "snooze":
					if until == "" {
						return fmt.Errorf("--until is required")
					}
					t, perr := parseUntil(until, time.Now())
					if perr != nil {
						return perr
					}
					out, err = p.issues.SnoozeMany(ctx, args, t, note)
				case "ack":
					out, err = p.issues.AcknowledgeMany(ctx, args, note)
				case "false-positive":
					out, err = p.issues.MarkFalsePositiveMany(ctx, args, note)
				case "reopen":
					out, err = p.issues.ReopenMany(ctx, args, note)
				}
				if err != nil {
					return err
				}
				noun := "issues"
				if len(out.Changed) == 1 {
					noun = "issue"
				}
				fmt.Fprintf(g.stdout, "%s %d %s.\n", done, len(out.Changed), noun)
				for _, sk := range out.Skipped {
					fmt.Fprintf(g.stdout, "%s: %s\n", sk.ID, sk.Reason)
				}
				if len(out.Skipped) > 0 {
					return exitCode(1)
				}
				return nil
			})
		},
	}
	if verb == "snooze" {
		cmd.Flags().StringVar(&until, "until", "", "end of the snooze: a date (2026-12-31), a time (RFC 3339) or a duration (72h)")
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, kept in the issue's history")
	cmd.Flags().StringVar(&by, "by", "", "who makes the change (default cli:<login name>)")
	return cmd
}
