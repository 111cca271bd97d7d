package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	backupstorev1 "catalyst.dev/sdk/proto/backupstore/v1"
)

// listBatch bounds how many objects one List message carries, keeping
// messages far below MaxMessageSize even with long keys and metadata.
const listBatch = 500

var (
	_ BackupStore                     = (*backupStoreClient)(nil)
	_ backupstorev1.BackupStoreServer = (*backupStoreServer)(nil)
	_ io.WriterTo                     = (*chunkReader)(nil)
	_ io.WriterTo                     = (*getReader)(nil)
)

func registerBackupStore(s *grpc.Server, _ *goplugin.GRPCBroker, impl BackupStore, log hclog.Logger) {
	backupstorev1.RegisterBackupStoreServer(s, &backupStoreServer{impl: impl, log: log})
}

// backupStoreServer runs in the plugin process and turns chunk streams into
// the readers the implementation works with.
type backupStoreServer struct {
	backupstorev1.UnimplementedBackupStoreServer
	impl BackupStore
	log  hclog.Logger
}

func (s *backupStoreServer) Put(stream grpc.ClientStreamingServer[backupstorev1.PutRequest, backupstorev1.PutResponse]) (err error) {
	defer recoverPanic(s.log, "Put", &err)
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return status.Error(codes.InvalidArgument, "put: empty stream, want a header first")
	}
	if err != nil {
		return err
	}
	hdr := first.GetHeader()
	if hdr == nil || hdr.GetKey() == "" {
		return status.Error(codes.InvalidArgument, "put: the first message must be a header with a key")
	}
	r := &chunkReader{next: func() ([]byte, error) {
		msg, err := stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return nil, io.EOF
		case err != nil:
			return nil, fmt.Errorf("receive object data: %w", fromStatus(err))
		case msg.GetHeader() != nil:
			return nil, fmt.Errorf("receive object data: unexpected second header: %w", ErrInvalidArgument)
		}
		return msg.GetChunk(), nil
	}}
	if err := s.impl.Put(stream.Context(), hdr.GetKey(), r, hdr.GetMetadata()); err != nil {
		return toStatus(err)
	}
	// A store that returns before reading to the end has stored a
	// truncated object unless nothing was left.
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		return status.Errorf(codes.Internal, "put %q: the plugin returned before reading the whole object", hdr.GetKey())
	}
	return stream.SendAndClose(&backupstorev1.PutResponse{Size: r.n})
}

// chunkReader reads a stream of chunks: the Put stream in the plugin, the
// Get stream in the host. next returns the following chunk, or the error
// that ends the stream: io.EOF only at a clean end, so a stream that ends
// without the sender's half-close (cancelled, broken) reads as an error
// and an implementation cannot mistake it for a complete object.
type chunkReader struct {
	next func() ([]byte, error)
	buf  []byte
	err  error // once set, returned by every later read
	n    int64 // bytes handed out
}

