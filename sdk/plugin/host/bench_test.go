package host_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"catalyst.dev/sdk/internal/testplugins/dirstore"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/plugin/host"
)

// The benchmarks compare a real plugin subprocess (go-plugin, gRPC over a
// unix socket with mTLS, 1 MiB chunks) with the same implementation called
// in-process, where Put and Get are an io.Copy between the caller and the
// store's files. `make bench` prints each "plugin" figure beside the
// baseline of the same run, as a ratio.
//
//	go test -run '^$' -bench . -benchtime 20x ./plugin/host

const benchObject = 64 << 20

func benchData() []byte {
	b := make([]byte, benchObject)
	rng := rand.NewChaCha8([32]byte{42})
	_, _ = rng.Read(b)
	return b
}

// benchStores returns the plugin-backed store and an in-process store of
// the same kind, each on its own temp directory.
func benchStores(b *testing.B) (plugged, inproc plugin.BackupStore) {
	b.Helper()
	h, err := host.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close() })
	spec := host.Spec{Name: "bench", Path: testPlugin, ConfigJSON: []byte(fmt.Sprintf(`{"dir": %q}`, b.TempDir()))}
	if err := h.Load(context.Background(), []host.Spec{spec}); err != nil {
		b.Fatal(err)
	}
	if plugged, err = h.BackupStore("bench"); err != nil {
		b.Fatal(err)
	}
	local := &dirstore.Store{}
	if err := local.Configure(context.Background(), []byte(fmt.Sprintf(`{"dir": %q}`, b.TempDir()))); err != nil {
		b.Fatal(err)
	}
	return plugged, local
}

// benchObjects runs op, which moves one benchObject, on the in-process
// store (the baseline) and through the plugin.
func benchObjects(b *testing.B, plugged, inproc plugin.BackupStore, op func(plugin.BackupStore) error) {
	for _, c := range []struct {
		name  string
		store plugin.BackupStore
	}{{"baseline-iocopy", inproc}, {"plugin", plugged}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(benchObject)
			for b.Loop() {
				if err := op(c.store); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBackupPut(b *testing.B) {
	data := benchData()
	plugged, inproc := benchStores(b)
	benchObjects(b, plugged, inproc, func(s plugin.BackupStore) error {
		return s.Put(context.Background(), "bench/object", bytes.NewReader(data), nil)
	})
}

func BenchmarkBackupGet(b *testing.B) {
	data := benchData()
	plugged, inproc := benchStores(b)
	ctx := context.Background()
	for _, s := range []plugin.BackupStore{plugged, inproc} {
		if err := s.Put(ctx, "bench/object", bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
	}
	benchObjects(b, plugged, inproc, func(s plugin.BackupStore) error {
		rc, _, err := s.Get(ctx, "bench/object")
		if err != nil {
			return err
		}
		defer rc.Close()
		n, err := io.Copy(io.Discard, rc)
		if err == nil && n != benchObject {
			err = fmt.Errorf("read %d bytes", n)
		}
		return err
	})
}

// BenchmarkAlertDeliver measures deliveries per second to a sink that
// accepts everything, through the plugin and (baseline) in-process.
func BenchmarkAlertDeliver(b *testing.B) {
	h, err := host.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close() })
	spec := host.Spec{Name: "sink", Path: testPlugin, ConfigJSON: []byte(`{"channel": "bench"}`),
		Env: []string{"CATALYST_TESTPLUGIN_KIND=alert_sink"}}
	if err := h.Load(context.Background(), []host.Spec{spec}); err != nil {
		b.Fatal(err)
	}
	plugged, err := h.AlertSink("sink")
	if err != nil {
		b.Fatal(err)
	}
	inproc := &dirstore.Sink{}
	ctx := context.Background()
	alert := plugin.Alert{ID: "bench", Severity: plugin.SeverityWarning, Title: "Node offline",
		Body: "node-eu-1 missed 3 heartbeats", NodeID: "node-eu-1", OccurredAt: time.Now()}
	perSecond := func(b *testing.B) float64 { return float64(b.N) / b.Elapsed().Seconds() }

	b.Run("baseline-inprocess", func(b *testing.B) {
		for b.Loop() {
			if err := inproc.Deliver(ctx, alert); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(perSecond(b), "deliveries/s")
	})
	b.Run("plugin", func(b *testing.B) {
		for b.Loop() {
			if err := plugged.Deliver(ctx, alert); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(perSecond(b), "deliveries/s")
	})
	b.Run("plugin-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := plugged.Deliver(ctx, alert); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(perSecond(b), "deliveries/s")
	})
}
