// Package s3store is the backup-s3 plugin's store: backup objects in a
// bucket of any S3-compatible service. Put streams through multipart
// uploads with parts in flight in parallel, in memory bounded by
// part_size × (concurrency + 1), each part checked by the server
// (Content-MD5) and retried on its own; a failed Put aborts its upload so
// no object and no orphan parts remain.
package s3store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"catalyst.dev/sdk/plugin"
)

// Version is reported by Info.
const Version = "1.0.0"

// S3's multipart limits.
const (
	minPartMB = 5
	maxPartMB = 5120
	maxParts  = 10000
)

// Bounds on the tuning knobs, generous but finite: a typo of 4000 for
// concurrency must not try to hold 4000 parts in memory.
const (
	maxConcurrency = 64
	maxRetries     = 20
)

// configureTimeout bounds the checks Configure makes against the server,
// so a black-holed endpoint fails the launch instead of hanging it.
const configureTimeout = 30 * time.Second

// Store is a plugin.BackupStore on S3.
type Store struct {
	log hclog.Logger
	// now is the clock stale uploads are judged by.
	now func() time.Time
	// retryBase is the first retry's delay; each further retry doubles it.
	retryBase time.Duration
	// listPage is how many keys or uploads one list request asks for.
	listPage int

	mu sync.RWMutex
	b  *backend // nil until Configure; replaced whole by each Configure
}

var _ plugin.BackupStore = (*Store)(nil)

// New returns an unconfigured store that logs to log.
func New(log hclog.Logger) *Store {
	return &Store{log: log, now: time.Now, retryBase: 500 * time.Millisecond, listPage: 1000}
}

// backend is one configuration's client and settings. Calls take the
// current one at their start, so a Configure never changes a Put midway.
type backend struct {
	client      minio.Core
	bucket      string
	endpoint    string // as shown in error messages
	prefix      string
	partSize    int
	concurrency int
	retries     int
	pool        *partPool
}

type config struct {
	Bucket                 string  `json:"bucket"`
	Endpoint               string  `json:"endpoint"`
	Region                 string  `json:"region"`
	AccessKey              string  `json:"access_key"`
	SecretKey              string  `json:"secret_key"`
	SessionToken           string  `json:"session_token"`
	PathStyle              bool    `json:"path_style"`
	Prefix                 string  `json:"prefix"`
	PartSizeMB             float64 `json:"part_size_mb"`
	Concurrency            float64 `json:"concurrency"`
	PartRetries            float64 `json:"part_retries"`
	InsecureSkipVerify     bool    `json:"insecure_skip_verify"`
	CAFile                 string  `json:"ca_file"`
	AbortStaleUploadsAfter string  `json:"abort_stale_uploads_after"`
}

func (s *Store) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "backup-s3", Kind: plugin.KindBackupStore, Version: Version}, nil
}

func (s *Store) ConfigSchema(context.Context) (plugin.Schema, error) {
	return plugin.Schema{Fields: []plugin.Field{
		{Name: "bucket", Type: plugin.TypeString, Required: true,
			Description: "Bucket the backups are stored in. It must exist; the plugin never creates it."},
		{Name: "endpoint", Type: plugin.TypeString, Default: "",
			Description: "URL of the S3-compatible service, e.g. \"http://127.0.0.1:9000\" or \"https://s3.example.com\". Empty means AWS S3."},
		{Name: "region", Type: plugin.TypeString, Default: "us-east-1",
			Description: "Region requests are signed for; on AWS, the bucket's region."},
		{Name: "access_key", Type: plugin.TypeString, Default: "",
			Description: "Access key ID. Empty: taken from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the EC2 instance role."},
		{Name: "secret_key", Type: plugin.TypeString, Default: "", Sensitive: true,
			Description: "Secret access key belonging to access_key."},
		{Name: "session_token", Type: plugin.TypeString, Default: "", Sensitive: true,
			Description: "Session token for temporary credentials (STS); empty for long-lived keys."},
		{Name: "path_style", Type: plugin.TypeBool, Default: false,
			Description: "Address the bucket as endpoint/bucket instead of bucket.endpoint. Most self-hosted stores (MinIO, Garage, Ceph without wildcard DNS) need true."},
		{Name: "prefix", Type: plugin.TypeString, Default: "",
			Description: "Prepended to every key, e.g. \"catalyst/node-1/\" to share a bucket; usually ends with \"/\"."},
		{Name: "part_size_mb", Type: plugin.TypeNumber, Default: 16,
			Description: "Size of each multipart upload part in MiB (5 to 5120). Objects up to 10000 parts: 16 MiB allows 156 GiB."},
		{Name: "concurrency", Type: plugin.TypeNumber, Default: 4,
			Description: "Parts uploaded in parallel per backup (1 to 64). Memory use is part_size_mb × (concurrency + 1)."},
		{Name: "part_retries", Type: plugin.TypeNumber, Default: 3,
			Description: "Times a failed part (network error, server error, checksum mismatch) is sent again, with backoff, before the backup fails (0 to 20)."},
		{Name: "insecure_skip_verify", Type: plugin.TypeBool, Default: false,
			Description: "Accept any TLS certificate. For testing only: it lets anyone in the path read and alter backups."},
		{Name: "ca_file", Type: plugin.TypeString, Default: "",
			Description: "PEM file of CA certificates to trust, in addition to the system's, for a store with a private CA."},
		{Name: "abort_stale_uploads_after", Type: plugin.TypeString, Default: "24h",
			Description: "When the plugin is configured, abort multipart uploads under prefix older than this (a Go duration), left by a killed agent. \"0\" turns it off."},
	}}, nil
}

