package main

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
)

// newFlowsEndpointCmd is `vigil flows endpoint`: what the console's
// Endpoint settings dialog shows, for scripts that point a caller (an
// outbound integration, Okta ISPM, curl) at a flow.
func newFlowsEndpointCmd(g *globals) *cobra.Command {
	var folder, publicURL string
	var asJSON, rotate bool
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "endpoint FLOW [--folder F] [--json] [--rotate-token [--grace DURATION]]",
		Short: "Print a flow's invoke URL and client token, or rotate the token",
		Long: "Print the invoke URL, security, response mode and (for a flow secured with a client token) the client token " +
			"of a flow with an API Endpoint trigger, creating them the first time as the console does. FLOW is a flow's " +
			"title or namespace/name; add --folder when several folders hold a match.\n\n" +
			"The invoke URL starts with the public URL: --public-url (env VIGIL_PUBLIC_URL), else the one saved in " +
			"Admin → Settings, else http://<VIGIL_ADDR, default 127.0.0.1:8080>, as vigil serve chooses it.\n\n" +
			"--rotate-token gives the flow a new client token; the old one stops working at once, or after --grace " +
			"(e.g. 24h) so that callers can be moved over.\n\n" +
			"--json prints an object with the stable fields flowId, invokeUrl, clientToken (only for client-token " +
			"security), security (clientToken, oauth2 or public) and response (sync or async).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if grace < 0 {
				return errors.New("--grace cannot be negative")
			}
			if grace > 0 && !rotate {
				return errors.New("--grace goes with --rotate-token")
			}
			ctx := cmd.Context()
			cfg := g.config()
			cfg.Addr, cfg.PublicURL = os.Getenv("VIGIL_ADDR"), publicURL
			a, err := app.Open(ctx, cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			_, svc, err := newConnectorFlows(a)
			if err != nil {
				return err
			}
			f, err := svc.FindFlow(ctx, args[0], folder)
			if err != nil {
				return err
			}
			target, err := svc.Invoke().InvokeTarget(ctx, f.ID)
			if err != nil {
				return err
			}
			api := target.Endpoint
			if api == nil {
				return fmt.Errorf("flow %q has no API Endpoint trigger, so it has no invoke URL; only a flow with an API Endpoint can be invoked", f.Title)
			}
			s := invoke.Settings{FlowID: f.ID, Security: api.Security, Response: api.Response}
			if s.Security == "" {
				s.Security = dsl.SecurityClientToken
			}
			if s.Response == "" {
				s.Response = dsl.ResponseSync
			}
			if rotate && s.Security != dsl.SecurityClientToken {
				return fmt.Errorf("flow %q is secured with %s, not a client token, so there is no token to rotate", f.Title, s.Security)
			}
			endpoints := invoke.NewEndpoints(a.Store, a.Box, a.Config.Now)
			ep, err := endpoints.Ensure(ctx, f.ID)
			if err != nil {
				return fmt.Errorf("cannot create the endpoint of flow %q: %w", f.Title, err)
			}
			s.InvokeURL = invoke.InvokeURL(a.Config.PublicURL, ep.Alias)
			if rotate {
				if s.ClientToken, err = endpoints.Rotate(ctx, f.ID, grace); err != nil {
					return fmt.Errorf("cannot rotate the client token of flow %q: %w", f.Title, err)
				}
				if grace > 0 {
					fmt.Fprintf(g.stderr, "The client token is rotated; the old one keeps working for %s.\n", grace)
				} else {
					// Running servers keep endpoint rows for AliasCacheAge,
					// and this process cannot tell them of the change.
					fmt.Fprintf(g.stderr, "The client token is rotated; running servers refuse the old one within %s.\n", invoke.AliasCacheAge)
				}
			} else if s.Security == dsl.SecurityClientToken {
				if s.ClientToken, err = endpoints.Reveal(ctx, ep, f.Title); err != nil {
					return fmt.Errorf("cannot open the client token of flow %q: %w", f.Title, err)
				}
			}
			if asJSON {
				return printJSON(g.stdout, s)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "Flow:\t%s (%s, %s)\n", f.Title, f.Ref(), onOffWord(f.On))
			fmt.Fprintf(tw, "Invoke URL:\t%s\n", s.InvokeURL)
			fmt.Fprintf(tw, "Security:\t%s\n", s.Security)
			fmt.Fprintf(tw, "Response:\t%s\n", s.Response)
			if s.ClientToken != "" {
				fmt.Fprintf(tw, "Client token:\t%s\n", s.ClientToken)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "the folder holding the flow")
	cmd.Flags().StringVar(&publicURL, "public-url", os.Getenv("VIGIL_PUBLIC_URL"), "URL others use to reach the server (env VIGIL_PUBLIC_URL; default: Admin → Settings, else http://<addr>)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON: flowId, invokeUrl, clientToken, security, response")
	cmd.Flags().BoolVar(&rotate, "rotate-token", false, "give the flow a new client token")
	cmd.Flags().DurationVar(&grace, "grace", 0, "with --rotate-token: how long the old token keeps working (e.g. 24h; default: stops within half a second)")
	return cmd
}
