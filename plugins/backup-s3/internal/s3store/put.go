package s3store

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"

	"catalyst.dev/sdk/plugin"
)

// cleanupTimeout bounds the requests that tidy up after a failed Put; they
// run even when the Put's context is cancelled, which is when they matter.
const cleanupTimeout = time.Minute

// maxBackoff caps the wait between two attempts of a part.
const maxBackoff = 30 * time.Second

// Put stores r under key. An object smaller than one part goes up as a
// single PUT; a larger one as a multipart upload whose parts are read one
// at a time into pooled buffers and sent up to concurrency at once. Every
// request carries Content-MD5, so the server refuses a damaged body. A
// failed Put aborts its multipart upload: no object, no orphan parts.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, meta map[string]string) error {
	b, full, err := s.object(key)
	if err != nil {
		return err
	}
	hdrs, err := encodeMeta(meta)
	if err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	// Unsigned payloads: Content-MD5 is the integrity check, and hashing
	// every byte a second time for the signature would only cost CPU.
	opts := minio.PutObjectOptions{UserMetadata: hdrs, ContentType: "application/octet-stream", DisableContentSha256: true}
	if err := s.put(ctx, b, full, r, opts); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

func (s *Store) put(ctx context.Context, b *backend, full string, r io.Reader, opts minio.PutObjectOptions) error {
	b.pool.open()
	defer b.pool.close()
	pr := &partReader{r: r, pool: b.pool}
	first, err := pr.next()
	if err != nil {
		return err
	}
	if first == nil {
		return s.putSingle(ctx, b, full, nil, opts)
	}
	if pr.done {
		defer b.pool.put(first.buf)
		return s.putSingle(ctx, b, full, first.data, opts)
	}
	// The first part is full: only the next read tells an object of
	// exactly one part from a larger one.
	second, err := pr.next()
	if err != nil {
		b.pool.put(first.buf)
		return err
	}
	if second == nil {
		defer b.pool.put(first.buf)
		return s.putSingle(ctx, b, full, first.data, opts)
	}
	return s.putMultipart(ctx, b, full, opts, pr, first, second)
}

// part is one part's data in its pooled buffer.
type part struct {
	buf  []byte
	data []byte
}

// partReader cuts the source into parts.
type partReader struct {
	r    io.Reader
	pool *partPool
	done bool // the source has ended
}

// next reads the following part into a pooled buffer; nil at the end.
func (pr *partReader) next() (*part, error) {
	if pr.done {
		return nil, nil
	}
	buf := pr.pool.get()
	n, err := io.ReadFull(pr.r, buf)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		pr.done = true
	case err != nil:
		pr.pool.put(buf)
		return nil, fmt.Errorf("read object data: %w", err)
	}
	if n == 0 {
		pr.pool.put(buf)
		return nil, nil
	}
	return &part{buf: buf, data: buf[:n]}, nil
}

// onlyReader hides a reader's Seek, so minio-go does not retry the
// request itself: sendPart does, with its own count and backoff.
type onlyReader struct{ io.Reader }

