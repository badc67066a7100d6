package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newIssuesRunFlowCmd(g *globals) *cobra.Command {
	var flow, folder string
	cmd := &cobra.Command{
		Use:   "run-flow ISSUE --flow FLOW [--folder NAME]",
		Short: "Start a flow marked callable on demand with an issue's event",
		Long: `Start a flow with the event an integration would be sent about the issue
now as its request body, and print the execution's id. FLOW is the flow's
id, title or namespace/name; add --folder when several folders hold a
match. Only a flow that is on and sets document.metadata.vigil.onDemand to
true can be run this way. The execution is queued; a running server runs
it, and "vigil serve" shows it in Flow history.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if flow == "" {
				return errors.New("name the flow to run with --flow")
			}
			ctx := cmd.Context()
			a, p, err := openPosture(ctx, g)
			if err != nil {
				return err
			}
			defer a.Close()
			ev, err := p.issues.Event(ctx, args[0])
			if err != nil {
				return err
			}
			svc, err := newQueuedFlows(a)
			if err != nil {
				return err
			}
			f, err := svc.FindFlow(ctx, flow, folder)
			if err != nil {
				return err
			}
			execID, err := svc.StartOnDemand(ctx, f.ID, ev)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Started %s on issue %s: execution %s\n", f.Title, args[0], execID)
			return nil
		},
	}
	cmd.Flags().StringVar(&flow, "flow", "", "the flow to run (id, title or namespace/name)")
	cmd.Flags().StringVar(&folder, "folder", "", "the folder holding the flow")
	return cmd
}
