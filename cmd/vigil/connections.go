package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/queue"
)

func newConnectionsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connections",
		Short: "Manage the connections connector actions act through (Okta, Entra ID, Google Workspace, Salesforce, Slack, Jira, HTTP)",
	}
	cmd.AddCommand(newConnectionsAddCmd(g), newConnectionsListCmd(g), newConnectionsTestCmd(g), newConnectionsRmCmd(g),
		newConnectionsDryRunCmd(g))
	return cmd
}

// newConnectionService returns the connections service of a management
// command, built as the server builds it.
func newConnectionService(a *app.App) (*connection.Service, error) {
	svc, err := a.NewServices()
	if err != nil {
		return nil, err
	}
	return svc.Connections, nil
}

// newConnectorFlows returns the connections and flows services as the
// server wires them: the catalog holds the connector actions and flows can
// be turned on only when their connections are set.
func newConnectorFlows(a *app.App) (*connection.Service, *flows.Service, error) {
	svc, err := a.NewServices()
	if err != nil {
		return nil, nil, err
	}
	return svc.Connections, svc.Flows, nil
}

// newQueuedFlows is newConnectorFlows with an insert-only queue, for
// commands that start or resume executions for a running server to run.
func newQueuedFlows(a *app.App) (*flows.Service, error) {
	svc, err := newQueuedServices(a)
	if err != nil {
		return nil, err
	}
	return svc.Flows, nil
}

// newQueuedServices builds the services as the server does, with an
// insert-only queue: the jobs a command queues (executions, scans,
// deliveries) are left for a running server to work.
func newQueuedServices(a *app.App) (*app.Services, error) {
	svc, err := a.NewServices()
	if err != nil {
		return nil, err
	}
	q, err := queue.New(a.Store, queue.Config{})
	if err != nil {
		return nil, err
	}
	svc.SetQueue(q)
	return svc, nil
}

// withConnections opens the app and runs fn with the connections service.
func withConnections(cmd *cobra.Command, g *globals, fn func(ctx context.Context, svc *connection.Service) error) error {
	ctx := cmd.Context()
	a, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	svc, err := newConnectionService(a)
	if err != nil {
		return err
	}
	return fn(ctx, svc)
}

// connectionFlag maps one flag of "connections add" onto a field of each
// kind it applies to.
type connectionFlag struct {
	name string
	help string
	// from is "env" when the flag names an environment variable holding
	// the value, "file" when it names a file, "" for the value itself.
	from   string
	fields map[string]string
}

var connectionFlags = []connectionFlag{
	{"url", "Okta org URL, Salesforce instance URL, Jira site URL, HTTP base URL, or the Google Admin SDK / Slack Web API base URL", "",
		map[string]string{"okta": "url", "salesforce": "instanceUrl", "jira": "siteUrl", "http": "baseUrl", "google": "baseUrl", "slack": "baseUrl"}},
	{"token-env", "environment variable holding the Okta API token, Slack bot token, Jira API token or HTTP bearer token", "env",
		map[string]string{"okta": "token", "slack": "token", "jira": "apiToken", "http": "token"}},
	{"client-id", "client id of the Okta OAuth service app, Entra app registration or Salesforce connected app", "",
		map[string]string{"okta": "clientId", "entra": "clientId", "salesforce": "clientId"}},
	{"private-key-file", "Okta OAuth service app private key file (PEM or JWK)", "file", map[string]string{"okta": "privateKey"}},
	{"key-id", "kid of the Okta OAuth service app key", "", map[string]string{"okta": "keyId"}},
	{"scopes", "Okta OAuth scopes, comma-separated (default okta.users.read, okta.users.manage, okta.groups.manage)", "",
		map[string]string{"okta": "scopes"}},
	{"tenant", "Entra tenant id", "", map[string]string{"entra": "tenantId"}},
	{"client-secret-env", "environment variable holding the Entra or Salesforce client secret", "env",
		map[string]string{"entra": "clientSecret", "salesforce": "clientSecret"}},
	{"login-url", "Microsoft identity platform URL (default https://login.microsoftonline.com)", "", map[string]string{"entra": "loginUrl"}},
	{"graph-url", "Microsoft Graph URL (default https://graph.microsoft.com)", "", map[string]string{"entra": "graphUrl"}},
	{"credentials-file", "Google service account key file (JSON)", "file", map[string]string{"google": "serviceAccountKey"}},
	{"subject", "Google admin the service account acts as", "", map[string]string{"google": "subject"}},
	{"api-version", "Salesforce REST API version (default 62.0)", "", map[string]string{"salesforce": "apiVersion"}},
	{"webhook-url-env", "environment variable holding a Slack incoming webhook URL (instead of --token-env)", "env",
		map[string]string{"slack": "webhookUrl"}},
	{"email", "Jira account email", "", map[string]string{"jira": "email"}},
	{"auth", "HTTP authentication: none (default), bearer, basic or api-key", "", map[string]string{"http": "auth"}},
	{"username", "HTTP basic authentication user name", "", map[string]string{"http": "username"}},
	{"password-env", "environment variable holding the HTTP basic authentication password", "env", map[string]string{"http": "password"}},
	{"header", "HTTP header carrying the API key, such as X-API-Key", "", map[string]string{"http": "headerName"}},
	{"api-key-env", "environment variable holding the HTTP API key", "env", map[string]string{"http": "apiKey"}},
}

