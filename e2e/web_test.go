package e2e

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"catalyst.dev/agent/testkit/testimage"
)

// The panel's web UI and its Playwright suite (core/web/e2e), from the
// e2e package's folder.
var (
	webDir   = filepath.Join("..", "core", "web")
	webIndex = filepath.Join("..", "core", "internal", "web", "dist", "ui", "index.html")
)

// The screenshots the suite saves when CATALYST_SCREENSHOTS names a
// folder (docs/screenshots under make screenshots).
var webScreenshots = []string{
	"login", "servers", "servers-light", "console", "console-phone", "stats", "files", "editor",
	"backups", "schedules", "users", "startup", "settings", "admin-nodes", "admin-templates",
	"admin-users", "admin-alerts", "admin-audit", "admin-plugins", "account",
}

// TestWebUI clicks through the panel in a real browser (Debian's chromium,
// driven by Playwright) against a real cluster: the specs in core/web/e2e
// create a server, start it, use its console, upload and edit a file, back
// it up and stop it, and measure the server list with 500 servers. Then
// the test checks through the API and on the node that the browser's work
// really happened.
func TestWebUI(t *testing.T) {
	web, err := filepath.Abs(webDir)
	if err != nil {
		t.Fatal(err)
	}
	playwright := filepath.Join(web, "node_modules", ".bin", "playwright")
	chromium := cmp.Or(os.Getenv("CHROMIUM"), "/usr/bin/chromium")
	for _, need := range []struct{ path, missing string }{
		{webIndex, "the panel's build is missing (core/internal/web/dist/ui/index.html): run make web"},
		{playwright, "Playwright is not installed in core/web: run (cd core/web && npm ci)"},
		{chromium, "chromium is missing at " + chromium + ": apt-get install chromium, or set CHROMIUM to its path"},
	} {
		if _, err := os.Stat(need.path); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("TestWebUI cannot run: %s", need.missing)
			}
			t.Skipf("skipping: %s", need.missing)
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("TestWebUI cannot run: node is not on PATH (Playwright runs on it): %v", err)
	}
	shots := os.Getenv("CATALYST_SCREENSHOTS")
	if shots != "" {
		abs, err := filepath.Abs(shots)
		if err != nil {
			t.Fatal(err)
		}
		shots = abs
	}

	// The backups go to the "local" store every agent configure writes
	// (TestBackups uses it too). The browser signs in several times: the
	// default of 30 logins a minute from one address is too few.
	//
	// Access tokens live 70 s and sockets are warned 60 s before theirs
	// expire, so the console's socket renews its token in place within
	// seconds of opening, and again and again: the flow checks it never
	// reconnects for it.
	c := newCluster(t, clusterOptions{ports: 4, coreHCL: `
rate_limit "auth" {
  per_ip = 100000
}

auth {
  access_token_ttl = "70s"
}

websocket {
  token_warning = "60s"
}
`})
	var tpl struct {
		Name string `json:"name"`
	}
	c.must(http.MethodGet, "/api/admin/templates/"+c.templateID, nil, &tpl)
	run := randomHex(4)

	step(t, "the core serves the panel", func() {
		// A deep link answers the UI's page too: the browser starts at
		// /login.
		resp, err := http.Get("http://" + c.addr + "/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<div id="root">`) {
			t.Fatalf("GET /login answered %d, not the panel's page (was the core built with the UI embedded? run make web before the test): %.200s", resp.StatusCode, body)
		}
	})

	// Screenshots from an earlier run may be in the folder already (it is
	// docs/screenshots under make screenshots): only newer ones count.
	started := time.Now()
	step(t, "the Playwright suite passes", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, playwright, "test")
		cmd.Dir = web
		cmd.Env = append(os.Environ(),
			"CATALYST_URL=http://"+c.addr,
			"CATALYST_EMAIL="+c.admin[0],
			"CATALYST_PASSWORD="+c.admin[1],
			"CATALYST_TEMPLATE="+tpl.Name,
			"CATALYST_BANNER="+testimage.BannerDone,
			"CATALYST_RUN="+run,
			"CATALYST_SCREENSHOTS="+shots,
			"CHROMIUM="+chromium,
			"FORCE_COLOR=0",
		)
		// Playwright's node and the browsers it starts share a process
		// group, so a timeout ends them all.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 10 * time.Second
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatalf("start playwright: %v", err)
		}
		var figures []string
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			t.Log("playwright: " + line)
			if strings.HasPrefix(strings.TrimSpace(line), "scale:") {
				figures = append(figures, strings.TrimSpace(line))
			}
		}
		err = cmd.Wait()
		for _, f := range figures {
			t.Log(f)
		}
		var exit *exec.ExitError
		switch {
		case ctx.Err() != nil:
			t.Fatalf("the Playwright suite did not finish within 30 minutes (its output is above)")
		case errors.As(err, &exit):
			t.Fatalf("the Playwright suite failed (exit code %d; its output is above; traces and screenshots in core/web/test-results/artifacts)", exit.ExitCode())
		case err != nil:
			t.Fatalf("run playwright: %v", err)
		}
	})

	// The names panel.spec.ts gives what it creates (see names in
	// core/web/e2e/helpers.ts).
	var (
		serverName = "web-" + run
		command    = "say web-" + run
		fileName   = "notes.txt"
		fileWant   = "# notes\nnote " + run + "\nedited " + run
		backupName = "backup-" + run
	)
	var s struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		State string `json:"state"`
	}
	step(t, "the server the browser created exists, stopped", func() {
		var list []struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			State string `json:"state"`
		}
		c.must(http.MethodGet, "/api/servers", nil, &list)
		var seen []string
		for _, l := range list {
			if l.Name == serverName {
				s = l
			}
			seen = append(seen, l.Name)
		}
		if s.ID == "" {
			t.Fatalf("no server %q in GET /api/servers; there are %q", serverName, seen)
		}
		if s.State != "stopped" {
			t.Fatalf("server %s is %q after the browser stopped it", s.ID, s.State)
		}
	})

	step(t, "the command typed in the console reached the game", func() {
		if logs := c.logs(s.ID); !strings.Contains(logs, "> echo: "+command) {
			t.Fatalf("the game's console has no echo of %q:\n%s", command, tail([]byte(logs), 30))
		}
	})

	step(t, "the uploaded and edited file is on the node", func() {
		b, err := os.ReadFile(filepath.Join(c.volume(s.ID), fileName))
		if err != nil {
			t.Fatalf("the file the browser uploaded: %v", err)
		}
		if got := strings.TrimRight(string(b), "\n"); got != fileWant {
			t.Fatalf("%s on the node holds %q, want %q (uploaded, then a line added in the editor)", fileName, got, fileWant)
		}
	})

	step(t, "the backup the browser made completed", func() {
		var list []struct {
			backup
			Name string `json:"name"`
		}
		c.must(http.MethodGet, "/api/servers/"+s.ID+"/backups", nil, &list)
		for _, b := range list {
			if b.Name != backupName {
				continue
			}
			if b.Status != "completed" || b.Size <= 0 || len(b.SHA256) != 64 {
				t.Fatalf("backup %q: %+v", backupName, b.backup)
			}
			return
		}
		t.Fatalf("no backup %q among the server's %d", backupName, len(list))
	})

	if shots != "" {
		step(t, "every screenshot was saved", func() {
			var missing []string
			for _, name := range webScreenshots {
				if fi, err := os.Stat(filepath.Join(shots, name+".png")); err != nil || fi.Size() == 0 || fi.ModTime().Before(started) {
					missing = append(missing, name+".png")
				}
			}
			if len(missing) > 0 {
				t.Fatalf("screenshots not saved by this run in %s: %s", shots, strings.Join(missing, ", "))
			}
		})
	}
}
