// Command catalyst is the Catalyst core: the panel's API and web UI.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/panel"
	"catalyst.dev/core/internal/store"
	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "catalyst:", err)
		os.Exit(1)
	}
}

// globals are the flags every subcommand shares.
type globals struct {
	configPath string
}

func newRootCommand() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "catalyst",
		Short:         "Catalyst core: the game-server panel's API and web UI",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", os.Getenv("CATALYST_CONFIG"),
		"HCL configuration file (default: built-in defaults; env CATALYST_CONFIG)")
	root.AddCommand(
		newServeCommand(g),
		newMigrateCommand(g),
		newUserCommand(g),
		newNodeCommand(g),
		newTemplateCommand(g),
		newPluginsCommand(g),
		newVersionCommand(),
	)
	return root
}

// load reads the configuration file, or returns the defaults without one.
func (g *globals) load() (*config.Config, error) {
	if g.configPath == "" {
		return config.Default(), nil
	}
	cfg, err := config.Load(g.configPath)
	var diags *config.DiagnosticsError
	if errors.As(err, &diags) {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, err
}

// openStore loads the configuration and opens its database, migrated, for
// commands that change data directly.
func (g *globals) openStore(ctx context.Context) (*config.Config, *store.Store, error) {
	cfg, err := g.load()
	if err != nil {
		return nil, nil, err
	}
	s, err := panel.OpenStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, nil, err
	}
	return cfg, s, nil
}

func newLogger(cfg *config.Config) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "catalyst",
		Level:      hclog.LevelFromString(cfg.Log.Level),
		JSONFormat: cfg.Log.Format == config.LogJSON,
		Output:     os.Stderr,
		Color:      hclog.AutoColor,
	})
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "catalyst", version)
		},
	}
}
