package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
)

func newApprovalsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List flows' approval requests and approve or deny them",
	}
	cmd.AddCommand(newApprovalsListCmd(g), newApprovalsDecideCmd(g, true), newApprovalsDecideCmd(g, false))
	return cmd
}

func newApprovalsListCmd(g *globals) *cobra.Command {
	var status string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--status pending|approved|denied|expired|cancelled|all] [--json]",
		Short: "List approval requests, pending ones by default, oldest first",
		Long: `List the approval requests flows made with approval.request: pending ones (the
default, oldest first, so the next to expire is on top), or those of another
status, newest first. --json prints an array of request objects (id,
executionId, flowTitle, message, approvers, issue, affectedEntity, action,
status, requestedAt, expiresAt, decidedBy, decidedAt, comment), as
GET /api/v1/approvals answers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if status == "all" {
				status = ""
			}
			switch status {
			case "", flows.ApprovalPending, flows.ApprovalApproved, flows.ApprovalDenied, flows.ApprovalExpired, flows.ApprovalCancelled:
			default:
				return fmt.Errorf("--status %q is not pending, approved, denied, expired, cancelled or all", status)
			}
			return withFlows(cmd, g, func(ctx context.Context, svc *flows.Service) error {
				list, err := svc.Approvals(ctx, flows.ApprovalFilter{Status: status, Limit: limit})
				if err != nil {
					return err
				}
				if asJSON {
					if list == nil {
						list = []*flows.Approval{}
					}
					return writePostureJSON(g.stdout, list)
				}
				if len(list) == 0 {
					fmt.Fprintln(g.stdout, "No approval requests match.")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tFLOW\tMESSAGE\tAPPROVERS\tEXPIRES\tDECIDED BY")
				for _, a := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Status, a.FlowTitle, oneLine(a.Message),
						strings.Join(a.Approvers, ","), a.ExpiresAt.Local().Format("2006-01-02 15:04"), a.DecidedBy)
				}
				return tw.Flush()
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&status, "status", flows.ApprovalPending, "pending, approved, denied, expired, cancelled or all")
	fl.IntVar(&limit, "limit", 100, "show at most this many")
	fl.BoolVar(&asJSON, "json", false, "print the requests as JSON")
	return cmd
}

func newApprovalsDecideCmd(g *globals, approve bool) *cobra.Command {
	verb, short := "deny", "Deny an approval request: the flow goes on without the action"
	if approve {
		verb, short = "approve", "Approve an approval request: the flow goes on with the action"
	}
	var user, comment string
	cmd := &cobra.Command{
		Use:   verb + " ID --user NAME [--comment TEXT]",
		Short: short,
		Long: short + `. The decision is recorded as the user's, who must be
enabled and one of the request's approvers (by name or by role); a request
already decided, expired, or whose execution ended cannot be decided.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return errors.New("--user is required: the decision is recorded as that user's")
			}
			ctx := cmd.Context()
			a, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer a.Close()
			u, err := newAuthService(a).UserByName(ctx, user)
			if errors.Is(err, auth.ErrNotFound) {
				return fmt.Errorf("no user is named %s; give the name of a user who may approve (vigil users list)", user)
			}
			if err != nil {
				return fmt.Errorf("find user %s: %w", user, err)
			}
			if !u.Can(auth.PermDecideApprovals) {
				return fmt.Errorf("user %s (%s) may not decide approval requests; use a super_admin, workflows_admin or issue_responder the request names", u.Name, u.Role)
			}
			svc, err := newQueuedFlows(a)
			if err != nil {
				return err
			}
			ap, err := svc.Decide(ctx, args[0], flows.Decision{Approve: approve, User: u.Name, Role: string(u.Role), Comment: comment})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s %s by %s at %s; execution %s goes on.\n", ap.ID, ap.Status, ap.DecidedBy,
				ap.DecidedAt.Local().Format(time.RFC3339), ap.ExecutionID)
			return nil
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the deciding user's name (required)")
	cmd.Flags().StringVar(&comment, "comment", "", "why, shown with the decision")
	return cmd
}
