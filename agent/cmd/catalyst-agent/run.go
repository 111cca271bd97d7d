package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/api"
	"catalyst.dev/agent/internal/archive"
	"catalyst.dev/agent/internal/backups"
	"catalyst.dev/agent/internal/config"
	"catalyst.dev/agent/internal/configfiles"
	"catalyst.dev/agent/internal/files"
	"catalyst.dev/agent/internal/hostinfo"
	"catalyst.dev/agent/internal/metrics"
	"catalyst.dev/agent/internal/runtime/containerd"
	"catalyst.dev/agent/internal/runtime/network"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/agent/internal/sftp"
	"catalyst.dev/agent/internal/tunnel"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
	"catalyst.dev/sdk/wire"
)

// run is the agent daemon: it finds the servers containerd runs, connects
// to the core and serves it until ctx ends. Game servers keep running when
// it exits.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("config", defaultConfigPath, "agent configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	rt, err := openRuntime(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer rt.Close()

	queue := tunnel.NewQueue(tunnel.DefaultQueueSize)
	throttle := *cfg.Console.ThrottleLines
	if throttle == 0 {
		throttle = -1 // off; servers.Options reads 0 as the default
	}
	quota := &lateQuota{}
	mgr, err := servers.New(rt, cfg.DataDir, queue, log.Named("servers"), servers.Options{
		ConfigFiles:    configfiles.NewWriter(quota, *cfg.Runtime.UID, *cfg.Runtime.GID),
		ThrottleLines:  throttle,
		ThrottlePeriod: cfg.Console.ThrottlePeriodDuration(),
		HistoryLines:   cfg.Console.HistoryLines,
		LogMaxBytes:    int64(cfg.Console.LogMaxMB) << 20,
		LogFiles:       cfg.Console.LogFiles,
	})
	if err != nil {
		return err
	}
	defer mgr.Close()
	if err := mgr.Restore(ctx); err != nil {
		return err
	}
	collector, stopCollector, err := startCollector(ctx, cfg, rt, mgr, queue, log.Named("metrics"))
	if err != nil {
		return err
	}
	// Deferred after mgr.Close, so it runs before it: a quota stop must
	// not reach a closed manager.
	defer stopCollector()
	quota.c.Store(collector)
	fsvc := newFileService(cfg, mgr, collector)
	plugins, err := startPlugins(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer plugins.Close()
	if err := archive.Recover(filepath.Join(cfg.DataDir, "volumes")); err != nil {
		return fmt.Errorf("tidy restores a crash interrupted: %w", err)
	}
	bsvc := newBackupService(cfg, plugins, mgr, queue, log.Named("backups"))

	caps := []string{wire.CapImageImport, wire.CapCNI}
	if cfg.Network.Mode == config.NetworkHost {
		caps = []string{wire.CapImageImport, wire.CapHostNetwork}
	}
	// The SFTP server asks the core through the tunnel, and the API served
	// on the tunnel closes SFTP sessions: the API reaches the server
	// through sessions, set before the tunnel runs.
	sessions := &sftpSessions{}
	sftpAddr := ""
	if *cfg.SFTP.Enabled {
		sftpAddr = cfg.SFTP.Listen
	}
	client, err := tunnel.New(tunnel.Config{
		CoreURL:      cfg.CoreURL,
		NodeID:       cfg.NodeID,
		Credential:   cfg.Credential,
		AgentVersion: version,
		Handler:      api.New(api.Deps{Servers: mgr, Images: rt, Files: fsvc, Backups: bsvc, SFTP: sessions, Log: log.Named("api")}),
		Hello: func(ctx context.Context) (wire.Hello, error) {
			res, err := hostinfo.Resources(cfg.DataDir)
			if err != nil {
				return wire.Hello{}, err
			}
			if res.Runtime, err = rt.Version(ctx); err != nil {
				return wire.Hello{}, err
			}
			states, err := mgr.States(ctx)
			if err != nil {
				return wire.Hello{}, err
			}
			return wire.Hello{Capabilities: caps, Resources: res, Servers: states, SFTPAddr: sftpAddr, BackupStores: bsvc.Stores()}, nil
		},
		Heartbeat: func() wire.Heartbeat { return wire.Heartbeat{Running: mgr.Running()} },
		Queue:     queue,
		Log:       log.Named("tunnel"),
	})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	// Deferred in this order, so the SFTP server stops (and its sessions
	// close) before the file service's collector does.
	defer wg.Wait()
	defer cancel()
	if *cfg.SFTP.Enabled {
		srv, ln, err := listenSFTP(ctx, cfg, client, fsvc, log.Named("sftp"))
		if err != nil {
			return err
		}
		sessions.set(srv)
		wg.Go(func() {
			if err := srv.Serve(ctx, ln); err != nil {
				log.Error("sftp server stopped", "error", err)
			}
		})
	}
	log.Info("agent running", "version", version, "node", cfg.NodeID, "core", cfg.CoreURL, "data_dir", cfg.DataDir, "network", cfg.Network.Mode, "sftp", sftpAddr)
	err = client.Run(ctx)
	log.Info("agent stopping; game servers keep running")
	return err
}

