package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
)

func newClusterCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "See the nodes sharing this database",
	}
	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "List the nodes (alive or stale, role, version, work running) and the queue depth",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, g, func(ctx context.Context, a *app.App) error {
				st, err := a.ClusterStatus(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g.stdout, st)
				}
				fmt.Fprintf(g.stdout, "%d node(s) alive on %s; %d job(s) waiting in the queue\n\n", st.Alive, st.Database, st.QueueDepth)
				if len(st.Nodes) == 0 {
					fmt.Fprintln(g.stdout, "No node is registered: no 'vigil serve' runs on this database.")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NODE\tSTATE\tROLE\tVERSION\tHOST\tADDR\tRUNNING\tSTARTED\tLAST HEARTBEAT")
				now := time.Now()
				for _, n := range st.Nodes {
					state := "alive"
					switch {
					case !n.Alive:
						state = "stale"
					case n.Draining:
						state = "draining"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s ago\n", n.ID, state, n.Role, n.Version, n.Hostname, n.Addr,
						n.Running, n.StartedAt.Local().Format("2006-01-02 15:04:05"), now.Sub(n.HeartbeatAt).Round(time.Second))
				}
				return tw.Flush()
			})
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON (the shape of GET /api/v1/cluster)")
	cmd.AddCommand(status)
	return cmd
}
