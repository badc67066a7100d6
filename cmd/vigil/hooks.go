package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/queue"
)

func newHooksCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hooks",
		Short: "Manage outbound integrations (webhooks that receive issue events)",
	}
	cmd.AddCommand(newHooksAddCmd(g), newHooksAutomateCmd(g), newHooksListCmd(g), newHooksTestCmd(g), newHooksRmCmd(g),
		newHooksRotateCmd(g), newHooksPauseCmd(g), newHooksResumeCmd(g), newHooksDeliveriesCmd(g), newHooksResendCmd(g))
	return cmd
}

// withHooks opens the app and runs fn with a hooks service; queued makes
// the service able to queue deliveries (resume, resend).
func withHooks(cmd *cobra.Command, g *globals, queued bool, fn func(ctx context.Context, svc *hooks.Service) error) error {
	ctx := cmd.Context()
	a, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	svc := newHooksService(a)
	if queued {
		q, err := queue.New(a.Store, queue.Config{})
		if err != nil {
			return err
		}
		svc.SetQueue(q)
	}
	return fn(ctx, svc)
}

func newHooksService(a *app.App) *hooks.Service {
	var svc *hooks.Service
	svc = hooks.New(a.Store, a.Box, hooks.Config{Client: a.Outbound, Allow: a.Allow, PublicURL: a.Config.PublicURL,
		Now: a.Config.Now, Logger: a.Logger,
		// automate --send-open lists the open issues; the issues service
		// publishes through this one.
		OpenIssues: func(ctx context.Context) ([]event.Issue, error) {
			return issue.New(a.Store, svc, issue.Config{PublicURL: a.Config.PublicURL, Now: a.Config.Now, Logger: a.Logger}).OpenIssues(ctx)
		}})
	return svc
}

