package main

import (
	"fmt"

	"catalyst.dev/core/internal/nodes"
	"github.com/spf13/cobra"
)

func newNodeCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "Manage nodes"}
	var in nodes.NewNode
	create := &cobra.Command{
		Use:   "create --name N --fqdn F [--memory-mb M --disk-mb D]",
		Short: "Register a node and print its one-time deployment token and agent command",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, s, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			n, token, err := nodes.NewService(s).Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "created node %s (id %s)\n\n", n.Name, n.ID)
			fmt.Fprintf(out, "deployment token (shown once, valid %s):\n  %s\n\n", nodes.DeployTokenTTL, token)
			fmt.Fprintf(out, "on the node, as root, run:\n  %s\n", nodes.AgentCommand(cfg.PublicURL, token))
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&in.Name, "name", "", "node name, unique")
	f.StringVar(&in.FQDN, "fqdn", "", "host name or IP address players and SFTP clients use")
	f.Int64Var(&in.MemoryMB, "memory-mb", 4096, "memory servers may use, in MiB")
	f.Int64Var(&in.DiskMB, "disk-mb", 51200, "disk servers may use, in MiB")
	f.IntVar(&in.MemoryOverallocate, "memory-overallocate", 0, "percent of memory to overallocate (-1: unchecked)")
	f.IntVar(&in.DiskOverallocate, "disk-overallocate", 0, "percent of disk to overallocate (-1: unchecked)")
	cmd.AddCommand(create)
	return cmd
}
