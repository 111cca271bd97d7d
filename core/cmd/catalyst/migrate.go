package main

import (
	"fmt"
	"strings"

	"catalyst.dev/core/internal/panel"
	"catalyst.dev/core/internal/store"
	"github.com/spf13/cobra"
)

func newMigrateCommand(g *globals) *cobra.Command {
	// withStore runs fn on the configured database.
	withStore := func(fn func(cmd *cobra.Command, s *store.Store) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			s, err := panel.OpenStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer s.Close()
			return fn(cmd, s)
		}
	}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations (serve does this too)",
		Args:  cobra.NoArgs,
		RunE: withStore(func(cmd *cobra.Command, s *store.Store) error {
			names, err := s.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			if len(names) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "database is up to date")
				return nil
			}
			fmt.Fprintln(cmd.OutOrStdout(), "applied:", strings.Join(names, ", "))
			return nil
		}),
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "status",
			Short: "List migrations and whether each is applied",
			Args:  cobra.NoArgs,
			RunE: withStore(func(cmd *cobra.Command, s *store.Store) error {
				ms, err := s.MigrationStatus(cmd.Context())
				if err != nil {
					return err
				}
				for _, m := range ms {
					state := "pending"
					if m.Applied {
						state = "applied"
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s  %-8s %s\n", m.Name, state, m.Comment)
				}
				return nil
			}),
		},
		&cobra.Command{
			Use:   "rollback",
			Short: "Undo the most recently applied group of migrations",
			Args:  cobra.NoArgs,
			RunE: withStore(func(cmd *cobra.Command, s *store.Store) error {
				names, err := s.Rollback(cmd.Context())
				if err != nil {
					return err
				}
				if len(names) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "nothing to roll back")
					return nil
				}
				fmt.Fprintln(cmd.OutOrStdout(), "rolled back:", strings.Join(names, ", "))
				return nil
			}),
		},
	)
	return cmd
}
