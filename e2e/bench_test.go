package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"catalyst.dev/agent/testkit/testimage"
)

// BenchmarkStartToRunning measures what a user waits for after pressing
// Start: the API call until the core reports `running` (the game printed
// its startup-done line), through core, tunnel, agent, containerd and the
// game's first output. The baseline starts the same image with containerd's
// own CLI (`ctr run`, no CNI) until the same line appears on its stdout.
func BenchmarkStartToRunning(b *testing.B) {
	b.Run("catalyst-bridge", func(b *testing.B) { benchStart(b, clusterOptions{}) })
	b.Run("catalyst-hostnet", func(b *testing.B) { benchStart(b, clusterOptions{hostNetwork: true}) })
	b.Run("baseline-ctr-run", benchCtrRun)
}

func benchStart(b *testing.B, o clusterOptions) {
	c := newCluster(b, o)
	s := c.createServer("bench", nil)
	for b.Loop() {
		c.power(s.ID, "start")
		// Polled every millisecond (waitState's 20 ms would blur the
		// figure), but never forever.
		deadline := time.Now().Add(time.Minute)
		for st := c.server(s.ID).State; st != "running"; st = c.server(s.ID).State {
			if st == "crashed" || time.Now().After(deadline) {
				b.Fatalf("server is %q, not running, after its start", st)
			}
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		c.power(s.ID, "kill")
		c.waitState(s.ID, "stopped", 30*time.Second)
		b.StartTimer()
	}
}

func benchCtrRun(b *testing.B) {
	const ns = "bench"
	if out, err := ctrIn(ns, "images", "import", env.img.Archive); err != nil {
		b.Fatalf("ctr images import: %v\n%s", err, out)
	}
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("bench-%d-%s", i, randomHex(3))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, "ctr", "--address", env.ctd.Address, "--namespace", ns, "run", "--rm", testimage.Ref, id, "/gamesrv")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		if err := waitLine(stdout, testimage.BannerDone); err != nil {
			b.Fatalf("ctr run: %v", err)
		}
		b.StopTimer()
		if out, err := ctrIn(ns, "task", "kill", "--signal", "SIGKILL", id); err != nil {
			b.Fatalf("ctr task kill: %v\n%s", err, out)
		}
		go io.Copy(io.Discard, stdout)
		cmd.Wait()
		cancel()
		b.StartTimer()
	}
}

func waitLine(r io.Reader, want string) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.Contains(sc.Text(), want) {
			return nil
		}
	}
	return fmt.Errorf("output ended before %q (%v)", want, sc.Err())
}

// ctrIn runs containerd's CLI against the private containerd in namespace ns.
func ctrIn(ns string, args ...string) (string, error) {
	out, err := exec.Command("ctr", append([]string{"--address", env.ctd.Address, "--namespace", ns}, args...)...).CombinedOutput()
	return string(out), err
}