// listenSFTP makes the SFTP server, which asks the core who may log in,
// and its listener: a port already taken stops the agent at start rather
// than leaving users without SFTP.
func listenSFTP(ctx context.Context, cfg *config.Config, client *tunnel.Client, fsvc *files.Service, log hclog.Logger) (*sftp.Server, net.Listener, error) {
	srv, err := sftp.New(sftp.Config{
		Addr:        cfg.SFTP.Listen,
		HostKeyPath: cfg.SFTP.HostKey,
		Auth:        sftp.NewCoreAuth(client.CoreHTTP()),
		Volumes:     fsvc,
		Log:         log,
		IdleTimeout: cfg.SFTP.IdleTimeoutDuration(),
		MaxSessions: cfg.SFTP.MaxSessions,
	})
	if err != nil {
		return nil, nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.SFTP.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("sftp: %w (set sftp.listen to a free address, or sftp.enabled = false)", err)
	}
	return srv, ln, nil
}

// sftpSessions is the SFTP server once it runs; before (or with SFTP
// off) there are no sessions to revoke.
type sftpSessions struct{ srv atomic.Pointer[sftp.Server] }

func (s *sftpSessions) set(srv *sftp.Server) { s.srv.Store(srv) }

func (s *sftpSessions) Revoke(userID, serverID string) int {
	if srv := s.srv.Load(); srv != nil {
		return srv.Revoke(userID, serverID)
	}
	return 0
}

// startPlugins launches the plugins agent.hcl declares (backup stores)
// and checks their config blocks against their schemas: a block that does
// not fit stops the agent with an error naming file:line.
func startPlugins(ctx context.Context, cfg *config.Config, log hclog.Logger) (*host.Host, error) {
	h, err := host.Start(ctx, cfg.PluginSpecs, cfg.SourceFiles(), host.WithLogger(log.Named("plugins")), host.WithPluginDir(cfg.PluginDir))
	if err != nil {
		return nil, err
	}
	if n := len(cfg.PluginSpecs); n > 0 {
		log.Info("plugins started", "count", n, "backup_stores", h.Names(plugin.KindBackupStore))
	}
	return h, nil
}

// newBackupService makes backups into the plugins' stores.
func newBackupService(cfg *config.Config, h *host.Host, mgr *servers.Manager, pub backups.Publisher, log hclog.Logger) *backups.Service {
	return backups.New(h, h.Names(plugin.KindBackupStore), mgr, pub, log, backups.Options{
		Compression: archive.Compression(cfg.Backups.Compression),
		Level:       cfg.Backups.Level,
		Workers:     cfg.Backups.Workers,
		RateLimit:   int64(cfg.Backups.RateLimitMB) << 20,
		UID:         *cfg.Runtime.UID,
		GID:         *cfg.Runtime.GID,
	})
}

// newFileService serves the volumes of mgr's servers to the file API,
// their writes approved by the collector's disk quota.
func newFileService(cfg *config.Config, mgr *servers.Manager, quota files.Quota) *files.Service {
	redirects := *cfg.Files.PullMaxRedirects
	if redirects == 0 {
		redirects = -1 // none; files.Options reads 0 as the default
	}
	return files.NewService(mgr, quota, files.Options{
		UID:            *cfg.Runtime.UID,
		GID:            *cfg.Runtime.GID,
		MaxUploadBytes: int64(cfg.Files.MaxUploadMB) << 20,
		Pull: files.PullOptions{
			MaxBytes:      int64(cfg.Files.PullMaxMB) << 20,
			Timeout:       cfg.Files.PullTimeoutDuration(),
			MaxRedirects:  redirects,
			AllowNetworks: cfg.Files.AllowNetworks(),
		},
	})
}

