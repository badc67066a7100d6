package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/netguard"
)

func newFlowsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "flows",
		Short: "Validate, run, import, export, list and switch flows on or off",
	}
	cmd.AddCommand(newFlowsValidateCmd(g), newFlowsRunCmd(g), newFlowsImportCmd(g), newFlowsExportCmd(g),
		newFlowsListCmd(g), newFlowsOnOffCmd(g, true), newFlowsOnOffCmd(g, false), newFlowsEndpointCmd(g))
	return cmd
}

// newStandaloneCatalog is the catalog of commands that run without a
// database (validate, run): the built-in functions on tables, and the
// connector actions, which check their arguments but cannot run: there
// are no connections without a data directory.
func newStandaloneCatalog(tables catalog.Store, client *http.Client) (*catalog.Catalog, error) {
	cat := flows.NewCatalog(tables)
	if err := connector.New(connector.Config{Connections: noConnections{}, Client: client}).Register(cat); err != nil {
		return nil, err
	}
	return cat, nil
}

// noConnections answers standalone runs that call a connector action.
type noConnections struct{}

func (noConnections) Resolve(context.Context, string) (*connection.Resolved, error) {
	return nil, errors.New("connections are not available to vigil flows run; import the flow and run it on the server")
}

// withFlows opens the app and runs fn with a flows service wired as the
// server wires it: connector actions in its catalog, and connections
// checked before a flow is turned on.
func withFlows(cmd *cobra.Command, g *globals, fn func(ctx context.Context, svc *flows.Service) error) error {
	return withApp(cmd, g, func(ctx context.Context, a *app.App) error {
		_, svc, err := newConnectorFlows(a)
		if err != nil {
			return err
		}
		return fn(ctx, svc)
	})
}

// withApp opens the app for a command, runs fn with it and closes it.
func withApp(cmd *cobra.Command, g *globals, fn func(ctx context.Context, a *app.App) error) error {
	ctx := cmd.Context()
	a, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(ctx, a)
}

func newFlowsValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE|DIR...",
		Short: "Check flow documents and bundles without running them",
		Long: "Check flow documents (YAML or JSON), bundles and directories of them against the Serverless Workflow DSL 1.0 " +
			"and Vigil's catalog of functions. Helper flows are looked up among the documents given; one that is missing " +
			"is a warning. Exits 1 when any document is invalid.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var all []flows.BundleFlow
			for _, path := range args {
				b, err := flows.LoadPath(path)
				if err != nil {
					return err
				}
				all = append(all, b.Flows...)
			}
			var others []*dsl.Workflow
			for _, f := range all {
				if w, err := dsl.Parse(f.Document); err == nil {
					others = append(others, w)
				}
			}
			cat, err := newStandaloneCatalog(catalog.NewMemoryTables(nil), nil)
			if err != nil {
				return err
			}
			bad := 0
			for _, f := range all {
				v, err := flows.Validate(ctx, f.Document, cat, others)
				if err != nil {
					bad++
					var ve *dsl.ValidationError
					if errors.As(err, &ve) {
						for _, p := range ve.Problems {
							fmt.Fprintf(g.stdout, "%s: %s\n", f.Source, p)
						}
						continue
					}
					fmt.Fprintf(g.stdout, "%s: %v\n", f.Source, err)
					continue
				}
				d := v.Workflow.Document
				fmt.Fprintf(g.stdout, "%s: ok (%s/%s %s)\n", f.Source, d.Namespace, d.Name, d.Version)
				for _, w := range v.Warnings {
					fmt.Fprintf(g.stdout, "%s: warning: %s\n", f.Source, w)
				}
			}
			if bad > 0 {
				fmt.Fprintf(g.stderr, "vigil: %d of %d documents are invalid\n", bad, len(all))
				return exitCode(1)
			}
			return nil
		},
	}
}