// keyValue parses KEY=VALUE; a VALUE of @env:VAR is read from the
// environment now, so the secret never appears on the command line.
func keyValue(flag, s string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("--%s %q must have the form KEY=VALUE (VALUE may be @env:VAR)", flag, s)
	}
	if name, ok := strings.CutPrefix(v, "@env:"); ok {
		val, set := os.LookupEnv(name)
		if !set || val == "" {
			return "", "", fmt.Errorf("--%s %s=@env:%s: the environment variable %s is not set", flag, k, name, name)
		}
		v = val
	}
	return k, v, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newHooksAddCmd(g *globals) *cobra.Command {
	var in hooks.Input
	var params, headers []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add --name N --url URL [--param K=V]... [--header K=V]...",
		Short: "Add an integration; prints its signing secret once",
		Long: `Add an outbound integration: a webhook receiver (an Okta Workflows API Endpoint
flow, a Vigil invoke URL, any HTTPS endpoint) and its API key entries, sent as
URL parameters (--param) or HTTP headers (--header). Keys are kept exactly as
typed (clientToken is not ClientToken). A value written @env:VAR is read from
the environment variable VAR, so it stays out of shell history.

The URL must use https, except for hosts whose addresses are on the outbound
allowlist (--allow-outbound). Events are sent only once an automation says
which: see 'vigil hooks automate'.`,
		Example: `  vigil hooks add --name "Okta Workflows" --url https://acme.workflows.okta.com/api/flo/abc/invoke --param clientToken=@env:WF_TOKEN`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, p := range params {
				k, v, err := keyValue("param", p)
				if err != nil {
					return err
				}
				in.Keys = append(in.Keys, hooks.Key{Name: k, Placement: hooks.PlaceParam, Value: v})
			}
			for _, h := range headers {
				k, v, err := keyValue("header", h)
				if err != nil {
					return err
				}
				in.Keys = append(in.Keys, hooks.Key{Name: k, Placement: hooks.PlaceHeader, Value: v})
			}
			return withHooks(cmd, g, false, func(ctx context.Context, svc *hooks.Service) error {
				v, whsec, err := svc.Create(ctx, in)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g.stdout, map[string]any{"integration": v, "signingSecret": whsec})
				}
				fmt.Fprintf(g.stdout, "Added integration %q (%s).\n", v.Name, v.ID)
				for _, k := range v.Keys {
					fmt.Fprintf(g.stdout, "  %s %s = %s\n", k.Placement, k.Name, k.Masked)
				}
				fmt.Fprintf(g.stdout, "Signing secret (shown once; receivers check webhook-signature with it):\n  %s\n", whsec)
				fmt.Fprintf(g.stdout, "Next: vigil hooks automate %q --all-titles   (or --titles \"T1,T2\")\n", v.Name)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "name of the integration (required)")
	f.StringVar(&in.URL, "url", "", "webhook address (required)")
	f.StringArrayVar(&params, "param", nil, "API key entry sent as a URL parameter, KEY=VALUE or KEY=@env:VAR (repeatable)")
	f.StringArrayVar(&headers, "header", nil, "API key entry sent as an HTTP header, KEY=VALUE or KEY=@env:VAR (repeatable)")
	f.IntVar(&in.MaxInFlight, "max-in-flight", 0, "concurrent requests to this receiver, across every node on PostgreSQL (0: default 4)")
	f.Float64Var(&in.RatePerSecond, "rate", 0, "requests per second to this receiver, across every node on PostgreSQL (0: default 20)")
	f.BoolVar(&asJSON, "json", false, `print {"integration": …, "signingSecret": …} as JSON`)
	// MarkFlagRequired fails only for a flag that is not defined; both are, above.
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("url")
	return cmd
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func newHooksAutomateCmd(g *globals) *cobra.Command {
	var titles, autoSend, severities, categories, products, events string
	var all, asJSON, sendOpen bool
	cmd := &cobra.Command{
		Use:   `automate N --titles "T1,T2" | --all-titles [--auto-send on|off]`,
		Short: "Choose which issue events an integration is sent",
		Long: `Set the automation of integration N (name or id): the issue titles that trigger
it (exact titles, comma-separated, or --all-titles), optional filters, and the
auto-send switch. Only issue.created events are sent unless --events says
otherwise. The automation replaces the previous one and applies to events
produced from now on.`,
		Example: `  vigil hooks automate "Okta Workflows" --titles "Unused Admin Account,No MFA - Admin Account"
  vigil hooks automate "Okta Workflows" --all-titles --severities High,Critical --auto-send on`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (titles != "") && autoSend != "off" {
				return fmt.Errorf("give either --titles \"T1,T2\" or --all-titles")
			}
			in := hooks.AutomationInput{AllTitles: all, Titles: splitList(titles), Severities: splitList(severities),
				Categories: splitList(categories), Products: splitList(products), EventTypes: splitList(events)}
			switch autoSend {
			case "":
			case "on", "off":
				on := autoSend == "on"
				in.AutoSend = &on
			default:
				return fmt.Errorf("--auto-send must be on or off, not %q", autoSend)
			}
			return withHooks(cmd, g, sendOpen, func(ctx context.Context, svc *hooks.Service) error {
				a, err := svc.SetAutomation(ctx, args[0], in)
				if err != nil {
					return err
				}
				sent := -1
				if sendOpen && a.AutoSend {
					if sent, err = svc.SendOpenNow(ctx, a.HookID); err != nil {
						return err
					}
				}
				if asJSON {
					return printJSON(g.stdout, a)
				}
				fmt.Fprintf(g.stdout, "Automation saved for %q: %s.\n", args[0], describeAutomation(a))
				if sent >= 0 {
					fmt.Fprintf(g.stdout, "%d open issues queued to be sent now.\n", sent)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&titles, "titles", "", "comma-separated issue titles that trigger the hook")
	f.BoolVar(&all, "all-titles", false, "every issue title triggers the hook")
	f.StringVar(&autoSend, "auto-send", "", "on or off (default: unchanged, on for a new automation)")
	f.StringVar(&severities, "severities", "", "only these severities (Low,Medium,High,Critical)")
	f.StringVar(&categories, "categories", "", "only these categories (MFA,Least Privilege,Credential Hygiene,Account Lifecycle)")
	f.StringVar(&products, "products", "", "only these source products (Okta,AAD,Google Workspace,Salesforce.com,AWS)")
	f.StringVar(&events, "events", "", "event types sent (default issue.created; add issue.updated,issue.resolved)")
	f.BoolVar(&asJSON, "json", false, "print the automation as JSON")
	f.BoolVar(&sendOpen, "send-open", false, "also send, once, the open issues the automation matches")
	return cmd
}

func describeAutomation(a *hooks.Automation) string {
	if a == nil {
		return "no automation (nothing is sent)"
	}
	var parts []string
	if a.AutoSend {
		parts = append(parts, "auto-send on")
	} else {
		parts = append(parts, "auto-send off")
	}
	if a.AllTitles {
		parts = append(parts, "all titles")
	} else {
		parts = append(parts, fmt.Sprintf("titles %s", strings.Join(a.Titles, ", ")))
	}
	for _, f := range []struct {
		name string
		v    []string
	}{{"severities", a.Severities}, {"categories", a.Categories}, {"products", a.Products}} {
		if len(f.v) > 0 {
			parts = append(parts, f.name+" "+strings.Join(f.v, ", "))
		}
	}
	parts = append(parts, "events "+strings.Join(a.EventTypes, ", "))
	return strings.Join(parts, "; ")
}

func newHooksListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List integrations, their state and automation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHooks(cmd, g, false, func(ctx context.Context, svc *hooks.Service) error {
				list, err := svc.List(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g.stdout, list)
				}
				if len(list) == 0 {
					fmt.Fprintln(g.stdout, "No integrations; add one with 'vigil hooks add'.")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tSTATE\tURL\tKEYS\tAUTOMATION")
				for _, v := range list {
					var keys []string
					for _, k := range v.Keys {
						keys = append(keys, string(k.Placement)+":"+k.Name)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Name, v.State, v.URL, strings.Join(keys, " "), describeAutomation(v.Automation))
				}
				tw.Flush()
				for _, v := range list {
					if v.State == hooks.StatePaused {
						fmt.Fprintf(g.stdout, "\n%s is paused: %s\n", v.Name, v.PauseReason)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of integrations (values masked)")
	return cmd
}

func newHooksTestCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test N",
		Short: "Send the sample event (marked X-Vigil-Test: true) to an integration and report the outcome",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHooks(cmd, g, false, func(ctx context.Context, svc *hooks.Service) error {
				res, err := svc.TestSaved(ctx, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(g.stdout, res); err != nil {
						return err
					}
				} else if res.OK {
					fmt.Fprintf(g.stdout, "OK: the receiver answered %d in %d ms.\n", res.StatusCode, res.LatencyMS)
				} else {
					fmt.Fprintf(g.stdout, "FAILED (%s): %s\n", res.ErrorKind, res.Error)
				}
				if !asJSON && res.ResponseBody != "" {
					fmt.Fprintf(g.stdout, "Response (first 2 KB):\n%s\n", res.ResponseBody)
				}
				if !res.OK {
					return exitCode(1)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newHooksRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm N",
		Short: "Delete an integration with its automation and delivery history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHooks(cmd, g, false, func(ctx context.Context, svc *hooks.Service) error {
				if err := svc.Delete(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Deleted integration %q.\n", args[0])
				return nil
			})
		},
	}
}

func newHooksRotateCmd(g *globals) *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "rotate-secret N [--grace 24h]",
		Short: "Give an integration a new signing secret; both sign during the grace period",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if grace < 0 {
				return fmt.Errorf("--grace must not be negative")
			}
			if grace == 0 {
				grace = -1 // none
			}
			return withHooks(cmd, g, false, func(ctx context.Context, svc *hooks.Service) error {
				whsec, err := svc.RotateSecret(ctx, args[0], grace)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "New signing secret for %q (shown once):\n  %s\n", args[0], whsec)
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", hooks.DefaultSecretGrace, "how long the old secret keeps signing (0: stop at once)")
	return cmd
}

func newHooksPauseCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "pause N [--reason R]",
		Short: "Stop sending to an integration; its deliveries are held until resume",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHooks(cmd, g, false, func(ctx context.Context, svc *hooks.Service) error {
				if err := svc.Pause(ctx, args[0], reason); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Paused %q.\n", args[0])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, shown in the console banner")
	return cmd
}

func newHooksResumeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "resume N",
		Short: "Resume a paused integration and send what it holds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHooks(cmd, g, true, func(ctx context.Context, svc *hooks.Service) error {
				n, err := svc.Resume(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Resumed %q; %d deliveries queued.\n", args[0], n)
				return nil
			})
		},
	}
}

func newHooksDeliveriesCmd(g *globals) *cobra.Command {
	var f hooks.DeliveryFilter
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "deliveries [N] [--status pending|delivered|held|dead] [--issue ID] [--event ID]",
		Short: "List deliveries, newest first (dead letters with --status dead)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				f.Hook = args[0]
			}
			return withHooks(cmd, g, false, func(ctx context.Context, svc *hooks.Service) error {
				list, err := svc.Deliveries(ctx, f)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g.stdout, list)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tATTEMPTS\tEVENT\tTYPE\tTITLE\tLAST ERROR")
				for _, d := range list {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.ID, d.Status, d.Attempts, d.EventID, d.EventType, d.Title, d.LastError)
				}
				return tw.Flush()
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Status, "status", "", "only deliveries in this state")
	fl.StringVar(&f.IssueID, "issue", "", "only deliveries of this issue")
	fl.StringVar(&f.EventID, "event", "", "only deliveries of this event")
	fl.IntVar(&f.Limit, "limit", 100, "at most this many (up to 1000)")
	fl.BoolVar(&asJSON, "json", false, "print a JSON array of deliveries")
	return cmd
}

func newHooksResendCmd(g *globals) *cobra.Command {
	var deadOf string
	cmd := &cobra.Command{
		Use:   "resend ID... | --dead N",
		Short: "Send deliveries again (a new round of attempts, same webhook-id)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if (deadOf == "") == (len(args) == 0) {
				return fmt.Errorf("give delivery ids, or --dead N to resend every dead letter of integration N")
			}
			return withHooks(cmd, g, true, func(ctx context.Context, svc *hooks.Service) error {
				var n int
				var err error
				if deadOf != "" {
					n, err = svc.ResendDead(ctx, deadOf)
				} else {
					n, err = svc.Resend(ctx, args...)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "%d deliveries queued.\n", n)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&deadOf, "dead", "", "resend every dead-lettered delivery of this integration")
	return cmd
}
