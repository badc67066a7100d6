package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/flows/template"
)

func newTemplatesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "List the flow templates and add one as a new folder of flows",
	}
	cmd.AddCommand(newTemplatesListCmd(g), newTemplatesAddCmd(g))
	return cmd
}

func newTemplatesListCmd(g *globals) *cobra.Command {
	var search string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list [--search WORDS]",
		Short:   "List the flow templates, or those matching every word of --search",
		Example: `  vigil templates list --search ISPM`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := template.Load()
			if err != nil {
				return err
			}
			list := c.Search(search)
			if asJSON {
				if list == nil {
					list = []*template.Template{}
				}
				return printJSON(g.stdout, list)
			}
			if len(list) == 0 {
				fmt.Fprintf(g.stdout, "No template matches %q.\n", search)
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTITLE\tFLOWS\tCONNECTIONS")
			for _, t := range list {
				var conns []string
				for _, c := range t.Connections {
					conns = append(conns, c.Name)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", t.Name, t.Title, t.FlowCount, strings.Join(conns, ", "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&search, "search", "", "words the template's title, keywords or description must contain")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the templates as JSON: title, description, keywords, flows, connections, variables, tables")
	return cmd
}

func newTemplatesAddCmd(g *globals) *cobra.Command {
	var folder string
	var sets []string
	var asJSON, again bool
	cmd := &cobra.Command{
		Use:   "add NAME [--folder F] [--set KEY=VALUE]...",
		Short: "Add a template as a new folder of flows (off) and tables",
		Long: `Add the template NAME (its name or title) as a new folder: F, or the
template's title. When that folder exists already the command refuses, since
a second copy has its own flows and invoke URLs; --again adds it anyway as
" (2)", " (3)"…. Nothing is ever overwritten. The flows are added off: set
their connections, then turn them on.

--set gives a template variable (repeatable); see 'vigil templates list --json'
for each template's variables. A variable left unset stays empty, and the flows
that need it stop with a clear error until it is set.`,
		Example: `  vigil templates add identity-security-posture-management --set oktaMfaGroupId=00g1a2b3c4d5e6f7g8h9 --set slackChannel=#security`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vars := map[string]string{}
			for _, s := range sets {
				k, v, err := keyValue("set", s)
				if err != nil {
					return err
				}
				vars[k] = v
			}
			c, err := template.Load()
			if err != nil {
				return err
			}
			return withApp(cmd, g, func(ctx context.Context, a *app.App) error {
				conns, svc, err := newConnectorFlows(a)
				if err != nil {
					return err
				}
				inst := template.FlowsInstaller{Flows: svc}
				if !again {
					if err := c.CheckNew(ctx, inst, args[0], folder); errors.Is(err, template.ErrPresent) {
						return fmt.Errorf("%w; run again with --again to add it anyway", err)
					} else if err != nil {
						return err
					}
				}
				added, err := c.Add(ctx, inst, args[0], folder, vars)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g.stdout, added)
				}
				fmt.Fprintf(g.stdout, "Added template %s as folder %q: %d flows (off), tables %s.\n",
					added.Template, added.Folder, len(added.Flows), strings.Join(added.Tables, ", "))
				if len(added.Unset) > 0 {
					fmt.Fprintf(g.stdout, "Variables not set (the flows that need them stop with an error): %s.\n", strings.Join(added.Unset, ", "))
				}
				fmt.Fprintln(g.stdout, "Connections the flows use:")
				for _, cn := range added.Connections {
					state := "not set: vigil connections add " + cn.Kind + fmt.Sprintf(" --name %q …", cn.Name)
					if ok, err := conns.Exists(ctx, cn.Name); err == nil && ok {
						state = "set"
					}
					fmt.Fprintf(g.stdout, "  %-20s %s (%s)\n", cn.Name, state, strings.Join(cn.Flows, ", "))
				}
				fmt.Fprintf(g.stdout, "Next: turn on the helpers you connected and the routing flow (vigil flows on FLOW... --folder %q).\n", added.Folder)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "name of the new folder (default the template's title)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "template variable KEY=VALUE (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what was added as JSON")
	cmd.Flags().BoolVar(&again, "again", false, "add a second copy when the folder exists already")
	return cmd
}
