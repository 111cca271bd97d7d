package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests run the real binary, as an operator would.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "catalyst-cli-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "catalyst")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build catalyst: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestMalformedConfigNamesFileLineAndColumn(t *testing.T) {
	dir := t.TempDir()
	cfg := "listen = \"127.0.0.1:0\"\n\ndatabase {\n  driver = \"sqlite\"\n  max_open_conns = \"ten\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "core.hcl"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := run(t, dir, "serve", "--config", "core.hcl")
	if err == nil {
		t.Fatal("serve started with a malformed config")
	}
	if !strings.Contains(stderr, "core.hcl:5:21: ") || !strings.Contains(stderr, "number") {
		t.Fatalf("stderr does not name core.hcl:5:21 and the problem:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Fatal("a refused config still created the data directory")
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `catalyst serve` in dir until the test ends and returns
// what it printed to stdout once the API answers.
func startServe(t *testing.T, dir, addr string) string {
	t.Helper()
	return startServeWith(t, dir, addr, fmt.Sprintf("listen = %q\n", addr))
}

// startServeWith is startServe with a whole core.hcl.
func startServeWith(t *testing.T, dir, addr, cfg string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "core.hcl"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, "serve", "--config", "core.hcl")
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-logs:
			if !ok {
				t.Fatalf("serve exited before listening; stdout:\n%s", stdout.String())
			}
			if strings.Contains(line, "core listening") {
				go func() {
					for range logs {
					}
				}()
				return stdout.String()
			}
		case <-deadline:
			t.Fatal("serve did not start listening within 30s")
		}
	}
}

