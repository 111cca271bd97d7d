// Command catalyst-agent is the Catalyst node daemon. It runs game servers
// in containerd and connects to the core. It is thin: the work is done by
// the packages under agent/internal.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"catalyst.dev/agent/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const defaultConfigPath = "/etc/catalyst/agent.hcl"

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "version":
		fmt.Println("catalyst-agent", version)
	case "run":
		err = run(ctx, os.Args[2:], os.Stderr)
	case "image":
		if len(os.Args) < 3 || os.Args[2] != "import" {
			usage()
			os.Exit(2)
		}
		err = imageImport(ctx, os.Args[3:], os.Stdout)
	case "configure":
		err = configure(ctx, os.Args[2:], os.Stdout)
	case "check-config":
		fs := flag.NewFlagSet("check-config", flag.ExitOnError)
		path := fs.String("config", defaultConfigPath, "agent configuration file")
		fs.Parse(os.Args[2:])
		if _, err = config.Load(*path); err == nil {
			fmt.Println(*path, "is valid")
		}
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "catalyst-agent:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: catalyst-agent <command>

commands:
  run             run the agent: connect to the core, run its servers [--config FILE]
  image import    import an OCI or docker-save archive into containerd: FILE [--config FILE]
  configure       enrol this node: --core URL --token TOKEN [--config FILE]
  check-config    validate an agent.hcl (--config FILE)
  version         print the version

--config defaults to `+defaultConfigPath+`.`)
}
