package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/minio/minio-go/v7"

	"catalyst.dev/plugins/backup-s3/internal/s3test"
	"catalyst.dev/sdk/plugin"
)

// Objects in these tests are a few 5 MiB parts (S3's minimum) long.
var smallParts = map[string]any{"part_size_mb": 5, "concurrency": 2}

func TestPartRetriedAfterAFailedAttempt(t *testing.T) {
	srv := s3test.Start(t, s3serverBin)
	faults := []struct {
		name  string
		fault func(w http.ResponseWriter, r *http.Request)
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			s3Error(w, http.StatusServiceUnavailable, "SlowDown")
		}},
		{"connection dropped midway", func(w http.ResponseWriter, r *http.Request) {
			io.CopyN(io.Discard, r.Body, 1*mib)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
	}
	for i, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			proxy := newFaultProxy(t, srv.URL, func(w http.ResponseWriter, r *http.Request, part, attempt int) bool {
				if part == 2 && attempt == 1 {
					f.fault(w, r)
					return true
				}
				return false
			})
			s := newStore(t, proxy.URL, smallParts)
			key := fmt.Sprintf("retry/%d", i)
			data := randomData(uint64(i), 3*5*mib+1234)
			if err := s.Put(context.Background(), key, bytes.NewReader(data), nil); err != nil {
				t.Fatalf("Put: %v", err)
			}
			readBack(t, s, key, data)
			var part2 []request
			for _, r := range proxy.requests() {
				if r.part == 2 {
					part2 = append(part2, r)
				}
			}
			if len(part2) != 2 || part2[1].status != http.StatusOK {
				t.Fatalf("part 2 was sent %d times (%+v), want a failed attempt and a good one", len(part2), part2)
			}
			if up := uploadsUnder(t, rawClient(t, srv.URL), "retry/"); len(up) != 0 {
				t.Fatalf("uploads left: %v", up)
			}
		})
	}
}

// corruptFirst flips a byte in the body of the first attempt of one
// request, leaving its Content-MD5 as the store computed it.
func corruptFirst(match func(r *http.Request, part int) bool) func(w http.ResponseWriter, r *http.Request, part, attempt int) bool {
	return func(w http.ResponseWriter, r *http.Request, part, attempt int) bool {
		if attempt != 1 || !match(r, part) {
			return false
		}
		body, err := io.ReadAll(r.Body)
		if err != nil || len(body) == 0 {
			return false
		}
		body[len(body)/2] ^= 0xff
		r.Body = io.NopCloser(bytes.NewReader(body))
		return false
	}
}

func TestDamagedBodyRefusedByTheServerAndResent(t *testing.T) {
	srv := s3test.Start(t, s3serverBin)
	tests := []struct {
		name  string
		size  int
		match func(r *http.Request, part int) bool
		// which request the server must have refused
		refused func(r request) bool
	}{
		{"multipart part", 3*5*mib + 1,
			func(r *http.Request, part int) bool { return part == 2 },
			func(r request) bool { return r.kind == "part" && r.part == 2 && r.attempt == 1 }},
		{"single PUT", 1 * mib,
			func(r *http.Request, part int) bool { return r.Method == http.MethodPut && part == 0 },
			func(r request) bool { return r.kind == "put" && r.attempt == 1 }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := newFaultProxy(t, srv.URL, corruptFirst(tt.match))
			s := newStore(t, proxy.URL, smallParts)
			key := fmt.Sprintf("corrupt/%d", i)
			data := randomData(uint64(10+i), tt.size)
			if err := s.Put(context.Background(), key, bytes.NewReader(data), nil); err != nil {
				t.Fatalf("Put: %v", err)
			}
			// The server, not the store, caught the damage: it answered
			// the damaged request with BadDigest (Content-MD5 mismatch).
			reqs := proxy.requests()
			i := slices.IndexFunc(reqs, tt.refused)
			if i < 0 || reqs[i].status != http.StatusBadRequest || reqs[i].code != "BadDigest" {
				t.Fatalf("want the damaged request refused with 400 BadDigest; requests: %+v", reqs)
			}
			readBack(t, s, key, data)
		})
	}
}

