package main

import (
	"github.com/spf13/cobra"

	"github.com/vigil-ispm/vigil/internal/app"
)

func newServeCmd(g *globals) *cobra.Command {
	var addr, publicURL string
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server: console at /, JSON API under /api/, invoke URLs under /api/flo/",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := g.config()
			cfg.Addr, cfg.PublicURL = addr, publicURL
			return serve(cmd, cfg, demo)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", envOr("VIGIL_ADDR", "127.0.0.1:8080"), "address to listen on")
	cmd.Flags().StringVar(&publicURL, "public-url", envOr("VIGIL_PUBLIC_URL", ""), "URL others use to reach this server (default http://<addr>)")
	cmd.Flags().BoolVar(&demo, "demo", false, "load the demo org, template and webhook (see 'vigil demo')")
	return cmd
}

func serve(cmd *cobra.Command, cfg app.Config, demo bool) error {
	ctx := cmd.Context()
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	srv, err := a.NewServer(ctx)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
