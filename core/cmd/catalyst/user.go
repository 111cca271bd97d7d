package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/store"
	"github.com/spf13/cobra"
)

func newUserCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage accounts"}
	var in accounts.NewUser
	var passwordStdin bool
	create := &cobra.Command{
		Use:   "create --email E --password P [--admin]",
		Short: "Create an account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if passwordStdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return fmt.Errorf("read password from standard input: %w", err)
				}
				in.Password = strings.TrimRight(line, "\r\n")
			}
			if in.Email == "" || in.Password == "" {
				return errors.New("--email and one of --password or --password-stdin are required")
			}
			_, s, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			u, err := accounts.NewService(s).Create(cmd.Context(), in)
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("an account with this email or user name already exists (%w)", err)
			}
			if err != nil {
				return err
			}
			role := "user"
			if u.Admin {
				role = "administrator"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s %s (user name %s, id %s)\n", role, u.Email, u.Username, u.ID)
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&in.Email, "email", "", "email address (the login)")
	f.StringVar(&in.Username, "username", "", "user name (default: from the email)")
	f.StringVar(&in.Password, "password", "", "password (visible to other local users in ps; prefer --password-stdin)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.BoolVar(&in.Admin, "admin", false, "make the account an administrator")
	cmd.AddCommand(create)
	return cmd
}