func newFlowsRunCmd(g *globals) *cobra.Command {
	var input string
	var helpers []string
	cmd := &cobra.Command{
		Use:   "run FILE --input JSON|@FILE",
		Short: "Run a flow document once, standalone: no server, no data directory, tables in memory",
		Long: "Run a flow document once and print its output as JSON. Nothing is stored: tables live in memory for the run, " +
			"helper flows come from --helpers, and HTTP calls go through the SSRF guard (allow local addresses with " +
			"--allow-outbound or VIGIL_ALLOW_OUTBOUND). When the flow faults, the error object is printed as JSON and " +
			"the exit status is 1.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("cannot read the flow: %w", err)
			}
			if flows.IsBundle(doc) {
				return fmt.Errorf("%s is a bundle; run one flow file and pass the bundle with --helpers", args[0])
			}
			in, err := readInput(input)
			if err != nil {
				return err
			}
			allow, err := netguard.ParseAllowlist(g.allowOutbound)
			if err != nil {
				return err
			}
			var hb *flows.Bundle
			if len(helpers) > 0 {
				var parts []*flows.Bundle
				for _, h := range helpers {
					b, err := flows.LoadPath(h)
					if err != nil {
						return err
					}
					parts = append(parts, b)
				}
				if hb, err = flows.Merge(parts...); err != nil {
					return err
				}
			}
			tables := catalog.NewMemoryTables(nil)
			client := netguard.NewClient(netguard.Config{Allow: allow})
			cat, err := newStandaloneCatalog(tables, client)
			if err != nil {
				return err
			}
			res, err := flows.RunStandalone(ctx, doc, in, flows.StandaloneConfig{
				HTTPClient: client,
				Helpers:    hb,
				Tables:     tables,
				Catalog:    cat,
			})
			if res != nil {
				for _, c := range res.Children {
					if c.Fault != nil {
						fmt.Fprintf(g.stderr, "vigil: helper flow %s (%s) faulted: %v\n", c.Flow, c.ExecutionID, c.Fault)
					} else if c.Err != nil {
						fmt.Fprintf(g.stderr, "vigil: helper flow %s (%s) failed: %v\n", c.Flow, c.ExecutionID, c.Err)
					}
				}
			}
			var fault *engine.Fault
			if errors.As(err, &fault) {
				if err := printJSON(g.stdout, fault); err != nil {
					return err
				}
				return exitCode(1)
			}
			if err != nil {
				var ve *dsl.ValidationError
				if errors.As(err, &ve) {
					return fmt.Errorf("%s is not a valid flow:\n%w", args[0], err)
				}
				return err
			}
			return printJSON(g.stdout, res.Output)
		},
	}
	cmd.Flags().StringVar(&input, "input", "{}", "the flow's input: JSON text, or @FILE to read it from a file (@- for standard input)")
	cmd.Flags().StringArrayVar(&helpers, "helpers", nil, "a flow file, bundle or directory holding helper flows and table schemas (repeatable)")
	return cmd
}

// readInput reads --input: JSON text, @FILE or @- for standard input.
func readInput(s string) (any, error) {
	data := []byte(s)
	if name, ok := strings.CutPrefix(s, "@"); ok {
		var err error
		if name == "-" {
			data, err = io.ReadAll(io.LimitReader(os.Stdin, flows.DefaultMaxInput+1))
		} else {
			data, err = os.ReadFile(name) //nolint:gosec // G304: the operator names the file on the command line
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read the input: %w", err)
		}
	}
	v, err := engine.DecodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("--input is not valid JSON: %w", err)
	}
	return v, nil
}