func TestServeAnswersHealthAndPrintsCredentialsOnce(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	// The panel address printed is the configured public URL, not the
	// listen address (which may be behind a proxy).
	first := startServeWith(t, dir, addr, fmt.Sprintf("listen = %q\npublic_url = \"https://panel.example.com/\"\n", addr))
	if !strings.Contains(first, "panel:    https://panel.example.com\n") ||
		!strings.Contains(first, "email:    admin@catalyst.local") || !strings.Contains(first, "password: ") {
		t.Fatalf("first start did not print the administrator's credentials:\n%s", first)
	}
	resp, err := http.Get("http://" + addr + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"database":{"driver":"sqlite","status":"ok"`) {
		t.Fatalf("health: %d %s", resp.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "catalyst.db")); err != nil {
		t.Fatalf("SQLite file not under ./data: %v", err)
	}
	// Prometheus scrapes a loopback core without a token.
	resp, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "catalyst_nodes_connected 0") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
}

func TestSecondStartDoesNotPrintCredentials(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := run(t, dir, "user", "create", "--email", "ops@example.com", "--password", "a-long-password", "--admin"); err != nil {
		t.Fatal(err)
	}
	out := startServe(t, dir, freePort(t))
	if strings.Contains(out, "password:") {
		t.Fatalf("credentials printed although an account exists:\n%s", out)
	}
}

func TestUserCreateRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"user", "create", "--email", "not-an-email", "--password", "long-enough"}, `email: "not-an-email" is not an email address`},
		{[]string{"user", "create", "--email", "a@example.com", "--password", "short"}, "password: must be at least 8 characters"},
		{[]string{"user", "create", "--password", "long-enough"}, "--email and one of --password or --password-stdin are required"},
	}
	for _, tc := range cases {
		_, stderr, err := run(t, dir, tc.args...)
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: err = %v, stderr = %q; want it to say %q", tc.args, err, stderr, tc.want)
		}
	}
	if _, _, err := run(t, dir, "user", "create", "--email", "a@example.com", "--password", "long-enough"); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := run(t, dir, "user", "create", "--email", "A@example.com", "--password", "long-enough")
	if err == nil || !strings.Contains(stderr, "already exists") {
		t.Fatalf("duplicate account: err = %v, stderr = %q", err, stderr)
	}
}

func TestNodeCreatePrintsTokenAndAgentCommand(t *testing.T) {
	dir := t.TempDir()
	out, stderr, err := run(t, dir, "node", "create", "--name", "fra-1", "--fqdn", "fra1.example.com")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if !strings.Contains(out, "catalyst-agent configure --core http://127.0.0.1:8080 --token catd_") {
		t.Fatalf("no agent command in:\n%s", out)
	}
	_, stderr, err = run(t, dir, "node", "create", "--name", "fra-1", "--fqdn", "fra1.example.com")
	if err == nil || !strings.Contains(stderr, "already exists") {
		t.Fatalf("duplicate node name: %v %s", err, stderr)
	}
}

func TestNodeCreateAddsAllocations(t *testing.T) {
	dir := t.TempDir()
	out, stderr, err := run(t, dir, "node", "create", "--name", "ams-1", "--fqdn", "ams1.example.com", "--ip", "127.0.0.1", "--ports", "25565-25567,27015")
	if err != nil || !strings.Contains(out, "allocations: 127.0.0.1 ports 25565-25567,27015") {
		t.Fatalf("%v: %s\n%s", err, stderr, out)
	}
	for _, tc := range []struct{ args, want string }{
		{"--ip nowhere --ports 1", `"nowhere" is not an IP address`},
		{"--ports 70000", `"70000" is not a port or range`},
	} {
		_, stderr, err := run(t, dir, append([]string{"node", "create", "--name", "x", "--fqdn", "x.example.com"}, strings.Fields(tc.args)...)...)
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: err = %v, stderr = %q; want %q", tc.args, err, stderr, tc.want)
		}
	}
	// Refused flags left no node behind: the name is still free.
	if _, stderr, err := run(t, dir, "node", "create", "--name", "x", "--fqdn", "x.example.com"); err != nil {
		t.Fatalf("node x after refused attempts: %v: %s", err, stderr)
	}
}

// The operator's path for a new node: node create on the core, then the
// printed command on the node, against the running core.
func TestAgentConfigureEnrolsWithTheCore(t *testing.T) {
	agent := filepath.Join(filepath.Dir(binary), "catalyst-agent")
	if out, err := exec.Command("go", "build", "-o", agent, "catalyst.dev/agent/cmd/catalyst-agent").CombinedOutput(); err != nil {
		t.Fatalf("build agent: %v\n%s", err, out)
	}
	dir := t.TempDir()
	addr := freePort(t)
	if err := os.WriteFile(filepath.Join(dir, "core.hcl"), []byte(fmt.Sprintf("listen = %q\n", addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, dir, "--config", "core.hcl", "node", "create", "--name", "local", "--fqdn", "127.0.0.1")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	i := strings.Index(out, "--token ")
	token := strings.Fields(out[i+len("--token "):])[0]
	startServe(t, dir, addr)

	cfgPath := filepath.Join(dir, "agent", "agent.hcl")
	configure := func() (string, error) {
		cmd := exec.Command(agent, "configure", "--core", "http://"+addr, "--token", token, "--config", cfgPath, "--data-dir", filepath.Join(dir, "node"))
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if msg, err := configure(); err != nil {
		t.Fatalf("configure: %v\n%s", err, msg)
	}
	info, err := os.Stat(cfgPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("agent.hcl: %v, mode %v", err, info.Mode())
	}
	if b, err := exec.Command(agent, "check-config", "--config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("written config does not load: %v\n%s", err, b)
	}
	body, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(body), `credential = "catn_`) {
		t.Fatalf("no credential in agent.hcl:\n%s", body)
	}
	// The token is spent: a second exchange is refused, clearly, and the
	// existing file is kept.
	msg, err := configure()
	if err == nil || !strings.Contains(msg, "exists; pass --force") {
		t.Fatalf("second configure without --force: %v %s", err, msg)
	}
	cmd := exec.Command(agent, "configure", "--core", "http://"+addr, "--token", token, "--config", cfgPath, "--force")
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "the core refused the token") {
		t.Fatalf("spent token: %v %s", err, b)
	}
	if after, _ := os.ReadFile(cfgPath); string(after) != string(body) {
		t.Fatal("a refused configure changed agent.hcl")
	}
}

func buildExamplePlugin(t *testing.T, name string) string {
	t.Helper()
	out := filepath.Join(filepath.Dir(binary), "plugins", name)
	if b, err := exec.Command("go", "build", "-o", out, "catalyst.dev/examples/"+name).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	return out
}

