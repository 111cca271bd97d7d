package containerd_test

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"

	"catalyst.dev/agent/internal/runtime"
	"catalyst.dev/agent/internal/runtime/containerd"
	"catalyst.dev/agent/internal/runtime/network"
	"catalyst.dev/agent/testkit/testimage"
)

// BenchmarkStart measures a server start, from Create to the banner on the
// console, against the bare containerd client path for the same image
// (NewContainer + NewTask + Start, no network, limits, volume or FIFOs of
// our own): the baseline.
func BenchmarkStart(b *testing.B) {
	e := setup(b)
	ctx := context.Background()

	catalyst := func(rt *containerd.Runtime, withPort bool) func(b *testing.B) {
		return func(b *testing.B) {
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				spec := runtime.Spec{
					ID:     "b-" + randomHex(6),
					Image:  e.img.Ref,
					Volume: filepath.Join(e.dir, "bench", fmt.Sprint(i)),
					Limits: runtime.Limits{MemoryBytes: 512 << 20, CPUPercent: 100, Pids: 256},
				}
				if withPort {
					port := freePort(b)
					spec.Env = []string{fmt.Sprintf("SERVER_PORT=%d", port)}
					spec.Ports = []runtime.Port{{Port: port, Protocol: "tcp"}, {Port: port, Protocol: "udp"}}
				}
				out := &output{}
				b.StartTimer()
				if err := rt.Create(ctx, spec); err != nil {
					b.Fatal(err)
				}
				if err := rt.Start(ctx, spec.ID); err != nil {
					b.Fatal(err)
				}
				w, err := rt.Attach(ctx, spec.ID, out)
				if err != nil {
					b.Fatal(err)
				}
				out.waitFor(b, testimage.BannerDone)
				b.StopTimer()
				w.Close()
				if err := rt.Delete(ctx, spec.ID); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("catalyst", catalyst(e.rt, true))

	hostnet, err := e.runtime(ctx, containerd.WithNetwork(network.Host{}))
	if err != nil {
		b.Fatal(err)
	}
	defer hostnet.Close()
	b.Run("catalyst-hostnet", catalyst(hostnet, false))

	b.Run("baseline-containerd-client", func(b *testing.B) {
		cl := e.rt.Client()
		nctx := namespaces.WithNamespace(ctx, e.rt.Namespace())
		img, err := cl.GetImage(nctx, e.img.Ref)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for i := 0; i < b.N; i++ {
			id := "b-" + randomHex(6)
			out := &output{}
			b.StartTimer()
			ctr, err := cl.NewContainer(nctx, id,
				client.WithImage(img),
				client.WithNewSnapshot(id, img),
				client.WithNewSpec(oci.WithImageConfig(img)),
			)
			if err != nil {
				b.Fatal(err)
			}
			task, err := ctr.NewTask(nctx, cio.NewCreator(cio.WithStreams(nil, out, out), cio.WithFIFODir(filepath.Join(e.dir, "fifo"))))
			if err != nil {
				b.Fatal(err)
			}
			if err := task.Start(nctx); err != nil {
				b.Fatal(err)
			}
			out.waitFor(b, testimage.BannerDone)
			b.StopTimer()
			exited, err := task.Wait(nctx)
			if err != nil {
				b.Fatal(err)
			}
			if err := task.Kill(nctx, syscall.SIGKILL); err != nil {
				b.Fatal(err)
			}
			<-exited
			if _, err := task.Delete(nctx); err != nil {
				b.Fatal(err)
			}
			if err := ctr.Delete(nctx, client.WithSnapshotCleanup); err != nil {
				b.Fatal(err)
			}
		}
	})
}