// startCollector runs the resource collector until the returned function
// is called (which waits for it to stop).
func startCollector(ctx context.Context, cfg *config.Config, rt metrics.StatsSource, mgr *servers.Manager, pub metrics.Publisher, log hclog.Logger) (*metrics.Collector, func(), error) {
	health, err := hostinfo.NewHealthSampler("/proc", cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	c, err := metrics.New(rt, quotaServers{mgr}, health, pub, log, metrics.Options{
		Interval:       cfg.Stats.IntervalDuration(),
		HealthInterval: cfg.Stats.HealthIntervalDuration(),
		DiskInterval:   cfg.Stats.DiskIntervalDuration(),
		Quota:          metrics.QuotaAction(cfg.DiskQuota.Action),
		QuotaGrace:     cfg.DiskQuota.GraceDuration(),
	})
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(cctx) })
	return c, func() {
		cancel()
		wg.Wait()
	}, nil
}

// lateQuota is the collector's disk quota once it runs: the manager
// (whose config writer asks the quota) is made before the collector
// (which stops servers through the manager). Until then, which is only
// while the manager restores its servers, writes are approved.
type lateQuota struct {
	c atomic.Pointer[metrics.Collector]
}

func (q *lateQuota) CheckWrite(id string, n uint64) error {
	if c := q.c.Load(); c != nil {
		return c.CheckWrite(id, n)
	}
	return nil
}

// quotaServers gives the collector the manager, whose normal stop is
// what a server over its disk quota gets.
type quotaServers struct{ *servers.Manager }

func (q quotaServers) Stop(ctx context.Context, id string) error {
	return q.Power(ctx, id, wire.PowerStop)
}

// imageImport imports an OCI image-layout or docker-save archive into
// containerd, for nodes that cannot reach a registry.
func imageImport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("image import", flag.ContinueOnError)
	path := fs.String("config", defaultConfigPath, "agent configuration file")
	// The archive may come before or after the flags.
	var file string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if file == "" || fs.NArg() != 0 {
		return fmt.Errorf("usage: catalyst-agent image import FILE [--config FILE]")
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rt, err := openRuntime(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer rt.Close()
	names, err := rt.Import(ctx, f)
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(stdout, n)
	}
	return nil
}

// openRuntime connects to containerd as cfg says. noNetwork skips setting
// up container networking, for commands that start no container.
func openRuntime(ctx context.Context, cfg *config.Config, noNetwork bool) (*containerd.Runtime, error) {
	stateDir := filepath.Join(cfg.DataDir, "state")
	var netw containerd.Network = network.Host{}
	if cfg.Network.Mode == config.NetworkBridge && !noNetwork {
		b, err := network.NewBridge(network.BridgeConfig{
			Dir:        filepath.Join(stateDir, "network"),
			Name:       cfg.Network.Name,
			Bridge:     cfg.Network.Bridge,
			Subnet:     cfg.Network.Subnet,
			MTU:        cfg.Network.MTU,
			PluginDirs: cfg.Network.CNIBinDirs,
		})
		if err != nil {
			return nil, err
		}
		netw = b
	}
	regs := map[string]containerd.Registry{}
	for _, r := range cfg.Registries {
		regs[r.Host] = containerd.Registry{Username: r.Username, Password: r.Password, PlainHTTP: r.PlainHTTP}
	}
	return containerd.New(ctx, cfg.Containerd.Address,
		containerd.WithNamespace(cfg.Containerd.Namespace),
		containerd.WithStateDir(stateDir),
		containerd.WithUser(uint32(*cfg.Runtime.UID), uint32(*cfg.Runtime.GID)),
		containerd.WithNetwork(netw),
		containerd.WithRegistries(regs),
		containerd.WithSnapshotter(cfg.Runtime.Snapshotter),
		containerd.WithStopGrace(cfg.Runtime.StopGraceDuration()),
		containerd.WithTmpSize(int64(cfg.Runtime.TmpSizeMB)<<20),
	)
}

func newLogger(cfg *config.Config, out io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "catalyst-agent",
		Level:      hclog.LevelFromString(cfg.Log.Level),
		JSONFormat: cfg.Log.Format == "json",
		Output:     out,
		Color:      hclog.AutoColor,
	})
}