func TestPluginsAreLaunchedListedAndCheckedAgainstTheirSchema(t *testing.T) {
	bin := buildExamplePlugin(t, "alerts-log")
	dir := t.TempDir()
	good := fmt.Sprintf(`plugin_dir = %q

plugin "alerts" {
  path = "alerts-log"
  config {
    path = "-"
  }
}
`, filepath.Dir(bin))
	if err := os.WriteFile(filepath.Join(dir, "core.hcl"), []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, dir, "--config", "core.hcl", "plugins", "list")
	if err != nil {
		t.Fatalf("plugins list: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "alerts") || !strings.Contains(out, "alert_sink") || !strings.Contains(out, "healthy") {
		t.Fatalf("plugins list output:\n%s", out)
	}

	// The running core serves the same status to administrators.
	addr := freePort(t)
	printed := startServeWith(t, dir, addr, fmt.Sprintf("listen = %q\n", addr)+good)
	password := strings.Fields(printed[strings.Index(printed, "password: ")+len("password: "):])[0]
	resp, err := http.Post("http://"+addr+"/api/auth/login", "application/json",
		strings.NewReader(`{"email":"admin@catalyst.local","password":"`+password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Data struct{ Token string } `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/admin/plugins", nil)
	req.Header.Set("Authorization", "Bearer "+login.Data.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"name":"alerts","kind":"alert_sink"`) || !strings.Contains(string(body), `"health":"healthy"`) {
		t.Fatalf("GET /api/admin/plugins: %d %s", resp.StatusCode, body)
	}

	bad := strings.Replace(good, `path = "-"`, "path = \"-\"\n    colour = \"red\"", 1)
	if err := os.WriteFile(filepath.Join(dir, "core.hcl"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = run(t, dir, "--config", "core.hcl", "serve")
	if err == nil || !strings.Contains(stderr, "core.hcl:7:") || !strings.Contains(stderr, "colour") {
		t.Fatalf("unknown plugin config key: err = %v, stderr:\n%s", err, stderr)
	}
}

func TestTemplateCreateFromFile(t *testing.T) {
	dir := t.TempDir()
	good := `{"name":"Minecraft","images":["ghcr.io/example/java:21"],"startup":"java -Xmx{{SERVER_MEMORY}}M -jar {{JAR}}",
"stop_command":"stop","variables":[{"name":"Jar","env_name":"JAR","default":"server.jar","user_viewable":true,"user_editable":true}]}`
	bad := `{"name":"Broken","images":["img"],"startup":"run","variables":[{"name":"v","env_name":"not-valid"}]}`
	os.WriteFile(filepath.Join(dir, "good.json"), []byte(good), 0o600)
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(bad), 0o600)
	out, stderr, err := run(t, dir, "template", "create", "--file", "good.json")
	if err != nil || !strings.Contains(out, "created template Minecraft") {
		t.Fatalf("%v: %s %s", err, out, stderr)
	}
	if _, stderr, err := run(t, dir, "template", "create", "--file", "bad.json"); err == nil || !strings.Contains(stderr, "env_name") {
		t.Fatalf("bad template: %v %s", err, stderr)
	}
}

func TestTemplateImportCreatesThenReplacesByName(t *testing.T) {
	dir := t.TempDir()
	examples, err := filepath.Glob("../../../examples/templates/*.json")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example templates: %v", err)
	}
	for _, file := range examples {
		abs, _ := filepath.Abs(file)
		out, stderr, err := run(t, dir, "template", "import", "--file", abs)
		if err != nil || !strings.Contains(out, "created template ") {
			t.Fatalf("import %s: %v: %s %s", file, err, out, stderr)
		}
	}
	abs, _ := filepath.Abs(examples[0])
	first, _, _ := run(t, dir, "template", "import", "--file", abs)
	if !strings.HasPrefix(first, "updated template ") {
		t.Fatalf("second import of %s: %s", examples[0], first)
	}
	again, _, _ := run(t, dir, "template", "import", "--file", abs)
	if again != first {
		t.Fatalf("the template's ID changed between imports: %q then %q", first, again)
	}
	bad := `{"name":"Broken","images":["img"],"startup":"run","config_files":[{"path":"/etc/passwd","parser":"file","replace":[{"match":"root","value":"x"}]}]}`
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(bad), 0o600)
	if _, stderr, err := run(t, dir, "template", "import", "--file", "bad.json"); err == nil || !strings.Contains(stderr, "config_files[0].path") {
		t.Fatalf("bad template: %v %s", err, stderr)
	}
}