func newFlowsImportCmd(g *globals) *cobra.Command {
	var folder string
	var on, asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE|DIR --folder NAME [--on]",
		Short: "Import a flow file, a directory of flow files, or a bundle into a folder",
		Long: "Import flows and tables' schemas into a folder (created if needed). Every flow is validated first; if any " +
			"is invalid nothing is imported. A flow already in the folder (same namespace and name) gets a new version " +
			"when its document changed. With --on, every imported flow is turned on; flows whose connections are not " +
			"set stay off and the command exits 1 after importing.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := flows.LoadPath(args[0])
			if err != nil {
				return err
			}
			if folder == "" && b.Folder == "" {
				return errors.New("name the folder to import into with --folder")
			}
			return withFlows(cmd, g, func(ctx context.Context, svc *flows.Service) error {
				res, err := svc.Import(ctx, flows.ImportParams{Folder: folder, Bundle: b, On: on, By: "cli"})
				if res != nil {
					if asJSON {
						err = errors.Join(err, printJSON(g.stdout, res))
					} else {
						printImport(g.stdout, res)
					}
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "the folder to import into (default: the bundle's folder)")
	cmd.Flags().BoolVar(&on, "on", false, "turn the imported flows on")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func printImport(w io.Writer, res *flows.ImportResult) {
	fmt.Fprintf(w, "folder %s\n", res.Folder.Name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range res.Tables {
		fmt.Fprintf(tw, "  table\t%s\t%s\n", t.Status, t.Name)
	}
	for _, f := range res.Flows {
		fmt.Fprintf(tw, "  flow\t%s\t%s\t%s v%d\t%s\n", f.Status, f.Flow.Title, f.Flow.Ref(), f.Flow.Version, onOffWord(f.Flow.On))
	}
	tw.Flush()
	for _, c := range res.Connections {
		fmt.Fprintf(w, "uses connection %q (%s)\n", c.Name, c.Type)
	}
}

func onOffWord(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func newFlowsExportCmd(g *globals) *cobra.Command {
	var folder string
	cmd := &cobra.Command{
		Use:   "export --folder NAME",
		Short: "Print a folder's flows, tables' schemas and connection references as a bundle",
		Long: "Print a bundle (YAML) holding the current version of every flow of a folder, its tables' schemas (not their " +
			"rows) and the names and types of the connections the flows use (never credentials). " +
			"vigil flows import reads it back.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if folder == "" {
				return errors.New("name the folder to export with --folder")
			}
			return withFlows(cmd, g, func(ctx context.Context, svc *flows.Service) error {
				f, err := svc.Folder(ctx, folder)
				if err != nil {
					return err
				}
				b, err := svc.Export(ctx, f.ID)
				if err != nil {
					return err
				}
				text, err := b.Marshal()
				if err != nil {
					return err
				}
				_, err = g.stdout.Write(text)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "the folder to export")
	return cmd
}

func newFlowsListCmd(g *globals) *cobra.Command {
	var folder string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List flows by folder",
		Long: "List flows by folder. --json prints an array of flows with the stable fields id, folderId, folder, " +
			"namespace, name, documentVersion, title, description, on, version, trigger (\"\" for a helper flow), " +
			"triggerSettings, saveAllData, createdAt and updatedAt.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withFlows(cmd, g, func(ctx context.Context, svc *flows.Service) error {
				var p flows.ListFlowsParams
				if folder != "" {
					f, err := svc.Folder(ctx, folder)
					if err != nil {
						return err
					}
					p.FolderID = f.ID
				}
				list, err := svc.Flows(ctx, p)
				if err != nil {
					return err
				}
				if asJSON {
					if list == nil {
						list = []*flows.Flow{}
					}
					return printJSON(g.stdout, list)
				}
				if len(list) == 0 {
					fmt.Fprintln(g.stdout, "No flows yet: import some with vigil flows import FILE --folder NAME.")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "FOLDER\tTITLE\tNAME\tTRIGGER\tON\tVERSION")
				for _, f := range list {
					trigger := f.Trigger
					if f.Helper() {
						trigger = "helper"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", f.Folder, f.Title, f.Ref(), trigger, onOffWord(f.On), f.Version)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "list only this folder's flows")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newFlowsOnOffCmd(g *globals, on bool) *cobra.Command {
	var folder string
	var all bool
	word := onOffWord(on)
	cmd := &cobra.Command{
		Use:   word + " FLOW... | --folder NAME --all",
		Short: "Turn flows " + word,
		Long: "Turn flows " + word + ". FLOW is a flow's title (\"2.2 Suspend Okta User\") or namespace/name; add --folder " +
			"when several folders hold a match. --folder NAME --all turns every flow of the folder " + word + "." +
			map[bool]string{true: " A flow that uses a connection that is not set cannot be turned on.", false: ""}[on],
		RunE: func(cmd *cobra.Command, args []string) error {
			if all && len(args) > 0 {
				return errors.New("give flows or --all, not both")
			}
			if all && folder == "" {
				return errors.New("--all needs --folder NAME")
			}
			if !all && len(args) == 0 {
				return fmt.Errorf("name the flows to turn %s, or use --folder NAME --all", word)
			}
			return withFlows(cmd, g, func(ctx context.Context, svc *flows.Service) error {
				if all {
					f, err := svc.Folder(ctx, folder)
					if err != nil {
						return err
					}
					done, err := svc.SetFolderOn(ctx, f.ID, on)
					for _, fl := range done {
						fmt.Fprintf(g.stdout, "%s: %s\n", fl.Title, word)
					}
					return err
				}
				var errs []error
				for _, ref := range args {
					f, err := svc.FindFlow(ctx, ref, folder)
					if err != nil {
						errs = append(errs, err)
						continue
					}
					if _, err := svc.SetOn(ctx, f.ID, on); err != nil {
						errs = append(errs, err)
						continue
					}
					fmt.Fprintf(g.stdout, "%s: %s\n", f.Title, word)
				}
				return errors.Join(errs...)
			})
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "the folder holding the flows")
	cmd.Flags().BoolVar(&all, "all", false, "every flow of the folder")
	return cmd
}
