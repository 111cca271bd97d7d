// Package panel wires the core process together: configuration, store,
// first-start bootstrap and the HTTP server.
package panel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"catalyst.dev/core/internal/accounts"
	"catalyst.dev/core/internal/api"
	"catalyst.dev/core/internal/audit"
	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/core/internal/live"
	"catalyst.dev/core/internal/metrics"
	"catalyst.dev/core/internal/nodes"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/sftpauth"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/web"
	"catalyst.dev/sdk/plugin/host"
	"catalyst.dev/sdk/wire"
	"github.com/hashicorp/go-hclog"
)

// shutdownGrace is how long in-flight requests get to finish on stop.
const shutdownGrace = 10 * time.Second

// OpenStore connects to the configured database.
func OpenStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	return store.Open(ctx, store.Options{
		Driver:       cfg.Database.Driver,
		SQLitePath:   cfg.SQLitePath(),
		DSN:          cfg.Database.DSN,
		MaxOpenConns: cfg.Database.MaxOpenConns,
	})
}

// Serve runs the core until ctx is cancelled: it migrates the database,
// creates the first administrator on an empty database (printing its
// credentials to out, once), and serves the API on cfg.Listen.
func Serve(ctx context.Context, cfg *config.Config, log hclog.Logger, out io.Writer, version string) error {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory %s: %w", cfg.DataDir, err)
	}
	secret, err := jwtSecret(cfg)
	if err != nil {
		return err
	}

	s, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "driver", s.Driver(), "applied", applied)
	}

	accts := accounts.NewService(s)
	creds, err := accts.EnsureAdmin(ctx)
	if err != nil {
		return fmt.Errorf("create first administrator: %w", err)
	}
	if creds != nil {
		printCredentials(out, creds, cfg.PublicURL)
	}

	plugins, err := StartPlugins(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer plugins.Close()

	authn, err := auth.New(s, auth.Options{Secret: secret, AccessTTL: cfg.Auth.AccessTTL(), RefreshTTL: cfg.Auth.RefreshTTL()})
	if err != nil {
		return err
	}
	nodeSvc := nodes.NewService(s)
	gw := gateway.New(s, nodeSvc, log.Named("gateway"), gateway.Options{
		HeartbeatInterval: cfg.Gateway.HeartbeatEvery(), OfflineAfter: cfg.Gateway.OfflineAfterDuration(),
	})
	// Closed after the HTTP server: agent tunnels are hijacked connections
	// that http.Server.Shutdown neither closes nor waits for.
	defer gw.Close()
	srvs := servers.New(s, gw, log.Named("servers"), servers.Options{StopTimeout: cfg.Servers.StopTimeoutDuration()})
	// Transfers still running at shutdown roll back while the tunnels are
	// up: closed before the gateway below (and here on an early return).
	defer srvs.Close()
	hub := live.New(log.Named("live"), live.OptionsFrom(cfg.WebSocket))
	defer hub.Close()
	srvs.Observe(hub.OnChange)
	srvs.OnTransfer(func(e servers.TransferEvent) {
		typ := "transfer_progress"
		switch e.Stage {
		case servers.TransferCompleted:
			typ = "transfer_completed"
		case servers.TransferFailed:
			typ = "transfer_failed"
		}
		hub.Publish("", e.ServerID, typ, e)
		if e.Stage == servers.TransferCompleted {
			hub.Moved(e.ServerID)
		}
	})
	recorder := metrics.NewRecorder(s, log.Named("metrics"), metrics.Options{
		FlushInterval: cfg.Metrics.FlushEvery(), Retention: cfg.Metrics.RetentionDuration(),
	})
	backupSvc := backups.New(s, gw, srvs, hub, log.Named("backups"), backups.OptionsFrom(cfg.Backups, cfg.Servers.StopTimeoutDuration()))
	// Closed before the gateway: the backups under way are abandoned, and
	// recorded as failed while the store is open.
	defer backupSvc.Close()
	srvs.ReserveWith(backupSvc.Reserve)
	notifier, err := startNotifications(ctx, s, cfg, plugins, hub, log)
	if err != nil {
		return err
	}
	defer notifier.stop()
	srvs.Observe(notifier.alerts.OnChange)
	srvs.Observe(notifier.webhooks.OnChange)
	srvs.OnTransfer(notifier.alerts.OnTransfer)
	srvs.OnTransfer(notifier.webhooks.OnTransfer)
	backupSvc.OnOutcome(notifier.alerts.OnOutcome)
	backupSvc.OnOutcome(notifier.webhooks.OnOutcome)
	recorder.Watch(notifier.alerts.OnSamples)
	gw.SetHandler(gateway.Handlers{srvs, recorder, hub, backupSvc, notifier.alerts})
	schedSvc, err := startSchedules(ctx, s, cfg, plugins, srvs, backupSvc, log.Named("schedules"))
	if err != nil {
		return err
	}
	// Closed before the servers and backups: runs cut off record why.
	defer schedSvc.Close()
	auditRec := audit.NewRecorder(s, log.Named("audit"))
	sftpAuth, err := sftpauth.New(s, auditRec, log.Named("sftp"), sftpauth.OptionsFrom(cfg.SFTP))
	if err != nil {
		return err
	}
	// Requests agents send the core, on streams of their tunnel.
	remote := http.NewServeMux()
	remote.Handle("POST "+wire.CorePathSFTPAuth, sftpAuth)
	gw.SetRemote(remote)
	revoker := sftpauth.NewRevoker(s, gw, log.Named("sftp"))
	// Revocations still in flight at shutdown are cancelled: the tunnels
	// they would travel on are closing too.
	defer revoker.Close()
	srvs.Observe(revoker.OnChange)
	exporter := metrics.NewExporter(s, metrics.Sources{
		NodesConnected:   gw.OnlineCount,
		WebSocketClients: hub.Clients,
		ConsoleLines:     hub.ConsoleLines,
	}, log.Named("metrics"))
	// The recorder outlives ctx until stopRecorder, so that its last flush
	// comes after the gateway closed and no sample is left behind.
	recorderCtx, stopRecorder := context.WithCancel(context.WithoutCancel(ctx))
	recorderDone := make(chan struct{})
	go func() {
		defer close(recorderDone)
		recorder.Run(recorderCtx)
	}()
	defer func() {
		stopRecorder()
		<-recorderDone
	}()

	ui, err := web.NewHandler(web.Embedded())
	if err != nil {
		return err
	}
	if !ui.Built() {
		log.Warn("this core was built without its web UI; the panel's pages say how to build it (make web, then make core)")
	}
	handler, err := api.New(api.Deps{
		Store: s, Auth: authn, Accounts: accts, Audit: auditRec, Nodes: nodeSvc,
		Gateway: gw, Servers: srvs, Backups: backupSvc, Live: hub, Plugins: plugins, Metrics: recorder, Prometheus: exporter,
		Alerts: notifier.alerts, Webhooks: notifier.webhooks, Schedules: schedSvc,
		Config: cfg, Log: log.Named("api"), Version: version, SFTP: revoker, Web: ui,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("core listening", "address", "http://"+ln.Addr().String(), "database", s.Driver(), "version", version)

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", shutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	hub.Close()
	err = srv.Shutdown(shutdownCtx)
	schedSvc.Close()
	srvs.Close()
	backupSvc.Close()
	gw.Close()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func printCredentials(out io.Writer, c *accounts.Credentials, url string) {
	fmt.Fprintf(out, `
================================================================
  Catalyst first start: an administrator account was created.

    panel:    %s
    email:    %s
    password: %s

  This password is shown only this once. Log in and change it.
================================================================

`, url, c.Email, c.Password)
}

// StartPlugins launches every configured plugin and checks its config
// block against the schema it publishes. A block that does not fit is an
// error naming file:line:col, and nothing is left running.
//
// The default scheduler, schedule-cron, needs no block: it is launched
// from plugin_dir when schedules.scheduler names it and no block declares
// it.
func StartPlugins(ctx context.Context, cfg *config.Config, log hclog.Logger) (*host.Host, error) {
	specs := slices.Clone(cfg.PluginSpecs)
	if spec, ok := implicitScheduler(cfg, log); ok {
		specs = append(specs, spec)
	}
	h, err := host.Start(ctx, specs, cfg.SourceFiles(), host.WithLogger(log.Named("plugins")), host.WithPluginDir(cfg.PluginDir))
	if err != nil {
		return nil, err
	}
	if n := len(specs); n > 0 {
		log.Info("plugins started", "count", n)
	}
	return h, nil
}
