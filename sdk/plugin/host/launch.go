package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"github.com/hashicorp/hcl/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"

	"catalyst.dev/sdk/plugin"
)

// launch is one running process of a plugin.
type launch struct {
	client  *goplugin.Client
	conn    *grpc.ClientConn
	runner  *procRunner
	base    plugin.Base
	kind    any // the dispensed client of the plugin's kind
	info    plugin.Info
	api     string
	started time.Time
}

func (l *launch) dead() bool {
	select {
	case <-l.runner.exited:
		return true
	default:
		return false
	}
}

// kill stops the process: gracefully if it answers, by SIGKILL to its
// process group otherwise. It returns once the process is gone.
func (l *launch) kill() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.client.Kill()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		// go-plugin's graceful shutdown is an RPC without deadline; a
		// wedged (e.g. stopped) plugin never answers it.
		_ = l.runner.Kill(context.Background())
		<-done
	}
}

// hardKill stops a process that is dead or no longer trusted, without
// asking it first.
func (l *launch) hardKill() {
	_ = l.runner.Kill(context.Background())
	l.client.Kill()
}

// ping asks the plugin's gRPC health service, which go-plugin registers in
// every plugin, whether it is serving.
func (l *launch) ping(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := grpc_health_v1.NewHealthClient(l.conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: goplugin.GRPCServiceName})
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	if resp.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		return fmt.Errorf("health check: plugin reports %s", resp.GetStatus())
	}
	return nil
}

// ErrChecksumMismatch: the executable is not the one the config pins.
var ErrChecksumMismatch = errors.New("plugin checksum mismatch")

// verifyChecksum checks path against the pinned digest with go-plugin's
// SecureConfig, computing the actual digest only to explain a mismatch.
func verifyChecksum(name, path, want string) error {
	if want == "" {
		return nil
	}
	sum, err := hex.DecodeString(want)
	if err != nil {
		return fmt.Errorf("plugin %q: sha256 %q is not hexadecimal", name, want)
	}
	sc := &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	ok, err := sc.Check(path)
	if err != nil {
		return fmt.Errorf("plugin %q: checksum %s: %w", name, path, err)
	}
	if ok {
		return nil
	}
	got, err := fileSHA256(path)
	if err != nil {
		got = "unknown (" + err.Error() + ")"
	}
	return fmt.Errorf("plugin %q: refusing to launch %s: %w: config pins sha256 %s but the file's sha256 is %s",
		name, path, ErrChecksumMismatch, want, got)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// negotiate picks the newest API version both sides speak for the kind.
func negotiate(name string, info plugin.Info) (string, error) {
	if !info.Kind.Valid() {
		return "", fmt.Errorf("plugin %q reports unknown kind %q; this host knows %v", name, info.Kind, plugin.Kinds())
	}
	ours := plugin.APIVersions(info.Kind)
	for _, v := range ours {
		if slices.Contains(info.APIVersions, v) {
			return v, nil
		}
	}
	return "", fmt.Errorf("plugin %q (%s %s) speaks %s API versions %v but this host speaks %v: install a plugin release for one of %v, or upgrade Catalyst",
		name, info.Name, info.Version, info.Kind, info.APIVersions, ours, ours)
}

// start launches one process of in's plugin and brings it to the point
// where calls of its kind may be made: handshake (go-plugin protocol and
// mTLS), Info and API version, configuration, and the kind's own set-up.
// first is true for the launch made by Load, which decodes the config
// block; later launches reuse the decoded configuration.
func (h *Host) start(ctx context.Context, in *instance, first bool) (*launch, error) {
	name := in.spec.Name
	if err := verifyChecksum(name, in.path, in.spec.SHA256); err != nil {
		return nil, err
	}
	set, err := plugin.PluginSet(nil, nil)
	if err != nil {
		return nil, err
	}
	var pr *procRunner
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  plugin.Handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{plugin.ProtocolVersion: set},
		RunnerFunc: func(_ hclog.Logger, tmpl *exec.Cmd, _ string) (runner.Runner, error) {
			// tmpl carries go-plugin's environment (cookie, mTLS
			// certificate, socket directory); the process is ours.
			cmd := exec.Command(in.path, in.spec.Args...)
			cmd.Env = append(slices.Clone(tmpl.Env), plugin.EnvLogLevel+"="+hostLevel(h.log))
			cmd.Env = append(cmd.Env, in.spec.Env...)
			r, err := newProcRunner(name, cmd, h.spawner)
			pr = r
			return r, err
		},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           in.log,
		StartTimeout:     h.startTimeout,
		UnixSocketConfig: &goplugin.UnixSocketConfig{TempDir: h.socketDir},
		GRPCDialOptions:  plugin.DialOptions(),
		SyncStdout:       &lineLogger{log: in.log, msg: "plugin wrote to stdout (use the logger instead)"},
		SyncStderr:       &lineLogger{log: in.log, msg: "plugin stderr"},
	})
	l, err := h.handshake(ctx, in, client, &pr, first)
	if err != nil {
		client.Kill()
		return nil, err
	}
	return l, nil
}