func contentMD5(data []byte) string {
	sum := md5.Sum(data)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (s *Store) putSingle(ctx context.Context, b *backend, full string, data []byte, opts minio.PutObjectOptions) error {
	sum := contentMD5(data)
	return s.retry(ctx, b, "put "+full, func() error {
		_, err := b.client.PutObject(ctx, b.bucket, full, onlyReader{bytes.NewReader(data)}, int64(len(data)), sum, "", opts)
		return err
	})
}

// upload is one multipart upload in flight.
type upload struct {
	s   *Store
	b   *backend
	key string
	id  string

	mu    sync.Mutex
	parts []minio.CompletePart
}

func (s *Store) putMultipart(ctx context.Context, b *backend, full string, opts minio.PutObjectOptions, pr *partReader, queued ...*part) error {
	id, err := b.client.NewMultipartUpload(ctx, b.bucket, full, opts)
	if err != nil {
		for _, p := range queued {
			b.pool.put(p.buf)
		}
		return fmt.Errorf("start multipart upload: %w", b.explain(err))
	}
	u := &upload{s: s, b: b, key: full, id: id}

	// Up to concurrency parts upload while the next one is read: with the
	// reader's buffer that is concurrency+1 buffers, whatever the size.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.concurrency)
	num := 0
	send := func(p *part) {
		num++
		n := num
		g.Go(func() error { // blocks while concurrency parts are in flight
			defer b.pool.put(p.buf)
			return u.sendPart(gctx, n, p.data)
		})
	}
	for _, p := range queued {
		send(p)
	}
	var readErr error
	for !pr.done && gctx.Err() == nil {
		p, err := pr.next()
		if err != nil {
			readErr = err
			break
		}
		if p == nil {
			break
		}
		if num == maxParts {
			b.pool.put(p.buf)
			readErr = fmt.Errorf("the object is larger than %d parts of part_size_mb (%d MiB): raise part_size_mb: %w", maxParts, b.partSize>>20, plugin.ErrInvalidArgument)
			break
		}
		send(p)
	}
	err = g.Wait()
	// What broke first: the source (the host cancelled or failed the
	// upload), then a part, then the caller's context.
	switch {
	case readErr != nil:
		err = readErr
	case err == nil:
		err = ctx.Err()
	}
	if err != nil {
		return s.abort(ctx, b, full, id, err)
	}

	parts := u.sorted()
	if _, err := b.client.CompleteMultipartUpload(ctx, b.bucket, full, id, parts, minio.PutObjectOptions{}); err != nil {
		return s.completeFailed(ctx, b, full, id, parts, fmt.Errorf("complete multipart upload: %w", b.explain(err)))
	}
	return nil
}

// sendPart uploads one part with its Content-MD5, retrying with a fresh
// reader over the same buffer.
func (u *upload) sendPart(ctx context.Context, num int, data []byte) error {
	sum := contentMD5(data)
	var res minio.ObjectPart
	err := u.s.retry(ctx, u.b, fmt.Sprintf("part %d of %s", num, u.key), func() error {
		var err error
		res, err = u.b.client.PutObjectPart(ctx, u.b.bucket, u.key, u.id, num,
			onlyReader{bytes.NewReader(data)}, int64(len(data)),
			minio.PutObjectPartOptions{Md5Base64: sum, DisableContentSha256: true})
		return err
	})
	if err != nil {
		return fmt.Errorf("upload part %d: %w", num, err)
	}
	u.mu.Lock()
	u.parts = append(u.parts, minio.CompletePart{PartNumber: num, ETag: res.ETag})
	u.mu.Unlock()
	return nil
}

func (u *upload) sorted() []minio.CompletePart {
	u.mu.Lock()
	defer u.mu.Unlock()
	parts := slices.Clone(u.parts)
	slices.SortFunc(parts, func(a, b minio.CompletePart) int { return a.PartNumber - b.PartNumber })
	return parts
}

// retry runs op until it succeeds, fails in a way retrying cannot fix, or
// has failed 1 + part_retries times; it waits retryBase, then twice as
// long each time (with jitter), between attempts.
func (s *Store) retry(ctx context.Context, b *backend, what string, op func() error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err // e.g. a sibling part failed: no point sending this one
		}
		err := op()
		if err == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if !retryable(err) {
			return b.explain(err)
		}
		if attempt == b.retries {
			return fmt.Errorf("gave up after %d attempts: %w", attempt+1, b.explain(err))
		}
		delay := s.backoff(attempt)
		s.log.Warn("S3 request failed; retrying", "what", what, "attempt", attempt+1, "retry_in", delay, "error", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *Store) backoff(attempt int) time.Duration {
	d := min(s.retryBase<<attempt, maxBackoff)
	// Jitter keeps parallel parts that failed together from retrying in
	// lockstep.
	return d/2 + rand.N(d/2+1)
}

// abort ends a failed multipart upload so its parts are deleted, and
// returns cause. It runs even if ctx is cancelled.
func (s *Store) abort(ctx context.Context, b *backend, full, id string, cause error) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	err := b.client.AbortMultipartUpload(actx, b.bucket, full, id)
	if err == nil || minio.ToErrorResponse(err).Code == "NoSuchUpload" {
		return cause
	}
	s.log.Error("could not abort a failed multipart upload; its parts remain until abort_stale_uploads_after or a lifecycle rule removes them",
		"bucket", b.bucket, "key", full, "upload_id", id, "error", err)
	return fmt.Errorf("%w (aborting multipart upload %s failed too, its parts remain: %v)", cause, id, b.explain(err))
}

// completeFailed cleans up after a CompleteMultipartUpload that returned an
// error. The server may have completed the upload all the same (the answer
// was lost, the context ended as it worked); then the object it made from
// these parts is removed, because Put reports failure.
func (s *Store) completeFailed(ctx context.Context, b *backend, full, id string, parts []minio.CompletePart, cause error) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	err := b.client.AbortMultipartUpload(actx, b.bucket, full, id)
	if err == nil {
		return cause
	}
	if minio.ToErrorResponse(err).Code != "NoSuchUpload" {
		return s.abort(ctx, b, full, id, cause)
	}
	want := multipartETag(parts)
	oi, serr := b.client.StatObject(actx, b.bucket, full, minio.StatObjectOptions{})
	if serr == nil && want != "" && strings.Trim(oi.ETag, `"`) == want {
		if rerr := b.client.RemoveObject(actx, b.bucket, full, minio.RemoveObjectOptions{}); rerr != nil {
			return fmt.Errorf("%w (the upload completed anyway and removing it failed: %v)", cause, b.explain(rerr))
		}
	}
	return cause
}

// multipartETag is the ETag S3 gives an object completed from parts: the
// MD5 of the parts' binary MD5s, a dash, the number of parts. "" if a part
// ETag is no MD5 (some encryption modes).
func multipartETag(parts []minio.CompletePart) string {
	h := md5.New()
	for _, p := range parts {
		raw, err := hex.DecodeString(strings.Trim(p.ETag, `"`))
		if err != nil || len(raw) != md5.Size {
			return ""
		}
		h.Write(raw)
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(parts))
}

// partPool hands out part-sized buffers and takes them back for the next
// part. Once no Put is running, idle buffers are dropped, so the plugin
// keeps no part memory between backups.
type partPool struct {
	size int

	mu     sync.Mutex
	users  int // Puts running
	free   [][]byte
	inUse  int
	peak   int // most buffers handed out at once
	allocs int // buffers ever allocated
}

// open and close bracket a Put.
func (p *partPool) open() {
	p.mu.Lock()
	p.users++
	p.mu.Unlock()
}

func (p *partPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users--; p.users == 0 {
		p.free = nil
	}
}

func newPartPool(size int) *partPool { return &partPool{size: size} }

func (p *partPool) get() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inUse++
	p.peak = max(p.peak, p.inUse)
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	p.allocs++
	return make([]byte, p.size)
}

func (p *partPool) put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inUse--
	p.free = append(p.free, b[:cap(b)])
}

// stats reports buffers handed out now, at most at once, and ever made.
func (p *partPool) stats() (inUse, peak, allocs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse, p.peak, p.allocs
}
