// Command gamesrv is the game server Catalyst's tests run: it behaves like a
// console game server (banner, ticks, commands on stdin, a TCP port) and can
// be told to misbehave (crash, exhaust memory, ignore stop). It is built
// static and packed into an OCI image by package testimage.
//
//	gamesrv [--ignore-stop] [--hold-done]  run the server
//	gamesrv install [--exit N]       run the installer: write /mnt/server/installed.txt
//	/bin/sh FILE                     run FILE as a script (see runScript)
//
// Environment: SERVER_PORT (the TCP and UDP port to answer on: a line
// "catalyst-test-server" to each connection or datagram), GAMESRV_IGNORE_STOP=1
// (same as --ignore-stop), GAMESRV_HOLD_DONE=1 (same as --hold-done: print
// the startup-done line only once told "ready", so that a test can watch a
// server that is still starting), GAMESRV_TICK (tick interval, default 1s),
// GAMESRV_EXIT_AFTER (a Go duration: that long after the startup-done line,
// print "exiting with code N" and exit with GAMESRV_EXIT_CODE, default 0;
// for crash-loop tests).
//
// Commands on stdin (every line is echoed first as "> echo: <line>"):
//
//	help, stop, crash N, burn DURATION, oom, write PATH, cat PATH, whoami,
//	ready, flood N RATE
//
// cat prints each line of the file PATH as "cat: <line>" (a config file
// the agent rewrote, as the game sees it).
//
// flood prints N lines "flood <seq> <unixnano>" (seq from 1, unixnano the
// wall clock when the line was written) at RATE lines per second, then
// "flood done". RATE 0 writes as fast as it can, in big chunks; any other
// rate writes each line on its own at its due time, for latency
// measurements. Commands wait while a flood runs.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"catalyst.dev/agent/testkit/testimage"
)

func main() {
	// The image has no shell: /bin/sh links here, so that installers run
	// as `/bin/sh /mnt/install/install.sh` the way real eggs' do.
	if filepath.Base(os.Args[0]) == "sh" {
		os.Exit(runScript(os.Args[1:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "install" {
		os.Exit(install(os.Args[2:]))
	}
	fs := flag.NewFlagSet("gamesrv", flag.ExitOnError)
	ignoreStop := fs.Bool("ignore-stop", os.Getenv("GAMESRV_IGNORE_STOP") == "1", "ignore the stop command and SIGTERM")
	holdDone := fs.Bool("hold-done", os.Getenv("GAMESRV_HOLD_DONE") == "1", "print the startup-done line only after the command ready")
	fs.Parse(os.Args[1:])
	os.Exit(serve(*ignoreStop, *holdDone))
}

// console serialises whole lines onto stdout so ticks and echoes never interleave.
type console struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *console) println(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, format+"\n", args...)
}

// write writes b, whole lines, in one go.
func (c *console) write(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.Write(b)
}

func serve(ignoreStop, holdDone bool) int {
	out := &console{w: os.Stdout}
	out.println("%s", testimage.BannerStart)
	fmt.Fprintln(os.Stderr, "gamesrv: stderr is connected")

	if port := os.Getenv("SERVER_PORT"); port != "" {
		ln, err := net.Listen("tcp", ":"+port)
		if err != nil {
			out.println("listen on port %s: %v", port, err)
			return 1
		}
		pc, err := net.ListenPacket("udp", ":"+port)
		if err != nil {
			out.println("listen on udp port %s: %v", port, err)
			return 1
		}
		out.println("Listening on 0.0.0.0:%s (tcp and udp)", port)
		go answer(ln)
		go answerPackets(pc)
	}
	if ignoreStop {
		out.println("ignore-stop mode: stop and SIGTERM will be ignored")
	}

	exit := make(chan int, 1)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for sig := range signals {
			if ignoreStop {
				out.println("received %v, ignoring it", sig)
				continue
			}
			out.println("received %v, stopping", sig)
			exit <- 0
			return
		}
	}()

	ready := make(chan struct{})
	go readCommands(out, ignoreStop, exit, ready)
	if holdDone {
		out.println("%s", testimage.HoldingDone)
		select {
		case <-ready:
		case code := <-exit:
			return code
		}
	}
	out.println("%s", testimage.BannerDone)

	var exitAfter <-chan time.Time
	exitCode := 0
	if v := os.Getenv("GAMESRV_EXIT_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			out.println("GAMESRV_EXIT_AFTER %q is not a duration", v)
			return 2
		}
		if c := os.Getenv("GAMESRV_EXIT_CODE"); c != "" {
			if exitCode, err = strconv.Atoi(c); err != nil {
				out.println("GAMESRV_EXIT_CODE %q is not a number", c)
				return 2
			}
		}
		exitAfter = time.After(d)
	}

	interval := time.Second
	if d, err := time.ParseDuration(os.Getenv("GAMESRV_TICK")); err == nil && d > 0 {
		interval = d
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case code := <-exit:
			return code
		case <-exitAfter:
			out.println("exiting with code %d", exitCode)
			return exitCode
		case <-tick.C:
			out.println("tick %d", n)
		}
	}
}

func answer(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		fmt.Fprintln(c, testimage.PortAnswer)
		c.Close()
	}
}

func answerPackets(pc net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		pc.WriteTo([]byte(testimage.PortAnswer+"\n"), from)
	}
}