// Configure checks the configuration, connects and checks that the bucket
// is there, then aborts stale multipart uploads under the prefix.
func (s *Store) Configure(ctx context.Context, raw plugin.Config) error {
	var c config
	if err := raw.Decode(&c); err != nil {
		return fmt.Errorf("%w: %w", err, plugin.ErrInvalidArgument)
	}
	b, staleAfter, err := s.newBackend(c)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, configureTimeout)
	defer cancel()
	if err := b.checkBucket(ctx); err != nil {
		return err
	}
	if staleAfter > 0 {
		n, err := s.abortStale(ctx, b, staleAfter)
		switch {
		case err != nil:
			// Not fatal: backups still work; the lifecycle rule (README)
			// is the safety net, and the next start tries again.
			s.log.Warn("could not abort stale multipart uploads (needs s3:ListBucketMultipartUploads and s3:AbortMultipartUpload)", "bucket", b.bucket, "prefix", b.prefix, "error", err)
		case n > 0:
			s.log.Info("aborted stale multipart uploads", "bucket", b.bucket, "prefix", b.prefix, "uploads", n, "older_than", staleAfter)
		}
	}
	s.mu.Lock()
	s.b = b
	s.mu.Unlock()
	return nil
}

func (s *Store) newBackend(c config) (*backend, time.Duration, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format+": %w", append(args, plugin.ErrInvalidArgument)...)
	}
	if strings.TrimSpace(c.Bucket) == "" {
		return nil, 0, bad("bucket is empty")
	}
	partMB, err := wholeNumber("part_size_mb", c.PartSizeMB, minPartMB, maxPartMB)
	if err != nil {
		return nil, 0, err
	}
	conc, err := wholeNumber("concurrency", c.Concurrency, 1, maxConcurrency)
	if err != nil {
		return nil, 0, err
	}
	retries, err := wholeNumber("part_retries", c.PartRetries, 0, maxRetries)
	if err != nil {
		return nil, 0, err
	}
	staleAfter, err := time.ParseDuration(c.AbortStaleUploadsAfter)
	if err != nil || staleAfter < 0 {
		return nil, 0, bad("abort_stale_uploads_after %q is not a duration such as \"24h\" (or \"0\" for never)", c.AbortStaleUploadsAfter)
	}
	if c.Prefix != "" {
		if len(c.Prefix) > maxPrefixLen {
			return nil, 0, bad("prefix is %d bytes long, the limit is %d", len(c.Prefix), maxPrefixLen)
		}
		if err := checkPrefix(c.Prefix); err != nil {
			return nil, 0, fmt.Errorf("prefix: %w", err)
		}
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return nil, 0, bad("access_key and secret_key go together: set both, or neither to use the environment or instance role")
	}
	if c.SessionToken != "" && c.AccessKey == "" {
		return nil, 0, bad("session_token needs access_key and secret_key")
	}

	host, secure, shown := "s3.amazonaws.com", true, "AWS S3"
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, 0, bad("endpoint %q is not a URL such as \"https://s3.example.com\" or \"http://127.0.0.1:9000\"", c.Endpoint)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, 0, bad("endpoint %q: only scheme, host and port are allowed (no path, query or user)", c.Endpoint)
		}
		host, secure, shown = u.Host, u.Scheme == "https", u.Scheme+"://"+u.Host
	}
	if !secure && (c.CAFile != "" || c.InsecureSkipVerify) {
		return nil, 0, bad("ca_file and insecure_skip_verify only apply to an https endpoint")
	}

	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, 0, fmt.Errorf("http transport: %w", err)
	}
	if secure {
		tlsCfg, err := tlsConfig(c.CAFile, c.InsecureSkipVerify)
		if err != nil {
			return nil, 0, err
		}
		tr.TLSClientConfig = tlsCfg
	}
	var creds *credentials.Credentials
	if c.AccessKey != "" {
		creds = credentials.NewStaticV4(c.AccessKey, c.SecretKey, c.SessionToken)
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.IAM{Client: &http.Client{Transport: tr}},
		})
	}
	lookup := minio.BucketLookupAuto
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Transport:    tr,
		Region:       c.Region,
		BucketLookup: lookup,
		// Part uploads retry on their own terms (see sendPart); this is
		// for everything else.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, 0, bad("endpoint %q: %v", c.Endpoint, err)
	}
	partSize := partMB << 20
	return &backend{
		client:      minio.Core{Client: client},
		bucket:      c.Bucket,
		endpoint:    shown,
		prefix:      c.Prefix,
		partSize:    partSize,
		concurrency: conc,
		retries:     retries,
		pool:        newPartPool(partSize),
	}, staleAfter, nil
}

