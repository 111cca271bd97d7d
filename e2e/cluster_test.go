package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"catalyst.dev/agent/testkit/testenv"
	"catalyst.dev/agent/testkit/testimage"
)

// What every test and benchmark of the package shares: the binaries, one
// private containerd and the test image.
var env struct {
	dir      string
	coreBin  string
	agentBin string
	// s3Bin is the test S3 server (tools/s3server); the backup store
	// plugins sit in plugins/ beside agentBin, where the agent's
	// configure finds them.
	s3Bin string
	ctd   *testenv.Containerd
	img   testimage.Image
}

func TestMain(m *testing.M) {
	if err := testenv.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "e2e: cannot run under CI:", err)
			os.Exit(1)
		}
		fmt.Println("e2e: skipping, containerd cannot run here:", err)
		os.Exit(0)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "catalyst-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	env.dir = dir
	env.coreBin = filepath.Join(dir, "catalyst")
	env.agentBin = filepath.Join(dir, "catalyst-agent")

	env.s3Bin = filepath.Join(dir, "s3server")
	plugins := filepath.Join(dir, "plugins")

	var wg sync.WaitGroup
	errs := make([]error, 10)
	wg.Go(func() { errs[0] = goBuild(ctx, env.coreBin, "catalyst.dev/core/cmd/catalyst") })
	wg.Go(func() { errs[1] = goBuild(ctx, env.agentBin, "catalyst.dev/agent/cmd/catalyst-agent") })
	wg.Go(func() { env.img, errs[2] = testimage.Build(ctx, dir) })
	wg.Go(func() {
		errs[3] = goBuild(ctx, filepath.Join(plugins, "catalyst-backup-local"), "catalyst.dev/plugins/backup-local")
	})
	wg.Go(func() {
		errs[4] = goBuild(ctx, filepath.Join(plugins, "catalyst-backup-s3"), "catalyst.dev/plugins/backup-s3")
	})
	wg.Go(func() { errs[5] = goBuild(ctx, env.s3Bin, "catalyst.dev/tools/s3server") })
	wg.Go(func() {
		errs[6] = goBuild(ctx, filepath.Join(plugins, "catalyst-alerts-discord"), "catalyst.dev/plugins/alerts-discord")
	})
	wg.Go(func() {
		errs[7] = goBuild(ctx, filepath.Join(plugins, "catalyst-alerts-webhook"), "catalyst.dev/plugins/alerts-webhook")
	})
	wg.Go(func() {
		errs[8] = goBuild(ctx, filepath.Join(plugins, "catalyst-schedule-cron"), "catalyst.dev/plugins/schedule-cron")
	})
	wg.Go(func() {
		errs[9] = goBuild(ctx, filepath.Join(plugins, "catalyst-templates-eggs"), "catalyst.dev/plugins/templates-eggs")
	})
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	if env.ctd, err = testenv.New(ctx); err != nil {
		return 0, err
	}
	defer env.ctd.Stop()
	return m.Run(), nil
}

func goBuild(ctx context.Context, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// proc is a running binary whose output goes to a log file, shown when the
// test fails.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startProc(t testing.TB, name, logPath string, args ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p
}

// stop asks the process to stop (SIGTERM) and waits.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 30s of SIGTERM", p.name)
	}
}

// kill ends the process with SIGKILL, as a crash or an OOM kill would.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// cluster is one core and one node running its agent, with an
// administrator logged in.
type cluster struct {
	t           testing.TB
	dir         string
	addr        string
	core        *proc
	agent       *proc
	token       string
	nodeID      string
	agentConfig string
	ports       []int // the node's allocations
	templateID  string
	// admin is the administrator's email and password; sftpAddr is where
	// the agent serves SFTP.
	admin    [2]string
	sftpAddr string
}

// clusterOptions vary a cluster.
type clusterOptions struct {
	// hostNetwork runs the node's containers in the host's network.
	hostNetwork bool
	ports       int // allocations to create; default 2
	// coreHCL is appended to the core's configuration file; agentSet
	// replaces values in the agent's (key → value as written in HCL).
	coreHCL  string
	agentSet map[string]string
	// agentHCL is appended to the agent's configuration (plugin blocks).
	agentHCL string
}

