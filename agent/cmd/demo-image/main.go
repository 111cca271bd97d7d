// Command demo-image packs the demo game server into an OCI image archive
// that `catalyst-agent image import` loads into a node's containerd, so
// that a server runs without any download (examples/templates/demo.json).
// The game is the one Catalyst's tests run (agent/testkit/testimage/gamesrv):
// it prints a banner and ticks, echoes console commands, answers on
// $SERVER_PORT and stops on "stop". `make demo-image` builds it static and
// runs:
//
//	demo-image -bin bin/images/gamesrv -o bin/images/catalyst-demo.tar
package main

import (
	"flag"
	"fmt"
	"os"

	"catalyst.dev/agent/testkit/testimage"
)

// Ref is the demo image's name once imported.
const Ref = "catalyst.local/demo:1"

func main() {
	bin := flag.String("bin", "", "the static gamesrv binary to pack")
	out := flag.String("o", "catalyst-demo.tar", "the archive to write")
	ref := flag.String("ref", Ref, "the image's name")
	flag.Parse()
	if *bin == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: demo-image -bin GAMESRV [-o ARCHIVE] [-ref NAME]")
		os.Exit(2)
	}
	if err := testimage.WriteArchive(*out, *bin, *ref); err != nil {
		fmt.Fprintln(os.Stderr, "demo-image:", err)
		os.Exit(1)
	}
	fmt.Println("wrote", *out, "as", *ref)
}
