package plugin

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// stderr is the process's standard error as it was at start. go-plugin
// later points os.Stderr at a pipe whose content reaches the host only as
// raw text; structured logs must go to the original stream, which the host
// parses line by line into its own logger.
var stderr = os.Stderr

// NewLogger returns the logger a plugin should use: JSON lines on the
// original standard error, at the level the host asked for, so the host can
// re-emit each entry under the plugin's name. Never log to stdout: before
// Serve it carries the go-plugin handshake.
func NewLogger(name string) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv(EnvLogLevel))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      level,
		Output:     stderr,
		JSONFormat: true,
	})
}

// ServeOption adjusts Serve.
type ServeOption func(*serveConfig)

type serveConfig struct {
	log           hclog.Logger
	hostPollEvery time.Duration
}

// WithLogger makes Serve log through l instead of NewLogger("").
func WithLogger(l hclog.Logger) ServeOption {
	return func(c *serveConfig) { c.log = l }
}

// Serve runs impl as a plugin and returns when the host stops it. It is
// meant to be the last call of a plugin's main. It exits the process if
// impl cannot be served (its Info is invalid or it does not implement its
// kind) or when the host process disappears.
func Serve(impl Base, opts ...ServeOption) {
	cfg := serveConfig{hostPollEvery: 500 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.log == nil {
		cfg.log = NewLogger("")
	}
	set, err := PluginSet(impl, cfg.log)
	if err != nil {
		cfg.log.Error("cannot serve plugin", "error", err)
		fmt.Fprintf(stderr, "catalyst plugin: %v\n", err)
		os.Exit(1)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go exitWhenHostDies(ctx, cfg.log, cfg.hostPollEvery)

	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{ProtocolVersion: set},
		GRPCServer:       newGRPCServer,
		Logger:           cfg.log,
	})
}

// exitWhenHostDies ends the plugin once its parent is gone. The host also
// asks the kernel to kill its plugins when it dies (Linux), but a plugin
// must not outlive its host anywhere: when the parent exits the process is
// re-parented, so a changed parent pid means the host is gone.
func exitWhenHostDies(ctx context.Context, log hclog.Logger, every time.Duration) {
	host := os.Getppid()
	if host <= 1 {
		return // started by init directly: nothing to watch
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != host {
				log.Warn("host process is gone; exiting", "host_pid", host)
				os.Exit(0)
			}
		}
	}
}

// newGRPCServer is the plugin's gRPC server: message size limits matching
// the host's, and panic recovery for anything the per-method guards miss.
func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, ServerOptions()...)
	return grpc.NewServer(opts...)
}

// ServerOptions are the gRPC server options plugins are served with.
func ServerOptions() []grpc.ServerOption {
	log := NewLogger("grpc")
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.ReadBufferSize(256 << 10),
		grpc.WriteBufferSize(256 << 10),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (_ any, err error) {
			defer recoverPanic(log, info.FullMethod, &err)
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
			defer recoverPanic(log, info.FullMethod, &err)
			return h(srv, ss)
		}),
	}
}

// DialOptions are the gRPC dial options a host uses towards plugins.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithReadBufferSize(256 << 10),
		grpc.WithWriteBufferSize(256 << 10),
	}
}