func newCluster(t testing.TB, o clusterOptions) *cluster {
	t.Helper()
	if o.ports == 0 {
		o.ports = 2
	}
	dir, err := os.MkdirTemp(env.dir, "cluster-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, dir: dir, addr: freeAddr(t)}
	t.Cleanup(func() {
		c.deleteServers()
		if c.agent != nil && c.agent.running() {
			c.agent.stop(t)
		}
		if c.core != nil && c.core.running() {
			c.core.stop(t)
		}
		if t.Failed() {
			for _, name := range []string{"core.log", "agent.log"} {
				b, _ := os.ReadFile(filepath.Join(dir, name))
				t.Logf("--- %s ---\n%s", name, tail(b, 150))
			}
		}
	})
	coreHCL := fmt.Sprintf(`listen   = %q
data_dir = %q

gateway {
  heartbeat_interval = "1s"
  offline_after      = "4s"
}

servers {
  stop_timeout = "10s"
}

rate_limit "api" {
  per_user = 100000
  per_ip   = 100000
}
`, c.addr, filepath.Join(dir, "core-data")) + o.coreHCL
	if err := os.WriteFile(filepath.Join(dir, "core.hcl"), []byte(coreHCL), 0o600); err != nil {
		t.Fatal(err)
	}
	c.startCore()
	creds := readCredentials(t, filepath.Join(dir, "core.log"))
	c.admin = creds
	var sess struct {
		Token string `json:"token"`
	}
	c.must(http.MethodPost, "/api/auth/login", map[string]string{"email": creds[0], "password": creds[1]}, &sess)
	c.token = sess.Token

	c.sftpAddr = freeAddr(t)
	c.nodeID, c.agentConfig, c.ports = c.enrolNode("e2e-"+filepath.Base(dir), dir, c.sftpAddr, "", o)
	c.startAgent()
	c.waitOnline(true)
	c.templateID = c.createTemplate()
	return c
}

// deleteServers deletes the cluster's servers while its agent still runs,
// so the agent removes their containers and networks: a game server
// outlives its agent by design, and the port mapping of one left behind
// would catch connections to that port for the rest of the machine's tests.
func (c *cluster) deleteServers() {
	if c.core == nil || !c.core.running() || c.agent == nil || !c.agent.running() || c.token == "" {
		return
	}
	var list []server
	if err := c.call(http.MethodGet, "/api/servers", nil, &list); err != nil {
		c.t.Logf("cleanup: list servers: %v", err)
		return
	}
	for _, s := range list {
		if err := c.call(http.MethodDelete, "/api/servers/"+s.ID, nil, nil); err != nil {
			c.t.Logf("cleanup: delete server %s: %v", s.ID, err)
		}
	}
}

// enrolNode registers a node named name with o.ports allocations, and
// writes its agent's configuration into dir (data in dir/agent-data),
// pointed at the private containerd with a network of its own so that
// clusters and other test packages never share a bridge, and with the test
// image imported. namespace, when set, is its containerd namespace.
func (c *cluster) enrolNode(name, dir, sftpAddr, namespace string, o clusterOptions) (id, config string, ports []int) {
	t := c.t
	t.Helper()
	var created struct {
		Node struct {
			ID string `json:"id"`
		} `json:"node"`
		DeployToken string `json:"deploy_token"`
	}
	c.must(http.MethodPost, "/api/admin/nodes", map[string]any{"name": name, "fqdn": "127.0.0.1", "memory_mb": 4096, "disk_mb": 10240}, &created)
	var portArgs []string
	for range o.ports {
		p := freePortNumber(t)
		ports = append(ports, p)
		portArgs = append(portArgs, fmt.Sprint(p))
	}
	c.must(http.MethodPost, "/api/admin/nodes/"+created.Node.ID+"/allocations", map[string]any{"ip": "0.0.0.0", "ports": portArgs}, nil)
	config = filepath.Join(dir, "agent.hcl")
	out, err := exec.Command(env.agentBin, "configure", "--core", "http://"+c.addr, "--token", created.DeployToken,
		"--config", config, "--data-dir", filepath.Join(dir, "agent-data")).CombinedOutput()
	if err != nil {
		t.Fatalf("catalyst-agent configure (%s): %v\n%s", name, err, out)
	}
	rewriteAgentConfig(t, config, sftpAddr, namespace, o)
	if out, err := exec.Command(env.agentBin, "image", "import", "--config", config, env.img.Archive).CombinedOutput(); err != nil {
		t.Fatalf("catalyst-agent image import (%s): %v\n%s", name, err, out)
	}
	return created.Node.ID, config, ports
}

// rewriteAgentConfig edits the agent configuration at path; namespace,
// when set, is its containerd namespace (each extra node needs its own:
// two agents in one namespace would share containers).
func rewriteAgentConfig(t testing.TB, path, sftpAddr, namespace string, o clusterOptions) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), `"/run/containerd/containerd.sock"`, fmt.Sprintf("%q", env.ctd.Address), 1)
	suffix := randomHex(3)
	set := func(key, value string) {
		cfg = regexp.MustCompile(`(?m)^(\s*`+key+`\s*=).*$`).ReplaceAllString(cfg, "${1} "+strconv.Quote(value))
	}
	if o.hostNetwork {
		set("mode", "host")
	} else {
		set("name", "catalyst-e2e-"+suffix)
		set("bridge", "ce2e"+suffix)
		set("subnet", freeSubnet(t))
	}
	set("listen", sftpAddr)
	if namespace != "" {
		set("namespace", namespace)
	}
	for k, v := range o.agentSet {
		cfg = regexp.MustCompile(`(?m)^(\s*`+k+`\s*=).*$`).ReplaceAllString(cfg, "${1} "+v)
	}
	cfg += "\n" + o.agentHCL
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) startCore() {
	c.core = startProc(c.t, "core", filepath.Join(c.dir, "core.log"), env.coreBin, "serve", "--config", filepath.Join(c.dir, "core.hcl"))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + c.addr + "/api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if !c.core.running() {
			c.t.Fatal("core exited during start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("core did not answer /api/health within 30s")
}

func (c *cluster) startAgent() {
	c.agent = startProc(c.t, "agent", filepath.Join(c.dir, "agent.log"), env.agentBin, "run", "--config", c.agentConfig)
}

// waitOnline waits until the core reports the node online (or offline).
func (c *cluster) waitOnline(online bool) {
	c.t.Helper()
	c.eventually(30*time.Second, fmt.Sprintf("node online=%v", online), func() bool {
		var n struct {
			Online bool `json:"online"`
		}
		c.must(http.MethodGet, "/api/admin/nodes/"+c.nodeID, nil, &n)
		return n.Online == online
	})
}

// createTemplate registers the test game server: its banner marks it
// started, "stop" stops it, and its installer writes installed.txt. Its
// variables switch on gamesrv's misbehaviours (see package testimage).
func (c *cluster) createTemplate() string {
	var tpl struct {
		ID string `json:"id"`
	}
	c.must(http.MethodPost, "/api/admin/templates", map[string]any{
		"name":               "gamesrv-" + randomHex(4),
		"images":             []string{env.img.Ref},
		"startup":            "/gamesrv",
		"stop_command":       "stop",
		"startup_done":       []string{"Done ("},
		"install_image":      env.img.Ref,
		"install_entrypoint": "/bin/sh",
		"install_script":     "/gamesrv install\n",
		// The file manager and SFTP hide these (see TestFileManager).
		"denylist": []string{"*.secret"},
		"variables": []map[string]any{
			{"name": "Tick interval", "env_name": "GAMESRV_TICK", "default": "1s", "user_viewable": true, "user_editable": true},
			{"name": "Ignore stop", "env_name": "GAMESRV_IGNORE_STOP", "default": "0", "user_viewable": true, "user_editable": true},
			{"name": "Hold startup", "env_name": "GAMESRV_HOLD_DONE", "default": "0", "user_viewable": true, "user_editable": true},
			{"name": "Exit after", "env_name": "GAMESRV_EXIT_AFTER", "default": "", "user_viewable": true, "user_editable": true},
			{"name": "Exit code", "env_name": "GAMESRV_EXIT_CODE", "default": "0", "user_viewable": true, "user_editable": true},
		},
	}, &tpl)
	return tpl.ID
}

// server is the part of the server view the tests read.
type server struct {
	ID          string `json:"id"`
	State       string `json:"state"`
	Allocations []struct {
		IP   string `json:"ip"`
		Port int    `json:"port"`
	} `json:"allocations"`
}

func (c *cluster) server(id string) server {
	var s server
	c.must(http.MethodGet, "/api/servers/"+id, nil, &s)
	return s
}

// waitState waits for the server to reach want, failing early if it lands
// in crashed or install_failed instead: nothing leads on from those by
// itself.
func (c *cluster) waitState(id, want string, timeout time.Duration) {
	c.t.Helper()
	var last string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		last = c.server(id).State
		if last == want {
			return
		}
		if last == "crashed" || last == "install_failed" {
			c.t.Fatalf("server %s is %q, want %q", id, last, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("server %s is %q after %v, want %q", id, last, timeout, want)
}

func (c *cluster) eventually(timeout time.Duration, what string, ok func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("timed out after %v waiting for %s", timeout, what)
}

// apiError is the core's error envelope.
type apiError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// call sends a JSON request as the administrator and decodes the data of
// a success into out; an error answer comes back as *apiError.
func (c *cluster) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+c.addr+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error apiError `json:"error"`
		}
		json.Unmarshal(raw, &env)
		env.Error.Status = resp.StatusCode
		if env.Error.Message == "" {
			env.Error.Message = string(raw)
		}
		return &env.Error
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: %w: %s", method, path, err, raw)
	}
	return json.Unmarshal(env.Data, out)
}

