package main

import (
	"fmt"
	"text/tabwriter"

	"catalyst.dev/core/internal/panel"
	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
)

func newPluginsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "plugins", Short: "Inspect configured plugins"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "Launch every configured plugin, check its config, and list name, kind, version and health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			log := newLogger(cfg)
			log.SetLevel(hclog.Warn)
			h, err := panel.StartPlugins(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer h.Close()
			st := h.Status()
			if len(st) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no plugins configured")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tAPI\tHEALTH\tRESTARTS")
			for _, s := range st {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", s.Name, s.Kind, s.Version, s.APIVersion, s.Health, s.Restarts)
			}
			return tw.Flush()
		},
	})
	return cmd
}
