package s3store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"catalyst.dev/plugins/backup-s3/internal/s3test"
)

// s3serverBin is tools/s3server, built once by TestMain.
var s3serverBin string

func TestMain(m *testing.M) { os.Exit(buildAndRun(m)) }

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "s3store-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if s3serverBin, err = s3test.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

const mib = 1 << 20

// newStore configures a store for srv's bucket with overrides applied (as
// the SDK does: schema defaults first). Retries wait 1 ms, not 500.
func newStore(t testing.TB, endpoint string, overrides map[string]any) *Store {
	t.Helper()
	s := New(hclog.NewNullLogger())
	s.retryBase = time.Millisecond
	if err := configure(s, endpoint, overrides); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return s
}

func configure(s *Store, endpoint string, overrides map[string]any) error {
	cfg := (&s3test.Server{URL: endpoint}).Config()
	maps.Copy(cfg, overrides)
	for k, v := range cfg {
		if v == nil {
			delete(cfg, k)
		}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	schema, err := s.ConfigSchema(context.Background())
	if err != nil {
		return err
	}
	applied, err := schema.Apply(raw)
	if err != nil {
		return err
	}
	return s.Configure(context.Background(), applied)
}

// rawClient talks to the server directly, to look behind the store's back.
func rawClient(t testing.TB, endpoint string) minio.Core {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(s3test.AccessKey, s3test.SecretKey, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return minio.Core{Client: c}
}

// uploadsUnder lists the multipart uploads in progress under prefix.
func uploadsUnder(t testing.TB, c minio.Core, prefix string) []string {
	t.Helper()
	res, err := c.ListMultipartUploads(context.Background(), s3test.Bucket, prefix, "", "", "", 1000)
	if minio.ToErrorResponse(err).Code == "NoSuchUpload" {
		return nil // gofakes3's answer for a bucket that never had an upload
	}
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var out []string
	for _, u := range res.Uploads {
		out = append(out, u.Key+" "+u.UploadID)
	}
	return out
}

// objectsUnder lists the objects under prefix.
func objectsUnder(t testing.TB, c minio.Core, prefix string) []string {
	t.Helper()
	var out []string
	for o := range c.Client.ListObjects(context.Background(), s3test.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("ListObjects: %v", o.Err)
		}
		out = append(out, o.Key)
	}
	return out
}

// randomData is n reproducible bytes.
func randomData(seed uint64, n int) []byte {
	var s [32]byte
	s[0] = byte(seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// readBack fetches key through the store and checks it is want.
func readBack(t testing.TB, s *Store, key string, want []byte) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	if info.Size != int64(len(want)) || sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("%s: read back %d bytes (info says %d), want %d bytes, same content: %v",
			key, len(got), info.Size, len(want), bytes.Equal(got, want))
	}
}

// request describes one request the proxy saw, and its answer.
type request struct {
	kind    string // initiate, part, complete, abort, put, other
	part    int    // 0: not an UploadPart
	attempt int    // how many times this part (or this non-part key) was sent
	status  int
	code    string // S3 error code of the answer, if any
}

// faultProxy stands between the store and the S3 server. fault decides,
// per request, whether to interfere: it may answer itself (returning
// true), or change the request and let it through (returning false).
type faultProxy struct {
	*httptest.Server
	rp    *httputil.ReverseProxy
	fault func(w http.ResponseWriter, r *http.Request, part, attempt int) bool

	mu       sync.Mutex
	attempts map[string]int
	log      []request
}

func newFaultProxy(t testing.TB, target string, fault func(w http.ResponseWriter, r *http.Request, part, attempt int) bool) *faultProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{fault: fault, attempts: map[string]int{}}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	p.rp.ErrorLog = log.New(io.Discard, "", 0) // requests the store cancels are expected
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	part, _ := strconv.Atoi(r.URL.Query().Get("partNumber"))
	id := r.Method + " " + r.URL.Path + " " + r.URL.Query().Get("partNumber")
	// Logged on arrival, so a request the client gave up on still shows.
	p.mu.Lock()
	p.attempts[id]++
	attempt := p.attempts[id]
	i := len(p.log)
	p.log = append(p.log, request{kind: requestKind(r), part: part, attempt: attempt})
	p.mu.Unlock()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	if p.fault == nil || !p.fault(rec, r, part, attempt) {
		p.rp.ServeHTTP(rec, r)
	}
	p.mu.Lock()
	p.log[i].status, p.log[i].code = rec.status, rec.code()
	p.mu.Unlock()
}

// requests returns what the proxy saw so far.
func (p *faultProxy) requests() []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]request(nil), p.log...)
}

// recorder keeps the status and the start of the body of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.body.Len() < 4096 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// Hijack lets a fault drop the connection.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("not a hijacker")
	}
	r.status = 0 // no answer
	return h.Hijack()
}

func (r *recorder) code() string {
	var e struct{ Code string }
	if r.status >= 300 && xml.Unmarshal(r.body.Bytes(), &e) == nil {
		return e.Code
	}
	return ""
}

// s3Error answers like S3 does when it fails.
func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected by the test proxy</Message></Error>`, code)
}

// current is the store's configuration in use.
func (s *Store) current() *backend {
	b, _ := s.backend()
	return b
}

func requestKind(r *http.Request) string {
	q := r.URL.Query()
	_, uploads := q["uploads"]
	_, uploadID := q["uploadId"]
	switch {
	case r.Method == http.MethodPost && uploads:
		return "initiate"
	case r.Method == http.MethodPut && uploadID:
		return "part"
	case r.Method == http.MethodPost && uploadID:
		return "complete"
	case r.Method == http.MethodDelete && uploadID:
		return "abort"
	case r.Method == http.MethodPut:
		return "put"
	}
	return "other"
}

// kinds lists the kinds of requests, in order of arrival.
func kinds(reqs []request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.kind)
	}
	return out
}