func TestContentMD5IsWhatTheServerChecks(t *testing.T) {
	// Without the store in the way: a part whose Content-MD5 does not
	// match its body is refused, one whose does is taken.
	srv := s3test.Start(t, s3serverBin)
	c := rawClient(t, srv.URL)
	ctx := context.Background()
	id, err := c.NewMultipartUpload(ctx, s3test.Bucket, "md5/check", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.AbortMultipartUpload(ctx, s3test.Bucket, "md5/check", id)
	body := []byte("part body")
	opts := minio.PutObjectPartOptions{Md5Base64: contentMD5([]byte("another body")), DisableContentSha256: true}
	_, err = c.PutObjectPart(ctx, s3test.Bucket, "md5/check", id, 1, onlyReader{bytes.NewReader(body)}, int64(len(body)), opts)
	if code := minio.ToErrorResponse(err).Code; code != "BadDigest" {
		t.Fatalf("a part with a wrong Content-MD5: want BadDigest, got %v", err)
	}
	opts.Md5Base64 = contentMD5(body)
	if _, err := c.PutObjectPart(ctx, s3test.Bucket, "md5/check", id, 1, onlyReader{bytes.NewReader(body)}, int64(len(body)), opts); err != nil {
		t.Fatalf("a part with the right Content-MD5: %v", err)
	}
}

func TestFailedPutLeavesNoUploadAndNoObject(t *testing.T) {
	srv := s3test.Start(t, s3serverBin)
	raw := rawClient(t, srv.URL)
	boom := errors.New("disk read error")
	tests := []struct {
		name string
		// put runs a Put that must fail, through a proxy in front of the server.
		put   func(t *testing.T, s *Store, key string) error
		fault func(w http.ResponseWriter, r *http.Request, part, attempt int) bool
		check func(t *testing.T, err error)
	}{
		{
			name: "source fails midway",
			put: func(t *testing.T, s *Store, key string) error {
				src := io.MultiReader(bytes.NewReader(randomData(1, 12*mib)), iotest.ErrReader(boom))
				return s.Put(context.Background(), key, src, nil)
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, boom) {
					t.Fatalf("Put = %v, want the source's error", err)
				}
			},
		},
		{
			name: "context cancelled midway",
			put: func(t *testing.T, s *Store, key string) error {
				ctx, cancel := context.WithCancel(context.Background())
				src := &cancelAfter{r: bytes.NewReader(randomData(2, 30*mib)), n: 12 * mib, cancel: cancel}
				return s.Put(ctx, key, src, nil)
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Put = %v, want context.Canceled", err)
				}
			},
		},
		{
			name: "a part out of retries",
			put: func(t *testing.T, s *Store, key string) error {
				return s.Put(context.Background(), key, bytes.NewReader(randomData(3, 4*5*mib)), nil)
			},
			fault: func(w http.ResponseWriter, r *http.Request, part, attempt int) bool {
				if part != 3 {
					return false
				}
				io.Copy(io.Discard, r.Body)
				s3Error(w, http.StatusInternalServerError, "InternalError")
				return true
			},
			check: func(t *testing.T, err error) {
				msg := fmt.Sprint(err)
				if !errors.Is(err, plugin.ErrUnavailable) || !strings.Contains(msg, "part 3") || !strings.Contains(msg, "gave up after 3 attempts") {
					t.Fatalf("Put = %v, want part 3 given up after 3 attempts, ErrUnavailable", err)
				}
			},
		},
		{
			name: "a part refused for good",
			put: func(t *testing.T, s *Store, key string) error {
				return s.Put(context.Background(), key, bytes.NewReader(randomData(4, 3*5*mib)), nil)
			},
			fault: func(w http.ResponseWriter, r *http.Request, part, attempt int) bool {
				if part != 2 {
					return false
				}
				io.Copy(io.Discard, r.Body)
				s3Error(w, http.StatusForbidden, "AccessDenied")
				return true
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, plugin.ErrPermissionDenied) || strings.Contains(err.Error(), "attempts") {
					t.Fatalf("Put = %v, want ErrPermissionDenied without retries", err)
				}
			},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := newFaultProxy(t, srv.URL, tt.fault)
			s := newStore(t, proxy.URL, map[string]any{"part_size_mb": 5, "concurrency": 2, "part_retries": 2})
			key := fmt.Sprintf("failed/%d", i)
			err := tt.put(t, s, key)
			if err == nil {
				t.Fatal("Put reported success")
			}
			tt.check(t, err)
			if up := uploadsUnder(t, raw, key); len(up) != 0 {
				t.Fatalf("the failed Put left multipart uploads: %v", up)
			}
			if objs := objectsUnder(t, raw, key); len(objs) != 0 {
				t.Fatalf("the failed Put left objects: %v", objs)
			}
			if _, err := s.Stat(context.Background(), key); !errors.Is(err, plugin.ErrNotFound) {
				t.Fatalf("Stat: want ErrNotFound, got %v", err)
			}
			// A multipart upload was begun, and the store aborted it.
			k := kinds(proxy.requests())
			if !slices.Contains(k, "initiate") || !slices.Contains(k, "abort") || slices.Contains(k, "complete") {
				t.Fatalf("requests %v: want an initiated upload aborted, never completed", k)
			}
		})
	}
}