func (c *cluster) must(method, path string, body, out any) {
	c.t.Helper()
	if err := c.call(method, path, body, out); err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
}

var credRE = regexp.MustCompile(`(?m)^\s*email:\s+(\S+)\s*\n\s*password:\s+(\S+)`)

// readCredentials finds the administrator credentials the core printed on
// its first start.
func readCredentials(t testing.TB, logPath string) [2]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logPath)
		if m := credRE.FindSubmatch(b); m != nil {
			return [2]string{string(m[1]), string(m[2])}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the core printed no administrator credentials")
	return [2]string{}
}

// Test ports come from below the kernel's ephemeral range (32768 and up
// by default). A port there is never handed to another test package's
// port-0 listener or outgoing connection while this one has picked it but
// not bound it yet, and the DNAT rule of a game server's allocation never
// catches another package's connection to its own listener.
const testPortLow, testPortHigh = 20000, 32000

// freeAddr is a free 127.0.0.1 address for a process of the test to
// listen on.
func freeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", pickPort(t, "127.0.0.1"))
}

// freePortNumber is a port free for TCP and UDP on every address.
func freePortNumber(t testing.TB) int {
	t.Helper()
	return pickPort(t, "")
}

func pickPort(t testing.TB, host string) int {
	t.Helper()
	for range 200 {
		port := testPortLow + mrand.IntN(testPortHigh-testPortLow)
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port between", testPortLow, "and", testPortHigh)
	return 0
}

// dialLine connects to addr and returns the line the game server answers.
func dialLine(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line), err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// subnets hands out the third octet of the e2e nodes' 10.252.x.0/24
// networks. 10.250 and 10.251 are the containerd and network tests'.
var subnets struct {
	sync.Mutex
	next int
}

// freeSubnet returns a /24 no other node of this run has and no host
// interface is on (a bridge a killed run left behind). Two bridges on one
// subnet would leave the kernel one route for both, and connections to the
// second's containers would fail with "no route to host".
func freeSubnet(t testing.TB) string {
	subnets.Lock()
	defer subnets.Unlock()
	used := map[int]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("list host addresses: %v", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip := n.IP.To4(); ip != nil && ip[0] == 10 && ip[1] == 252 {
				used[int(ip[2])] = true
			}
		}
	}
	for ; subnets.next < 256; subnets.next++ {
		if !used[subnets.next] {
			subnets.next++
			return fmt.Sprintf("10.252.%d.0/24", subnets.next-1)
		}
	}
	t.Fatal("no free 10.252.x.0/24 subnet left for an e2e node")
	return ""
}

func tail(b []byte, lines int) string {
	s := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(s) > lines {
		s = s[len(s)-lines:]
	}
	return strings.Join(s, "\n")
}
