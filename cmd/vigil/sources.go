package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/source"
)

// posture holds the services the posture commands use.
type posture struct {
	sources *source.Service
	issues  *issue.Service
}

// openPosture opens the app and builds the posture services over it as the
// server does. Issue events go to the hooks outbox, with an insert-only
// queue so that deliveries to matching integrations are queued in the same
// transaction; a running server sends them.
func openPosture(ctx context.Context, g *globals) (*app.App, *posture, error) {
	a, err := g.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	// Only warnings: the commands print their own summary.
	a.Logger = slog.New(minLevel{slog.LevelWarn, a.Logger.Handler()})
	svc, err := newQueuedServices(a)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, &posture{sources: svc.Sources, issues: svc.Issues}, nil
}

// minLevel drops records below a level.
type minLevel struct {
	min slog.Level
	slog.Handler
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func newSourcesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sources",
		Short: "Manage the identity sources posture scans read (Okta, Entra ID, Google Workspace, Salesforce, AWS, snapshot files)",
	}
	cmd.AddCommand(newSourcesAddCmd(g), newSourcesListCmd(g), newSourcesRmCmd(g), newSourcesPrimaryCmd(g))
	return cmd
}

// sourceFlags are the flags of "sources add"; which apply depends on the kind.
type sourceFlags struct {
	name, url, tokenEnv, clientID, privateKeyFile, scopes, keyID    string
	tenant, clientSecretEnv, graphURL, loginURL                     string
	credentialsFile, subject, customer, apiVersion                  string
	credentialReport, accessKeyID, secretAccessKeyEnv, region, file string
	primary                                                         bool
	schedule                                                        time.Duration
}

// sourceKindFlags lists the flags each kind accepts besides --name,
// --primary and --schedule.
var sourceKindFlags = map[source.Kind][]string{
	source.KindOkta:       {"url", "token-env", "client-id", "private-key-file", "scopes", "key-id", "tenant"},
	source.KindEntra:      {"tenant", "client-id", "client-secret-env", "graph-url", "login-url"},
	source.KindGoogle:     {"credentials-file", "subject", "url", "customer", "tenant"},
	source.KindSalesforce: {"url", "client-id", "client-secret-env", "api-version", "tenant"},
	source.KindAWS:        {"credential-report", "access-key-id", "secret-access-key-env", "region", "url", "tenant"},
	source.KindSnapshot:   {"file"},
}