// cancelAfter cancels its context once n bytes have been read, and from
// then on reads as the SDK's stream does: the error of the cancelled call.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
		return 0, context.Canceled
	}
	p = p[:min(len(p), c.n)]
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func TestAbortStaleUploads(t *testing.T) {
	srv := s3test.Start(t, s3serverBin)
	raw := rawClient(t, srv.URL)
	ctx := context.Background()
	start := func(key string) {
		t.Helper()
		id, err := raw.NewMultipartUpload(ctx, s3test.Bucket, key, minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		body := []byte("a part of a killed agent's upload")
		opts := minio.PutObjectPartOptions{Md5Base64: contentMD5(body), DisableContentSha256: true}
		if _, err := raw.PutObjectPart(ctx, s3test.Bucket, key, id, 1, onlyReader{bytes.NewReader(body)}, int64(len(body)), opts); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"node-1/a", "node-1/b", "node-1/c", "node-2/d"} {
		start(k)
	}
	keys := func(prefix string) []string {
		var out []string
		for _, u := range uploadsUnder(t, raw, prefix) {
			out = append(out, strings.Fields(u)[0])
		}
		return out
	}

	configureAt := func(now time.Time, after string) {
		t.Helper()
		s := New(hclog.NewNullLogger())
		s.now = func() time.Time { return now }
		s.listPage = 2 // three uploads under node-1/: two pages
		if err := configure(s, srv.URL, map[string]any{"prefix": "node-1/", "abort_stale_uploads_after": after}); err != nil {
			t.Fatal(err)
		}
	}
	// Just started: not stale by the default 24h.
	configureAt(time.Now(), "24h")
	if got := keys(""); len(got) != 4 {
		t.Fatalf("fresh uploads were aborted: %v remain", got)
	}
	// "0" turns the cleanup off, however old.
	configureAt(time.Now().Add(100*24*time.Hour), "0")
	if got := keys(""); len(got) != 4 {
		t.Fatalf("abort_stale_uploads_after=0 aborted uploads: %v remain", got)
	}
	// A day and an hour later, the prefix's uploads are stale; another
	// node's prefix is none of this store's business.
	configureAt(time.Now().Add(25*time.Hour), "24h")
	if got := keys(""); !slices.Equal(got, []string{"node-2/d"}) {
		t.Fatalf("after the cleanup %v remain, want only node-2/d", got)
	}
}

func TestPartBuffersBounded(t *testing.T) {
	srv := s3test.Start(t, s3serverBin)
	const concurrency = 2
	var store atomic.Pointer[Store] // set once configured; the proxy reads it
	// Hold parts 1 and 2 at the proxy until the store has read part 3:
	// proof that parts upload in parallel while the next is read, and the
	// moment the pool holds the most buffers it ever may.
	var (
		mu      sync.Mutex
		waiting int
		release = make(chan struct{})
		once    sync.Once
	)
	proxy := newFaultProxy(t, srv.URL, func(w http.ResponseWriter, r *http.Request, part, attempt int) bool {
		if part != 1 && part != 2 {
			return false
		}
		mu.Lock()
		waiting++
		mu.Unlock()
		deadline := time.After(20 * time.Second)
		for {
			mu.Lock()
			n := waiting
			mu.Unlock()
			inUse, _, _ := store.Load().current().pool.stats()
			if n == 2 && inUse == concurrency+1 {
				once.Do(func() { close(release) })
			}
			select {
			case <-release:
				return false
			case <-deadline:
				t.Errorf("parts 1 and 2 were never in flight together with part 3 read (%d at the proxy, %d buffers out)", n, inUse)
				once.Do(func() { close(release) })
				return false
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	s := newStore(t, proxy.URL, map[string]any{"part_size_mb": 5, "concurrency": concurrency})
	store.Store(s)
	data := randomData(5, 8*5*mib+1) // nine parts
	if err := s.Put(context.Background(), "memory/obj", bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	inUse, peak, allocs := s.current().pool.stats()
	if peak != concurrency+1 || allocs > concurrency+1 || inUse != 0 {
		t.Fatalf("part buffers: at most %d out at once, %d allocated, %d still out; want %d, ≤ %d, 0",
			peak, allocs, inUse, concurrency+1, concurrency+1)
	}
	parts := 0
	for _, r := range proxy.requests() {
		if r.part > 0 {
			parts++
		}
	}
	if parts != 9 {
		t.Fatalf("%d parts sent, want 9", parts)
	}
	readBack(t, s, "memory/obj", data)
}