// wholeNumber checks a number key (JSON gives float64) against its range.
func wholeNumber(name string, v float64, lo, hi int) (int, error) {
	if v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
		return 0, fmt.Errorf("%s is %v; want a whole number from %d to %d: %w", name, v, lo, hi, plugin.ErrInvalidArgument)
	}
	return int(v), nil
}

func tlsConfig(caFile string, skipVerify bool) (*tls.Config, error) {
	// InsecureSkipVerify is opt-in and documented as for testing only.
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: skipVerify}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w: %w", err, plugin.ErrInvalidArgument)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %q holds no PEM certificate: %w", caFile, plugin.ErrInvalidArgument)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// checkBucket makes sure the bucket is there and the credentials work,
// naming the problem if not.
func (b *backend) checkBucket(ctx context.Context) error {
	ok, err := b.client.BucketExists(ctx, b.bucket)
	if err == nil && !ok {
		return fmt.Errorf("s3: bucket %q at %s does not exist (check bucket, region and endpoint; the plugin does not create buckets): %w", b.bucket, b.endpoint, plugin.ErrInvalidArgument)
	}
	if err != nil && minio.ToErrorResponse(err).StatusCode == http.StatusForbidden {
		// A HEAD answer has no body to say why; a one-key listing does
		// (wrong key, wrong secret, or a policy).
		if lerr := b.listOne(ctx); lerr != nil && minio.ToErrorResponse(lerr).Code != "" {
			err = lerr
		}
	}
	if err != nil {
		return b.explain(err)
	}
	return nil
}

func (b *backend) listOne(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range b.client.Client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: b.prefix, MaxKeys: 1}) {
		return obj.Err
	}
	return nil
}