// flagsOfKind lists the flags a kind takes besides --name and --dry-run.
func flagsOfKind(kind string) []string {
	var out []string
	for _, f := range connectionFlags {
		if _, ok := f.fields[kind]; ok {
			out = append(out, "--"+f.name)
		}
	}
	return out
}

func newConnectionsAddCmd(g *globals) *cobra.Command {
	var name string
	var dryRun, asJSON bool
	values := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "add okta|entra|google|salesforce|slack|jira|http --name N [flags] [--dry-run]",
		Short: "Add a connection; secrets are read from environment variables or files and stored sealed",
		Long: `Add a connection: the account connector actions (okta.suspendUser,
slack.postMessage, …) act through. Flows find it by its name; the template
"Identity Security Posture Management" looks for Okta, Microsoft Entra ID,
Google Workspace, Salesforce, Slack and Jira.

Secrets never go on the command line: --token-env, --client-secret-env,
--webhook-url-env, --password-env and --api-key-env name environment
variables that are read now; --credentials-file and --private-key-file name
files. With --dry-run, actions record the request they would send in the
execution history instead of sending it.`,
		Example: `  vigil connections add okta --name Okta --url https://acme.okta.com --token-env OKTA_TOKEN
  vigil connections add okta --name Okta --url https://acme.okta.com --client-id 0oa… --private-key-file key.pem
  vigil connections add entra --name "Microsoft Entra ID" --tenant TENANT_ID --client-id ID --client-secret-env ENTRA_SECRET
  vigil connections add google --name "Google Workspace" --credentials-file key.json --subject admin@acme.com
  vigil connections add salesforce --name Salesforce --url https://acme.my.salesforce.com --client-id ID --client-secret-env SF_SECRET
  vigil connections add slack --name Slack --token-env SLACK_BOT_TOKEN
  vigil connections add jira --name Jira --url https://acme.atlassian.net --email bot@acme.com --token-env JIRA_TOKEN
  vigil connections add http --name Tickets --url https://tickets.acme.com/api --auth bearer --token-env TICKETS_TOKEN --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := strings.ToLower(args[0])
			if _, ok := connection.TypeOf(kind); !ok {
				return fmt.Errorf("%q is not a connection type; use okta, entra, google, salesforce, slack, jira or http", args[0])
			}
			if name == "" {
				return fmt.Errorf("--name is required")
			}
			in := connection.Input{Name: name, Kind: kind, DryRun: dryRun, Fields: map[string]string{}}
			var bad []string
			var err error
			cmd.Flags().Visit(func(pf *pflag.Flag) {
				i := slices.IndexFunc(connectionFlags, func(f connectionFlag) bool { return f.name == pf.Name })
				if i < 0 || err != nil {
					return
				}
				f := connectionFlags[i]
				field, ok := f.fields[kind]
				if !ok {
					bad = append(bad, "--"+f.name)
					return
				}
				v := *values[f.name]
				switch f.from {
				case "env":
					v, err = fromEnv(f.name, v)
				case "file":
					v, err = fromFile(f.name, v)
				}
				in.Fields[field] = v
			})
			if err != nil {
				return err
			}
			if len(bad) > 0 {
				return fmt.Errorf("%s does not apply to %s connections; they take %s", strings.Join(bad, ", "), kind, strings.Join(flagsOfKind(kind), ", "))
			}
			switch kind {
			case connection.KindOkta:
				if in.Fields["clientId"] != "" || in.Fields["privateKey"] != "" {
					in.Fields["auth"] = connection.AuthOAuth
				}
				in.Fields["scopes"] = strings.Join(splitComma(in.Fields["scopes"]), " ")
			case connection.KindHTTP:
				if in.Fields["auth"] == "api-key" {
					in.Fields["auth"] = connection.AuthAPIKey
				}
			}
			return withConnections(cmd, g, func(ctx context.Context, svc *connection.Service) error {
				c, err := svc.Create(ctx, in)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g.stdout, c)
				}
				mode := ""
				if c.DryRun {
					mode = " in dry run (actions are recorded, not sent)"
				}
				fmt.Fprintf(g.stdout, "Added %s connection %q%s.\n", c.Kind, c.Name, mode)
				printConnectionFields(g, c)
				fmt.Fprintf(g.stdout, "Next: vigil connections test %q\n", c.Name)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "name flows find the connection by (required)")
	fl.BoolVar(&dryRun, "dry-run", false, "record the requests actions would send instead of sending them")
	fl.BoolVar(&asJSON, "json", false, "print the connection as JSON (secrets masked)")
	for _, f := range connectionFlags {
		values[f.name] = fl.String(f.name, "", f.help)
	}
	return cmd
}

func printConnectionFields(g *globals, c *connection.Connection) {
	typ, _ := connection.TypeOf(c.Kind)
	for _, f := range typ.Fields {
		if v, ok := c.Settings[f.Name]; ok {
			fmt.Fprintf(g.stdout, "  %s: %s\n", f.Label, oneLine(v))
		}
		if v, ok := c.Secrets[f.Name]; ok {
			fmt.Fprintf(g.stdout, "  %s: %s\n", f.Label, v)
		}
	}
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func newConnectionsListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List connections (secrets masked) with their last test",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withConnections(cmd, g, func(ctx context.Context, svc *connection.Service) error {
				list, err := svc.List(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					if list == nil {
						list = []*connection.Connection{}
					}
					return printJSON(g.stdout, list)
				}
				if len(list) == 0 {
					fmt.Fprintln(g.stdout, "No connections. Add one with: vigil connections add okta --name Okta --url URL --token-env VAR")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tKIND\tDRY RUN\tLAST TEST\tWHERE")
				for _, c := range list {
					test := "never"
					if c.LastTest != nil {
						test = "ok"
						if !c.LastTest.OK {
							test = "failed"
						}
						test += " " + c.LastTest.At.Format("2006-01-02 15:04")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.Kind, yesNo(c.DryRun), test, where(c))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the connections as JSON (secrets masked)")
	return cmd
}

// where is what a connection points at, for lists.
func where(c *connection.Connection) string {
	for _, k := range []string{"url", "instanceUrl", "siteUrl", "baseUrl", "tenantId", "subject"} {
		if v := c.Settings[k]; v != "" {
			return v
		}
	}
	if _, ok := c.Secrets["webhookUrl"]; ok {
		return "incoming webhook"
	}
	keys := make([]string, 0, len(c.Settings))
	for k := range c.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		return c.Settings[keys[0]]
	}
	return ""
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newConnectionsTestCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test N",
		Short: "Make one harmless read call with a connection's credentials and say what happened",
		Long: `Test connection N: one read call that changes nothing (Okta GET /api/v1/users/me,
Entra ID GET /organization, Google Workspace users.list with one result,
Salesforce's organization, Slack auth.test, Jira /myself, HTTP HEAD or GET of
the base URL). The result is kept on the connection. Exits with status 1 when
the test fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withConnections(cmd, g, func(ctx context.Context, svc *connection.Service) error {
				res, err := svc.Test(ctx, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(g.stdout, res); err != nil {
						return err
					}
				} else {
					fmt.Fprintln(g.stdout, res.Message)
				}
				if !res.OK {
					return exitCode(1)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"ok": …, "message": …, "at": …} as JSON`)
	return cmd
}

func newConnectionsRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm N",
		Short: "Remove a connection; flows that use it can no longer be turned on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withConnections(cmd, g, func(ctx context.Context, svc *connection.Service) error {
				if err := svc.Delete(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Removed connection %q.\n", args[0])
				return nil
			})
		},
	}
}

func newConnectionsDryRunCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "dry-run N on|off",
		Short: "Turn a connection's dry run on (actions record what they would send) or off (actions send)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var on bool
			switch args[1] {
			case "on":
				on = true
			case "off":
			default:
				return fmt.Errorf("the dry run is turned on or off, not %q", args[1])
			}
			return withConnections(cmd, g, func(ctx context.Context, svc *connection.Service) error {
				c, err := svc.SetDryRun(ctx, args[0], on)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Dry run of connection %q is %s.\n", c.Name, args[1])
				return nil
			})
		},
	}
}
