package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
)

func newServeCmd(g *globals) *cobra.Command {
	var addr, publicURL, groupRoles string
	var demo bool
	var oidc auth.OIDCConfig
	var run runFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server: console at /, JSON API under /api/, invoke URLs under /api/flo/",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := g.config()
			cfg.Addr, cfg.PublicURL = addr, publicURL
			if err := run.apply(&cfg); err != nil {
				return err
			}
			if oidc.Issuer != "" {
				roles, err := auth.ParseGroupRoles(groupRoles)
				if err != nil {
					return fmt.Errorf("--oidc-group-roles: %w", err)
				}
				oidc.GroupRoles = roles
				oidc.ClientSecret = os.Getenv("VIGIL_OIDC_CLIENT_SECRET")
				cfg.OIDC = oidc
			}
			stop, err := startCPUProfile(run.cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			return serve(cmd, g, cfg, demo)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", envOr("VIGIL_ADDR", "127.0.0.1:8080"), "address to listen on")
	f.StringVar(&publicURL, "public-url", envOr("VIGIL_PUBLIC_URL", ""), "URL others use to reach this server (default http://<addr>)")
	f.BoolVar(&demo, "demo", false, "load the demo org, template and webhook (see 'vigil demo')")
	f.StringVar(&oidc.Issuer, "oidc-issuer", envOr("VIGIL_OIDC_ISSUER", ""), "OIDC provider's issuer URL; turns single sign-on on (client secret from VIGIL_OIDC_CLIENT_SECRET)")
	f.StringVar(&oidc.ClientID, "oidc-client-id", envOr("VIGIL_OIDC_CLIENT_ID", ""), "OIDC client id")
	f.StringVar(&oidc.GroupsClaim, "oidc-groups-claim", envOr("VIGIL_OIDC_GROUPS_CLAIM", ""), "ID token claim listing the groups (default groups)")
	f.StringVar(&oidc.GroupsScope, "oidc-groups-scope", envOr("VIGIL_OIDC_GROUPS_SCOPE", ""), "extra scope that makes the provider send the groups (Okta's org server: groups)")
	f.StringVar(&groupRoles, "oidc-group-roles", envOr("VIGIL_OIDC_GROUP_ROLES", ""), `groups to roles, e.g. "Okta Admins=super_admin,SecOps=issue_responder"`)
	run.register(f)
	return cmd
}

func newDemoCmd(g *globals) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the server with a demo: a synthetic org, the ISPM template in dry run, and the webhook between them",
		Long: `Run the server on the embedded database with a demo set up (the same as
'vigil serve --demo'): a synthetic organization of ` + fmt.Sprint(app.DemoPeople) + ` people across Okta, Microsoft
Entra ID, Google Workspace, Salesforce and AWS (a snapshot source, with every
issue title present); the Identity Security Posture Management template with
dry-run connections and every flow on; an outbound integration that sends
every issue title to the routing flow's invoke URL with the client token as
the clientToken URL parameter; and a first scan. It prints the console's URL
and the demo administrator's sign-in.

Dry-run connections send nothing: each remediation records the exact request
it would make in the execution's history. Loopback addresses are added to the
outbound allowlist so that the integration can reach this server. Running it
again keeps what exists, gives the demo user a new password and scans again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := g.config()
			cfg.Addr = addr
			return serve(cmd, g, cfg, true)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", envOr("VIGIL_ADDR", "127.0.0.1:8080"), "address to listen on")
	return cmd
}

func serve(cmd *cobra.Command, g *globals, cfg app.Config, demo bool) error {
	ctx := cmd.Context()
	if demo {
		cfg.AllowOutbound = app.WithLoopback(cfg.AllowOutbound)
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	srv, err := a.NewServer(ctx)
	if err != nil {
		return err
	}
	if demo {
		if err := startDemo(ctx, g, srv); err != nil {
			srv.Close()
			return err
		}
	}
	return srv.Run(ctx)
}

func startDemo(ctx context.Context, g *globals, srv *app.Server) error {
	d, err := srv.SetUpDemo(ctx)
	if err != nil {
		return fmt.Errorf("cannot set up the demo: %w", err)
	}
	state := "set up"
	if !d.Created {
		state = "already set up; scanning again"
	}
	fmt.Fprintf(g.stdout, `
Vigil demo (%s)

  Console    %s
  Sign in    %s / %s   (a new password each start)

  Issues      %sispm/issues
  Deliveries  %sispm/settings/integrations
  Flows       folder %q, routing flow invoke URL %s

The first scan runs now; issues, deliveries and flow executions appear within
seconds. Connections are in dry run: each remediation records the request it
would send. Press Ctrl+C to stop.

`, state, d.ConsoleURL, d.User, d.Password, d.ConsoleURL, d.ConsoleURL, d.Folder, d.InvokeURL)
	return nil
}