// handshake connects to the started process; pr is set by then.
func (h *Host) handshake(ctx context.Context, in *instance, client *goplugin.Client, pr **procRunner, first bool) (*launch, error) {
	name := in.spec.Name
	rpc, err := client.Client()
	if err != nil {
		return nil, fmt.Errorf("plugin %q: launch %s: %w", name, in.path, err)
	}
	gc, ok := rpc.(*goplugin.GRPCClient)
	if !ok {
		return nil, fmt.Errorf("plugin %q: not a gRPC plugin", name)
	}
	raw, err := rpc.Dispense("base")
	if err != nil {
		return nil, fmt.Errorf("plugin %q: dispense base: %w", name, err)
	}
	base := raw.(plugin.Base)
	info, err := base.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: info: %w", name, err)
	}
	api, err := negotiate(name, info)
	if err != nil {
		return nil, err
	}
	l := &launch{client: client, conn: gc.Conn, runner: *pr, base: base, info: info, api: api, started: time.Now()}

	in.mu.Lock()
	cfg, knownKind := in.config, in.info.Kind
	in.mu.Unlock()
	if knownKind != "" && knownKind != info.Kind {
		return nil, fmt.Errorf("plugin %q was a %s and is now a %s: the executable changed under a running host", name, knownKind, info.Kind)
	}
	if first {
		if cfg, err = in.decodeConfig(ctx, base); err != nil {
			return nil, err
		}
	}
	if err := base.Configure(ctx, cfg); err != nil {
		if errors.Is(err, plugin.ErrInvalidArgument) {
			return nil, &DiagnosticsError{Diags: hcl.Diagnostics{errorAt(in.configRange(),
				"Plugin rejected its configuration", fmt.Sprintf("Plugin %q: %v.", name, err))}}
		}
		return nil, fmt.Errorf("plugin %q: configure: %w", name, err)
	}
	if l.kind, err = rpc.Dispense(string(info.Kind)); err != nil {
		return nil, fmt.Errorf("plugin %q: dispense %s: %w", name, info.Kind, err)
	}
	if err := in.afterLaunch(ctx, l); err != nil {
		return nil, fmt.Errorf("plugin %q: %w", name, err)
	}

	in.mu.Lock()
	in.config, in.info = cfg, info
	in.mu.Unlock()
	return l, nil
}

// hostLevel is the level the plugin should log at: the host's own, so
// entries the host would drop are not produced.
func hostLevel(log hclog.Logger) string {
	switch {
	case log.IsTrace():
		return "trace"
	case log.IsDebug():
		return "debug"
	case log.IsInfo():
		return "info"
	case log.IsWarn():
		return "warn"
	}
	return "error"
}

// lineLogger logs what a plugin writes to its redirected stdout/stderr,
// one entry per line.
type lineLogger struct {
	log hclog.Logger
	msg string
	mu  sync.Mutex
	buf []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.log.Warn(w.msg, "line", string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // a runaway line without newline
		w.log.Warn(w.msg, "line", string(w.buf))
		w.buf = nil
	}
	return len(p), nil
}