func newSourcesAddCmd(g *globals) *cobra.Command {
	var f sourceFlags
	cmd := &cobra.Command{
		Use:   "add okta|entra|google|salesforce|aws|snapshot --name N [flags]",
		Short: "Add an identity source; secrets are read from environment variables or files and stored sealed",
		Long: `Add an identity source. Secrets never go on the command line: --token-env,
--client-secret-env and --secret-access-key-env name environment variables
that are read now; --credentials-file and --private-key-file name files.

  vigil sources add okta --name okta-prod --url https://acme.okta.com --token-env OKTA_TOKEN
  vigil sources add entra --name entra --tenant acme.onmicrosoft.com --client-id ID --client-secret-env ENTRA_SECRET
  vigil sources add google --name workspace --credentials-file key.json --subject admin@acme.com
  vigil sources add salesforce --name sfdc --url https://acme.my.salesforce.com --client-id ID --client-secret-env SF_SECRET
  vigil sources add aws --name aws-prod --credential-report report.csv
  vigil sources add snapshot --name demo --file org.json

The first Okta source becomes the primary identity provider (the one whose
accounts define people) unless --primary names another. Sources are scanned
every --schedule (default 24h; 0 means only on demand).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := source.Kind(strings.ToLower(args[0]))
			if !kind.Valid() {
				return fmt.Errorf("%q is not a source kind; use okta, entra, google, salesforce, aws or snapshot", args[0])
			}
			if err := checkKindFlags(cmd, kind); err != nil {
				return err
			}
			in, err := f.input(cmd, kind)
			if err != nil {
				return err
			}
			return withPosture(cmd, g, func(ctx context.Context, p *posture) error {
				src, err := p.sources.Add(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Added %s source %q%s, scanned %s.\n", src.Kind, src.Name, primaryNote(src), scheduleWords(src.Schedule))
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "name of the source (required)")
	fl.StringVar(&f.url, "url", "", "Okta org URL, Salesforce instance URL, Google Admin SDK base URL or AWS IAM endpoint")
	fl.StringVar(&f.tokenEnv, "token-env", "", "environment variable holding the Okta API token")
	fl.StringVar(&f.clientID, "client-id", "", "client id of the Entra app, Salesforce connected app or Okta OAuth service app")
	fl.StringVar(&f.privateKeyFile, "private-key-file", "", "Okta OAuth service app private key (PEM or JWK)")
	fl.StringVar(&f.scopes, "scopes", "", "Okta OAuth scopes, comma-separated (default the read scopes a scan needs)")
	fl.StringVar(&f.keyID, "key-id", "", "kid of the Okta OAuth service app key")
	fl.StringVar(&f.tenant, "tenant", "", "Entra tenant id or domain; for other kinds, the tenant name shown in issues")
	fl.StringVar(&f.clientSecretEnv, "client-secret-env", "", "environment variable holding the Entra or Salesforce client secret")
	fl.StringVar(&f.graphURL, "graph-url", "", "Microsoft Graph base URL (default https://graph.microsoft.com)")
	fl.StringVar(&f.loginURL, "login-url", "", "Microsoft identity platform URL (default https://login.microsoftonline.com)")
	fl.StringVar(&f.credentialsFile, "credentials-file", "", "Google service account key file (JSON)")
	fl.StringVar(&f.subject, "subject", "", "Google admin the service account acts as")
	fl.StringVar(&f.customer, "customer", "", "Google customer id (default my_customer)")
	fl.StringVar(&f.apiVersion, "api-version", "", "Salesforce REST API version, e.g. 62.0")
	fl.StringVar(&f.credentialReport, "credential-report", "", "AWS IAM credential report CSV file")
	fl.StringVar(&f.accessKeyID, "access-key-id", "", "AWS access key id, to fetch the report and read AdministratorAccess")
	fl.StringVar(&f.secretAccessKeyEnv, "secret-access-key-env", "", "environment variable holding the AWS secret access key")
	fl.StringVar(&f.region, "region", "", "AWS signing region (default us-east-1)")
	fl.StringVar(&f.file, "file", "", "snapshot file (see docs/snapshot.md)")
	fl.BoolVar(&f.primary, "primary", false, "make this source the primary identity provider")
	fl.DurationVar(&f.schedule, "schedule", source.DefaultSchedule, "interval between scheduled scans; 0 scans only on demand")
	return cmd
}

// checkKindFlags refuses flags that do not apply to the kind, so that a
// typo does not go unnoticed.
func checkKindFlags(cmd *cobra.Command, kind source.Kind) error {
	allowed := map[string]bool{"name": true, "primary": true, "schedule": true}
	for _, f := range sourceKindFlags[kind] {
		allowed[f] = true
	}
	var bad []string
	inherited := cmd.InheritedFlags()
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if !allowed[f.Name] && inherited.Lookup(f.Name) == nil {
			bad = append(bad, "--"+f.Name)
		}
	})
	if len(bad) > 0 {
		return fmt.Errorf("%s does not apply to %s sources; they take --%s", strings.Join(bad, ", "), kind,
			strings.Join(sourceKindFlags[kind], ", --"))
	}
	return nil
}

// fromEnv reads a secret from the environment variable a flag names.
func fromEnv(flag, name string) (string, error) {
	if name == "" {
		return "", nil
	}
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return "", fmt.Errorf("--%s %s: the environment variable %s is not set", flag, name, name)
	}
	return v, nil
}

func fromFile(flag, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the file on the command line
	if err != nil {
		return "", fmt.Errorf("--%s: cannot read %s: %w", flag, path, unwrapPathErr(err))
	}
	return string(b), nil
}

func unwrapPathErr(err error) error {
	if pe := (*os.PathError)(nil); errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (f *sourceFlags) input(cmd *cobra.Command, kind source.Kind) (source.Input, error) {
	in := source.Input{Name: f.name, Kind: kind, Primary: f.primary, Schedule: f.schedule}
	if f.name == "" {
		return in, fmt.Errorf("--name is required")
	}
	if f.schedule == 0 {
		in.Schedule = -1
	}
	in.Settings = source.Settings{URL: f.url, Tenant: f.tenant, ClientID: f.clientID, GraphURL: f.graphURL,
		LoginURL: f.loginURL, Subject: f.subject, Customer: f.customer, APIVersion: f.apiVersion, File: f.file,
		AccessKeyID: f.accessKeyID, Region: f.region, KeyID: f.keyID, Scopes: splitComma(f.scopes)}
	if kind == source.KindAWS {
		in.Settings.File = f.credentialReport
	}
	var err error
	c := &in.Credentials
	if c.Token, err = fromEnv("token-env", f.tokenEnv); err != nil {
		return in, err
	}
	if c.ClientSecret, err = fromEnv("client-secret-env", f.clientSecretEnv); err != nil {
		return in, err
	}
	if c.SecretAccessKey, err = fromEnv("secret-access-key-env", f.secretAccessKeyEnv); err != nil {
		return in, err
	}
	if c.ServiceAccountKey, err = fromFile("credentials-file", f.credentialsFile); err != nil {
		return in, err
	}
	if c.PrivateKey, err = fromFile("private-key-file", f.privateKeyFile); err != nil {
		return in, err
	}
	return in, nil
}

func splitComma(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func primaryNote(s *source.Source) string {
	if s.Primary {
		return " (the primary identity provider)"
	}
	return ""
}

func scheduleWords(d time.Duration) string {
	if d <= 0 {
		return "on demand only"
	}
	return "every " + shortDuration(d)
}

// shortDuration writes 24h0m0s as 24h and 1h30m0s as 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	s = strings.TrimSuffix(s, "0m")
	if s == "" {
		return "0s"
	}
	return s
}

// sourceJSON is a source in "sources list --json": no secret, ever.
type sourceJSON struct {
	Name           string          `json:"name"`
	Kind           source.Kind     `json:"kind"`
	Primary        bool            `json:"primary"`
	Schedule       string          `json:"schedule"`
	Settings       source.Settings `json:"settings"`
	HasCredentials bool            `json:"hasCredentials"`
	LastScanAt     *time.Time      `json:"lastScanAt"`
	LastScanOK     bool            `json:"lastScanOk"`
	LastError      string          `json:"lastError,omitempty"`
	LastAccounts   int             `json:"lastAccounts"`
	LastSuccessAt  *time.Time      `json:"lastSuccessAt"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func newSourcesListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the identity sources and how their last scan went",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withPosture(cmd, g, func(ctx context.Context, p *posture) error {
				list, err := p.sources.List(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]sourceJSON, 0, len(list))
					for _, s := range list {
						out = append(out, sourceJSON{Name: s.Name, Kind: s.Kind, Primary: s.Primary, Schedule: scheduleWords(s.Schedule),
							Settings: s.Settings, HasCredentials: s.HasCredentials, LastScanAt: timeOrNil(s.LastScanAt),
							LastScanOK: s.LastScanOK, LastError: s.LastError, LastAccounts: s.LastAccounts,
							LastSuccessAt: timeOrNil(s.LastSuccessAt)})
					}
					return writePostureJSON(g.stdout, out)
				}
				if len(list) == 0 {
					fmt.Fprintln(g.stdout, "No sources yet; add one with 'vigil sources add'.")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tKIND\tPRIMARY\tSCHEDULE\tLAST SCAN\tRESULT\tACCOUNTS")
				for _, s := range list {
					primary := ""
					if s.Primary {
						primary = "yes"
					}
					last, result := "never", ""
					if !s.LastScanAt.IsZero() {
						last = s.LastScanAt.Local().Format("2006-01-02 15:04")
						result = "ok"
						if !s.LastScanOK {
							result = "failed"
						}
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", s.Name, s.Kind, primary, scheduleWords(s.Schedule), last, result, s.LastAccounts)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, s := range list {
					if s.LastError != "" {
						fmt.Fprintf(g.stdout, "\n%s: %s\n", s.Name, s.LastError)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newSourcesRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a source and its stored accounts; its open issues are resolved",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withPosture(cmd, g, func(ctx context.Context, p *posture) error {
				if err := p.sources.Remove(ctx, args[0], cliActor()); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Removed source %q; its open issues are resolved.\n", args[0])
				return nil
			})
		},
	}
}

func newSourcesPrimaryCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "primary NAME",
		Short: "Make a source the primary identity provider, whose accounts define people",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withPosture(cmd, g, func(ctx context.Context, p *posture) error {
				if err := p.sources.SetPrimary(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Source %q is now the primary identity provider; the next scan joins people through it.\n", args[0])
				return nil
			})
		},
	}
}

// cliActor names the person running a management command, for issue
// history: "cli:" and the login name.
func cliActor() string {
	for _, v := range []string{"SUDO_USER", "USER", "USERNAME", "LOGNAME"} {
		if u := os.Getenv(v); u != "" {
			return "cli:" + u
		}
	}
	return "cli"
}

func writePostureJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
