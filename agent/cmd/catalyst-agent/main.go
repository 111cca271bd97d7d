// Command catalyst-agent is the Catalyst node daemon. It runs game servers
// in containerd and connects to the core.
package main

import (
	"flag"
	"fmt"
	"os"

	"catalyst.dev/agent/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "version":
		fmt.Println("catalyst-agent", version)
	case "check-config":
		fs := flag.NewFlagSet("check-config", flag.ExitOnError)
		path := fs.String("config", "/etc/catalyst/agent.hcl", "agent configuration file")
		fs.Parse(os.Args[2:])
		if _, err := config.Load(*path); err != nil {
			fmt.Fprintln(os.Stderr, "catalyst-agent:", err)
			os.Exit(1)
		}
		fmt.Println(*path, "is valid")
	default:
		usage()
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: catalyst-agent <command>

commands:
  version         print the version
  check-config    validate an agent.hcl (--config FILE)`)
}
