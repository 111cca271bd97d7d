package main

import (
	"fmt"
	"strings"

	"catalyst.dev/core/internal/nodes"
	"github.com/spf13/cobra"
)

func newNodeCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "Manage nodes"}
	var in nodes.NewNode
	var ip, ports string
	create := &cobra.Command{
		Use:   "create --name N --fqdn F [--memory-mb M --disk-mb D] [--ip IP --ports 25565-25574]",
		Short: "Register a node and print its one-time deployment token and agent command",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Checked before the node exists, so that bad flags leave nothing
			// half-made.
			var portList []int
			if ports != "" {
				var err error
				if ip, portList, err = nodes.ParseAllocations(ip, strings.Split(ports, ",")); err != nil {
					return fmt.Errorf("--ip/--ports: %w", err)
				}
			}
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
			fmt.Fprintf(out, "created node %s (id %s)\n", n.Name, n.ID)
			if len(portList) > 0 {
				if _, err := s.CreateAllocations(cmd.Context(), n.ID, ip, portList); err != nil {
					return fmt.Errorf("node %s created, but its allocations were not: %w", n.Name, err)
				}
				fmt.Fprintf(out, "allocations: %s ports %s\n", ip, ports)
			}
			fmt.Fprintln(out)
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
	f.StringVar(&ip, "ip", "0.0.0.0", "address the allocations given by --ports listen on")
	f.StringVar(&ports, "ports", "", "allocations to create: ports and ranges, comma-separated (25565,27015-27020)")
	f.IntVar(&in.DiskOverallocate, "disk-overallocate", 0, "percent of disk to overallocate (-1: unchecked)")
	cmd.AddCommand(create)
	return cmd
}