// abortStale aborts the multipart uploads under the prefix started before
// now - olderThan: leftovers of an agent killed in the middle of a Put.
func (s *Store) abortStale(ctx context.Context, b *backend, olderThan time.Duration) (int, error) {
	cutoff := s.now().Add(-olderThan)
	aborted := 0
	keyMarker, idMarker := "", ""
	for {
		res, err := b.client.ListMultipartUploads(ctx, b.bucket, b.prefix, keyMarker, idMarker, "", s.listPage)
		if minio.ToErrorResponse(err).Code == "NoSuchUpload" {
			// Some S3-compatible servers (gofakes3) say so for a bucket
			// that never had an upload, where S3 lists none.
			return aborted, nil
		}
		if err != nil {
			return aborted, b.explain(err)
		}
		for _, u := range res.Uploads {
			if !u.Initiated.Before(cutoff) {
				continue
			}
			err := b.client.AbortMultipartUpload(ctx, b.bucket, u.Key, u.UploadID)
			if err != nil && minio.ToErrorResponse(err).Code != "NoSuchUpload" {
				return aborted, fmt.Errorf("abort upload %s of %q: %w", u.UploadID, u.Key, b.explain(err))
			}
			aborted++
		}
		if !res.IsTruncated || (res.NextKeyMarker == keyMarker && res.NextUploadIDMarker == idMarker) {
			return aborted, nil
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}

func (s *Store) backend() (*backend, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.b == nil {
		return nil, fmt.Errorf("backup-s3 is not configured: %w", plugin.ErrUnavailable)
	}
	return s.b, nil
}

// object returns the configuration and the bucket key for key.
func (s *Store) object(key string) (*backend, string, error) {
	if err := checkKey(key); err != nil {
		return nil, "", err
	}
	b, err := s.backend()
	if err != nil {
		return nil, "", err
	}
	full := b.prefix + key
	if len(full) > maxKeyLen {
		return nil, "", fmt.Errorf("key %q with prefix %q is %d bytes long, S3 allows %d: %w", key, b.prefix, len(full), maxKeyLen, plugin.ErrInvalidArgument)
	}
	return b, full, nil
}

// notFound recognises a missing object in any of the shapes S3 reports it.
func notFound(err error) bool {
	resp := minio.ToErrorResponse(err)
	return resp.Code == minio.NoSuchKey || (resp.StatusCode == http.StatusNotFound && resp.Code != minio.NoSuchBucket)
}

// Get streams the object's body; the caller closes it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, plugin.ObjectInfo, error) {
	b, full, err := s.object(key)
	if err != nil {
		return nil, plugin.ObjectInfo{}, err
	}
	body, oi, _, err := b.client.GetObject(ctx, b.bucket, full, minio.GetObjectOptions{})
	if notFound(err) {
		return nil, plugin.ObjectInfo{}, fmt.Errorf("object %q: %w", key, plugin.ErrNotFound)
	}
	if err != nil {
		return nil, plugin.ObjectInfo{}, fmt.Errorf("get %q: %w", key, b.explain(err))
	}
	return body, objectInfo(key, oi), nil
}

// Stat describes the object (HeadObject).
func (s *Store) Stat(ctx context.Context, key string) (plugin.ObjectInfo, error) {
	b, full, err := s.object(key)
	if err != nil {
		return plugin.ObjectInfo{}, err
	}
	oi, err := b.client.StatObject(ctx, b.bucket, full, minio.StatObjectOptions{})
	if notFound(err) {
		return plugin.ObjectInfo{}, fmt.Errorf("object %q: %w", key, plugin.ErrNotFound)
	}
	if err != nil {
		return plugin.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, b.explain(err))
	}
	return objectInfo(key, oi), nil
}

func objectInfo(key string, oi minio.ObjectInfo) plugin.ObjectInfo {
	return plugin.ObjectInfo{Key: key, Size: oi.Size, Modified: oi.LastModified, Metadata: decodeMeta(oi.Metadata)}
}

// List pages through the objects under prefix. S3 listings carry no user
// metadata, so the objects' Metadata is empty; Stat has it.
func (s *Store) List(ctx context.Context, prefix string) ([]plugin.ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	b, err := s.backend()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx) // stops the lister's goroutine on an early return
	defer cancel()
	var out []plugin.ObjectInfo
	opts := minio.ListObjectsOptions{Prefix: b.prefix + prefix, Recursive: true, MaxKeys: s.listPage}
	for obj := range b.client.Client.ListObjects(ctx, b.bucket, opts) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list %q: %w", prefix, b.explain(obj.Err))
		}
		key, ok := strings.CutPrefix(obj.Key, b.prefix)
		if !ok {
			continue
		}
		out = append(out, plugin.ObjectInfo{Key: key, Size: obj.Size, Modified: obj.LastModified})
	}
	// S3 lists in UTF-8 byte order already; not every compatible store does.
	slices.SortFunc(out, func(a, b plugin.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete removes the object; S3 deletes of missing keys succeed.
func (s *Store) Delete(ctx context.Context, key string) error {
	b, full, err := s.object(key)
	if err != nil {
		return err
	}
	err = b.client.RemoveObject(ctx, b.bucket, full, minio.RemoveObjectOptions{})
	if err != nil && !notFound(err) {
		return fmt.Errorf("delete %q: %w", key, b.explain(err))
	}
	return nil
}
