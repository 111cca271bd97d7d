package s3store

import (
	"bytes"
	"context"
	"testing"

	"github.com/minio/minio-go/v7"

	"catalyst.dev/plugins/backup-s3/internal/s3test"
)

// BenchmarkPut measures what streaming through multipart uploads with a
// Content-MD5 on every part costs against one plain PUT of the same bytes
// to the same server (tools/s3server, in memory on this machine).
func BenchmarkPut(b *testing.B) {
	srv := s3test.Start(b, s3serverBin)
	const size = 64 << 20
	data := randomData(1, size)
	ctx := context.Background()
	stores := []struct {
		name string
		cfg  map[string]any
	}{
		{"multipart", nil}, // the defaults: 16 MiB parts, 4 in flight
		{"multipart-serial", map[string]any{"concurrency": 1}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			s := newStore(b, srv.URL, st.cfg)
			b.SetBytes(size)
			for b.Loop() {
				if err := s.Put(ctx, "bench/"+st.name, bytes.NewReader(data), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("baseline-putobject", func(b *testing.B) {
		c := rawClient(b, srv.URL)
		opts := minio.PutObjectOptions{DisableContentSha256: true}
		b.SetBytes(size)
		for b.Loop() {
			if _, err := c.PutObject(ctx, s3test.Bucket, "bench/single", onlyReader{bytes.NewReader(data)}, size, "", "", opts); err != nil {
				b.Fatal(err)
			}
		}
	})
}