func (r *chunkReader) fill() error {
	for len(r.buf) == 0 {
		if r.err != nil {
			return r.err
		}
		r.buf, r.err = r.next()
	}
	return nil
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := r.fill(); err != nil {
		return 0, err
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.n += int64(n)
	return n, nil
}

// WriteTo hands whole chunks to w, sparing io.Copy an intermediate buffer.
func (r *chunkReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if err := r.fill(); errors.Is(err, io.EOF) {
			return total, nil
		} else if err != nil {
			return total, err
		}
		n, err := w.Write(r.buf)
		r.buf = r.buf[n:]
		r.n += int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

func (s *backupStoreServer) Get(req *backupstorev1.GetRequest, stream grpc.ServerStreamingServer[backupstorev1.GetResponse]) (err error) {
	defer recoverPanic(s.log, "Get", &err)
	rc, info, err := s.impl.Get(stream.Context(), req.GetKey())
	if err != nil {
		return toStatus(err)
	}
	defer rc.Close()
	if err := stream.Send(&backupstorev1.GetResponse{Msg: &backupstorev1.GetResponse_Info{Info: objectInfoToProto(info)}}); err != nil {
		return err
	}
	// The buffer is reused: Send has marshalled the message before it
	// returns, and this server installs no stats handler that keeps it.
	buf := make([]byte, ChunkSize)
	for {
		n, rerr := io.ReadFull(rc, buf)
		if n > 0 {
			if err := stream.Send(&backupstorev1.GetResponse{Msg: &backupstorev1.GetResponse_Chunk{Chunk: buf[:n]}}); err != nil {
				return err
			}
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF), errors.Is(rerr, io.ErrUnexpectedEOF):
			return nil
		default:
			return toStatus(fmt.Errorf("read %q: %w", req.GetKey(), rerr))
		}
	}
}

func (s *backupStoreServer) Stat(ctx context.Context, req *backupstorev1.StatRequest) (_ *backupstorev1.StatResponse, err error) {
	defer recoverPanic(s.log, "Stat", &err)
	info, err := s.impl.Stat(ctx, req.GetKey())
	if err != nil {
		return nil, toStatus(err)
	}
	return &backupstorev1.StatResponse{Info: objectInfoToProto(info)}, nil
}

func (s *backupStoreServer) List(req *backupstorev1.ListRequest, stream grpc.ServerStreamingServer[backupstorev1.ListResponse]) (err error) {
	defer recoverPanic(s.log, "List", &err)
	objects, err := s.impl.List(stream.Context(), req.GetPrefix())
	if err != nil {
		return toStatus(err)
	}
	for len(objects) > 0 {
		n := min(len(objects), listBatch)
		resp := &backupstorev1.ListResponse{}
		for _, o := range objects[:n] {
			resp.Objects = append(resp.Objects, objectInfoToProto(o))
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
		objects = objects[n:]
	}
	return nil
}

func (s *backupStoreServer) Delete(ctx context.Context, req *backupstorev1.DeleteRequest) (_ *backupstorev1.DeleteResponse, err error) {
	defer recoverPanic(s.log, "Delete", &err)
	if err := s.impl.Delete(ctx, req.GetKey()); err != nil {
		return nil, toStatus(err)
	}
	return &backupstorev1.DeleteResponse{}, nil
}

// backupStoreClient runs in the host and turns readers into chunk streams.
type backupStoreClient struct {
	*baseClient
	client backupstorev1.BackupStoreClient
}

func newBackupStoreClient(conn grpc.ClientConnInterface) *backupStoreClient {
	return &backupStoreClient{baseClient: newBaseClient(conn), client: backupstorev1.NewBackupStoreClient(conn)}
}

func (c *backupStoreClient) Put(ctx context.Context, key string, r io.Reader, meta map[string]string) error {
	// Cancelling (rather than half-closing) on a read error is what tells
	// the plugin the object is incomplete and must not be kept.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.Put(ctx)
	if err != nil {
		return fromStatus(err)
	}
	hdr := &backupstorev1.PutRequest{Msg: &backupstorev1.PutRequest_Header{Header: &backupstorev1.PutHeader{Key: key, Metadata: meta}}}
	if err := stream.Send(hdr); err != nil {
		return c.putFailed(stream, err)
	}
	// Reused across Sends for the same reason as in the server's Get.
	buf := make([]byte, ChunkSize)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			msg := &backupstorev1.PutRequest{Msg: &backupstorev1.PutRequest_Chunk{Chunk: buf[:n]}}
			if err := stream.Send(msg); err != nil {
				return c.putFailed(stream, err)
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			cancel()
			return fmt.Errorf("read object %q: %w", key, rerr)
		}
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		return fromStatus(err)
	}
	return nil
}

// putFailed finds out why a Send failed: on io.EOF the server has ended the
// call and the real status waits in CloseAndRecv.
func (c *backupStoreClient) putFailed(stream grpc.ClientStreamingClient[backupstorev1.PutRequest, backupstorev1.PutResponse], err error) error {
	if errors.Is(err, io.EOF) {
		_, err = stream.CloseAndRecv()
		if err == nil {
			err = status.Error(codes.Internal, "put: the plugin ended the upload early")
		}
	}
	return fromStatus(err)
}

func (c *backupStoreClient) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.client.Get(ctx, &backupstorev1.GetRequest{Key: key})
	if err != nil {
		cancel()
		return nil, ObjectInfo{}, fromStatus(err)
	}
	// The first message is the info or the error (ErrNotFound), so callers
	// learn about a missing key from Get itself rather than from Read.
	first, err := stream.Recv()
	if err != nil {
		cancel()
		if errors.Is(err, io.EOF) {
			err = status.Error(codes.Internal, "get: the plugin sent no object info")
		}
		return nil, ObjectInfo{}, fromStatus(err)
	}
	if first.GetInfo() == nil {
		cancel()
		return nil, ObjectInfo{}, fmt.Errorf("get %q: the plugin sent data before the object info", key)
	}
	r := &getReader{cancel: cancel}
	r.next = func() ([]byte, error) {
		msg, err := stream.Recv()
		if err != nil {
			return nil, fromStatus(err) // io.EOF stays io.EOF
		}
		return msg.GetChunk(), nil
	}
	return r, objectInfoFromProto(first.GetInfo()), nil
}

// getReader reads the chunks of a Get stream; closing it abandons the rest.
type getReader struct {
	chunkReader
	cancel context.CancelFunc
}

func (r *getReader) Close() error {
	r.cancel()
	return nil
}

func (c *backupStoreClient) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	resp, err := c.client.Stat(ctx, &backupstorev1.StatRequest{Key: key})
	if err != nil {
		return ObjectInfo{}, fromStatus(err)
	}
	return objectInfoFromProto(resp.GetInfo()), nil
}

func (c *backupStoreClient) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.List(ctx, &backupstorev1.ListRequest{Prefix: prefix})
	if err != nil {
		return nil, fromStatus(err)
	}
	var out []ObjectInfo
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fromStatus(err)
		}
		for _, o := range resp.GetObjects() {
			out = append(out, objectInfoFromProto(o))
		}
	}
}

func (c *backupStoreClient) Delete(ctx context.Context, key string) error {
	_, err := c.client.Delete(ctx, &backupstorev1.DeleteRequest{Key: key})
	return fromStatus(err)
}

func objectInfoToProto(o ObjectInfo) *backupstorev1.ObjectInfo {
	p := &backupstorev1.ObjectInfo{Key: o.Key, Size: o.Size, Metadata: o.Metadata}
	if !o.Modified.IsZero() {
		p.Modified = timestamppb.New(o.Modified)
	}
	return p
}

func objectInfoFromProto(p *backupstorev1.ObjectInfo) ObjectInfo {
	o := ObjectInfo{Key: p.GetKey(), Size: p.GetSize(), Metadata: p.GetMetadata()}
	if p.GetModified() != nil {
		o.Modified = p.GetModified().AsTime()
	}
	return o
}
