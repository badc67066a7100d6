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
	"github.com/vigil-ispm/vigil/internal/signature"
)

// newFlowsEndpointCmd is `vigil flows endpoint`: what the console's
// Endpoint settings dialog shows, for scripts that point a caller (an
// outbound integration, Okta ISPM, curl) at a flow.
func newFlowsEndpointCmd(g *globals) *cobra.Command {
	var folder, publicURL string
	var asJSON, rotate, secretStdin, generateSecret, keepPrevious bool
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "endpoint FLOW [--folder F] [--json] [--rotate-token [--grace DURATION]] [--signing-secret-stdin | --generate-signing-secret [--keep-previous]]",
		Short: "Print a flow's invoke URL and client token, rotate the token, or set its signing secret",
		Long: "Print the invoke URL, security, response mode and (for a flow secured with a client token) the client token " +
			"of a flow with an API Endpoint trigger, creating them the first time as the console does. FLOW is a flow's " +
			"title or namespace/name; add --folder when several folders hold a match.\n\n" +
			"The invoke URL starts with the public URL: --public-url (env VIGIL_PUBLIC_URL), else the one saved in " +
			"Admin → Settings, else http://<VIGIL_ADDR, default 127.0.0.1:8080>, as vigil serve chooses it.\n\n" +
			"--rotate-token gives the flow a new client token; the old one stops working at once, or after --grace " +
			"(e.g. 24h) so that callers can be moved over.\n\n" +
			"For a flow whose trigger verifies webhook signatures (signature in its API Endpoint), " +
			"--signing-secret-stdin sets the secret it checks to the sender's own, read from standard input " +
			"(a whsec_ secret for standard-webhooks, 16 to 256 characters for hmac-sha256), and " +
			"--generate-signing-secret sets a new one and prints it once, for the sender; with --keep-previous the " +
			"secret replaced keeps working beside it until the next change. Until a secret is set, every call is refused.\n\n" +
			"--json prints an object with the stable fields flowId, invokeUrl, clientToken (only for client-token " +
			"security), security (clientToken, oauth2 or public), response (sync or async), signature ({scheme, " +
			"header, secrets}: how many secrets are set) and signingSecret (only when generated).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if grace < 0 {
				return errors.New("--grace cannot be negative")
			}
			if grace > 0 && !rotate {
				return errors.New("--grace goes with --rotate-token")
			}
			if secretStdin && generateSecret {
				return errors.New("--signing-secret-stdin and --generate-signing-secret cannot go together: set a secret of your own or generate one")
			}
			if keepPrevious && !secretStdin && !generateSecret {
				return errors.New("--keep-previous goes with --signing-secret-stdin or --generate-signing-secret")
			}
			var own string
			if secretStdin {
				var err error
				if own, err = readStdin(cmd.InOrStdin(), "the signing secret", "--signing-secret-stdin"); err != nil {
					return err
				}
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
			if (secretStdin || generateSecret) && api.Signature == nil {
				return fmt.Errorf("flow %q does not verify signatures; add signature to its API Endpoint trigger first", f.Title)
			}
			// Checked before anything changes: a secret refused after the
			// token's rotation left the old token dead and the new one
			// never printed.
			if secretStdin {
				if msg := signature.CheckSecret(api.Signature.Scheme, own); msg != "" {
					return errors.New(msg)
				}
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
			var generated string
			if sig := api.Signature; sig != nil {
				if secretStdin || generateSecret {
					if generated, err = endpoints.SetSigningSecret(ctx, f.ID, sig.Scheme, own, keepPrevious); err != nil {
						return fmt.Errorf("cannot set the signing secret of flow %q: %w", f.Title, err)
					}
					if ep, err = endpoints.Ensure(ctx, f.ID); err != nil {
						return err
					}
					fmt.Fprintf(g.stderr, "The signing secret is set; running servers check it within %s.\n", invoke.AliasCacheAge)
				}
				n, err := endpoints.SigningSecrets(ep)
				if err != nil {
					return fmt.Errorf("cannot open the signing secrets of flow %q: %w", f.Title, err)
				}
				s.Signature = &invoke.SignatureSettings{Scheme: sig.Scheme, Header: sig.Header, Secrets: n}
			}
			if asJSON {
				return printJSON(g.stdout, struct {
					invoke.Settings
					SigningSecret string `json:"signingSecret,omitempty"`
				}{s, generated})
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "Flow:\t%s (%s, %s)\n", f.Title, f.Ref(), onOffWord(f.On))
			fmt.Fprintf(tw, "Invoke URL:\t%s\n", s.InvokeURL)
			fmt.Fprintf(tw, "Security:\t%s\n", s.Security)
			fmt.Fprintf(tw, "Response:\t%s\n", s.Response)
			if s.ClientToken != "" {
				fmt.Fprintf(tw, "Client token:\t%s\n", s.ClientToken)
			}
			if sig := s.Signature; sig != nil {
				where := ""
				if sig.Header != "" {
					where = " in " + sig.Header
				}
				state := fmt.Sprintf("%d secret(s) set", sig.Secrets)
				if sig.Secrets == 0 {
					state = "no secret set: every call is refused until one is (--signing-secret-stdin)"
				}
				fmt.Fprintf(tw, "Signature:\t%s%s, %s\n", sig.Scheme, where, state)
			}
			if generated != "" {
				fmt.Fprintf(tw, "Signing secret:\t%s\n", generated)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "the folder holding the flow")
	cmd.Flags().StringVar(&publicURL, "public-url", os.Getenv("VIGIL_PUBLIC_URL"), "URL others use to reach the server (env VIGIL_PUBLIC_URL; default: Admin → Settings, else http://<addr>)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON: flowId, invokeUrl, clientToken, security, response")
	cmd.Flags().BoolVar(&rotate, "rotate-token", false, "give the flow a new client token")
	cmd.Flags().DurationVar(&grace, "grace", 0, "with --rotate-token: how long the old token keeps working (e.g. 24h; default: stops within half a second)")
	cmd.Flags().BoolVar(&secretStdin, "signing-secret-stdin", false, "set the signing secret to the sender's own, read from standard input")
	cmd.Flags().BoolVar(&generateSecret, "generate-signing-secret", false, "set a new signing secret and print it once")
	cmd.Flags().BoolVar(&keepPrevious, "keep-previous", false, "with a new signing secret: keep the one it replaces working beside it")
	return cmd
}
