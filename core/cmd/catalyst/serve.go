package main

import (
	"catalyst.dev/core/internal/panel"
	"github.com/spf13/cobra"
)

func newServeCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the core: migrate the database and serve the API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			return panel.Serve(cmd.Context(), cfg, newLogger(cfg), cmd.OutOrStdout(), version)
		},
	}
}
