// Command s3server is a small S3-compatible server for Catalyst's tests and
// benchmarks only: the backup-s3 plugin's tests and the end-to-end suite
// start it as a process so they talk to a real S3 implementation
// (github.com/johannesboyne/gofakes3: multipart uploads with Content-MD5
// checks, ListMultipartUploads, AbortMultipartUpload) without internet.
// It is not a place for real data: it keeps no durable state without -dir,
// keeps multipart uploads in memory, and its authentication only exists so
// tests can see a wrong key refused.
//
//	s3server -addr 127.0.0.1:0 -bucket backups -access-key k -secret-key s
//
// Once it accepts connections it prints one line to stdout,
//
//	s3server listening on http://127.0.0.1:41234
//
// and it serves until SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	bolt "go.etcd.io/bbolt"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "s3server:", err)
		os.Exit(1)
	}
}

// bucketList is a flag that may be repeated and holds comma-separated names.
type bucketList []string

func (b *bucketList) String() string { return strings.Join(*b, ",") }

func (b *bucketList) Set(v string) error {
	for name := range strings.SplitSeq(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return errors.New("empty bucket name")
		}
		*b = append(*b, name)
	}
	return nil
}

type options struct {
	addr      string
	buckets   bucketList
	dir       string
	accessKey string
	secretKey string
	verbose   bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("s3server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "address to listen on (port 0 picks a free port)")
	fs.Var(&o.buckets, "bucket", "bucket to create at start; repeatable or comma-separated")
	fs.StringVar(&o.dir, "dir", "", "keep objects in a bolt database in this directory (default: in memory)")
	fs.StringVar(&o.accessKey, "access-key", "", "accept only requests signed with this access key (SigV4)")
	fs.StringVar(&o.secretKey, "secret-key", "", "the secret of -access-key")
	fs.BoolVar(&o.verbose, "v", false, "log every request to stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if (o.accessKey == "") != (o.secretKey == "") {
		return o, errors.New("-access-key and -secret-key go together")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	backend, closeBackend, err := openBackend(o.dir)
	if err != nil {
		return err
	}
	defer closeBackend()
	for _, b := range o.buckets {
		if err := backend.CreateBucket(b); err != nil && !gofakes3.IsAlreadyExists(err) {
			return fmt.Errorf("create bucket %q: %w", b, err)
		}
	}

	logger := gofakes3.DiscardLog()
	if o.verbose {
		logger = gofakes3.StdLog(log.New(stderr, "s3server: ", log.LstdFlags))
	}
	faker := gofakes3.New(backend, gofakes3.WithLogger(logger))
	var handler = faker.Server()
	if o.accessKey != "" {
		handler = requireSignature(o.accessKey, o.secretKey, handler)
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// The listener accepts connections from here on: tests wait for this line.
	fmt.Fprintf(stdout, "s3server listening on http://%s\n", ln.Addr())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// openBackend returns gofakes3's memory backend, or its bolt backend in dir.
func openBackend(dir string) (gofakes3.Backend, func(), error) {
	if dir == "" {
		return s3mem.New(), func() {}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("-dir: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, "s3server.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, nil, fmt.Errorf("-dir: open bolt database: %w", err)
	}
	return s3bolt.New(db), func() { _ = db.Close() }, nil
}