// readCommands runs the console's commands; "ready" closes ready (once).
func readCommands(out *console, ignoreStop bool, exit chan<- int, ready chan<- struct{}) {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		out.println("> echo: %s", line)
		cmd, arg, _ := strings.Cut(line, " ")
		switch cmd {
		case "help":
			out.println("commands: help, stop, crash N, burn DURATION, oom, write PATH, cat PATH, whoami, ready, flood N RATE")
		case "ready":
			if ready != nil {
				close(ready)
				ready = nil
			}
		case "stop":
			if ignoreStop {
				out.println("stop ignored")
				continue
			}
			out.println("Stopping the server")
			exit <- 0
			return
		case "crash":
			code, err := strconv.Atoi(arg)
			if err != nil {
				out.println("crash needs an exit code")
				continue
			}
			out.println("Crashing with exit code %d", code)
			exit <- code
			return
		case "burn":
			d, err := time.ParseDuration(arg)
			if err != nil {
				out.println("burn needs a duration")
				continue
			}
			out.println("Burning CPU on %d threads for %v", runtime.GOMAXPROCS(0), d)
			for range runtime.GOMAXPROCS(0) {
				go spin(d)
			}
		case "oom":
			out.println("Allocating memory until killed")
			go exhaustMemory(out)
		case "write":
			if err := os.WriteFile(arg, []byte("written by gamesrv\n"), 0o644); err != nil {
				out.println("write failed %s: %v", arg, err)
			} else {
				out.println("write ok %s", arg)
			}
		case "flood":
			var n, rate int
			if _, err := fmt.Sscan(arg, &n, &rate); err != nil || n < 0 || rate < 0 {
				out.println("flood needs a line count and a rate (lines per second, 0 for as fast as possible)")
				continue
			}
			flood(out, n, rate)
		case "cat":
			b, err := os.ReadFile(arg)
			if err != nil {
				out.println("cat failed %s: %v", arg, err)
				continue
			}
			for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
				out.println("cat: %s", l)
			}
		case "whoami":
			out.println("uid=%d gid=%d", os.Getuid(), os.Getgid())
		}
	}
	out.println("stdin closed")
}

// flood writes n lines "flood <seq> <unixnano>" at rate lines per second
// (0: as fast as possible), then "flood done". It holds the console only
// while it writes, so that ticks still get through between chunks.
func flood(out *console, n, rate int) {
	if rate == 0 {
		// Whole chunks of lines per write: a pipe read on the other side
		// then carries hundreds of lines, as a busy game server's does.
		const chunk = 64 << 10
		buf := make([]byte, 0, chunk+64)
		for seq := 1; seq <= n; {
			buf = buf[:0]
			for ; seq <= n && len(buf) < chunk; seq++ {
				buf = appendFloodLine(buf, seq, time.Now())
			}
			out.write(buf)
		}
	} else {
		// Each line on its own at its due time: an even pace, not bursts,
		// so that the receiver can measure per-line latency.
		start := time.Now()
		interval := time.Second / time.Duration(rate)
		buf := make([]byte, 0, 64)
		for seq := 1; seq <= n; seq++ {
			due := start.Add(time.Duration(seq-1) * interval)
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
			out.write(appendFloodLine(buf[:0], seq, time.Now()))
		}
	}
	out.println("flood done")
}

func appendFloodLine(b []byte, seq int, now time.Time) []byte {
	b = append(b, "flood "...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, now.UnixNano(), 10)
	return append(b, '\n')
}

// spin keeps one thread busy for d.
func spin(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}

// exhaustMemory allocates and touches memory until the kernel kills the process.
func exhaustMemory(out *console) {
	var hold [][]byte
	for {
		b := make([]byte, 4<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		hold = append(hold, b)
		if len(hold)%4 == 0 {
			out.println("allocated %d MiB", len(hold)*4)
		}
		time.Sleep(time.Millisecond)
	}
}

func install(args []string) int {
	fs := flag.NewFlagSet("install", flag.ExitOnError)
	code := fs.Int("exit", 0, "exit code to finish with")
	dir := fs.String("dir", "/mnt/server", "directory to install into")
	fs.Parse(args)
	fmt.Println("Installing into", *dir)
	if err := os.MkdirAll(filepath.Join(*dir, "config"), 0o755); err != nil {
		fmt.Println("install failed:", err)
		return 1
	}
	body := fmt.Sprintf("installed by gamesrv as uid %d\n", os.Getuid())
	if err := os.WriteFile(filepath.Join(*dir, "installed.txt"), []byte(body), 0o644); err != nil {
		fmt.Println("install failed:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "installer: wrote installed.txt")
	fmt.Println("Install complete, exit code", *code)
	return *code
}

// runScript is a tiny shell for install scripts: each line that is not blank
// or a comment is split on spaces and run (with its output passed through);
// "exit N" ends the script with code N. The first command that fails ends
// the script with its exit code, as `set -e` would.
func runScript(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "sh: usage: sh FILE")
		return 2
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "sh:", err)
		return 127
	}
	for _, line := range strings.Split(string(b), "\n") {
		words := strings.Fields(line)
		if len(words) == 0 || strings.HasPrefix(words[0], "#") {
			continue
		}
		if words[0] == "exit" {
			code := 0
			if len(words) > 1 {
				code, _ = strconv.Atoi(words[1])
			}
			return code
		}
		cmd := exec.Command(words[0], words[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			fmt.Fprintln(os.Stderr, "sh:", err)
			return 127
		}
	}
	return 0
}
