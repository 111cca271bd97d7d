package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"catalyst.dev/core/internal/gateway"
	"catalyst.dev/sdk/wire"
)

// archiveAgent serves the backup and archive routes of one server the way
// sdk/wire/backups.go describes, over bytes in memory, and keeps what it
// was sent.
type archiveAgent struct {
	serverID string
	volume   []byte // what GET /archive streams

	mu       sync.Mutex
	objects  map[string][]byte // "store/key"
	backups  []wire.BackupRequest
	restores []wire.RestoreRequest
	// put is the last POST /archive: its body, query and the digest it
	// was checked against; putErr is why its body could not be read.
	put       []byte
	putQuery  string
	putDigest string
	putErr    error
	putDone   chan struct{}
}

func newArchiveAgent(serverID string) *archiveAgent {
	return &archiveAgent{serverID: serverID, objects: map[string][]byte{}, putDone: make(chan struct{}, 1),
		volume: bytes.Repeat([]byte("volume bytes "), 100000)}
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: msg}})
}

func (a *archiveAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base := wire.AgentServerPath(a.serverID, "")
	suffix, ok := strings.CutPrefix(r.URL.Path, base)
	if !ok {
		writeErr(w, 404, wire.CodeNotFound, "no such server")
		return
	}
	q := r.URL.Query()
	switch r.Method + " " + suffix {
	case "POST " + wire.BackupsSuffix:
		var req wire.BackupRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req.Store != "local" {
			writeErr(w, 404, wire.CodeNoStore, "no backup store "+req.Store)
			return
		}
		a.mu.Lock()
		a.backups = append(a.backups, req)
		key := wire.BackupKeyPrefix(a.serverID) + req.BackupID + ".tar.zst"
		a.objects[req.Store+"/"+key] = []byte("archive of " + req.BackupID)
		a.mu.Unlock()
		_ = json.NewEncoder(w).Encode(wire.BackupResult{Key: key, ArchiveResult: wire.ArchiveResult{
			Size: 42, SHA256: hexSum([]byte("archive of " + req.BackupID)), Files: 2, Bytes: 100, Compression: "zstd"}})
	case "POST " + wire.BackupRestoreSuffix:
		var req wire.RestoreRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		a.mu.Lock()
		obj := a.objects[req.Store+"/"+req.Key]
		a.restores = append(a.restores, req)
		a.mu.Unlock()
		if hexSum(obj) != req.SHA256 {
			writeErr(w, 422, wire.CodeChecksum, "the archive's sha256 is not the one expected")
			return
		}
		_ = json.NewEncoder(w).Encode(wire.ArchiveResult{Size: int64(len(obj)), SHA256: req.SHA256})
	case "GET " + wire.BackupObjectSuffix:
		a.mu.Lock()
		obj, ok := a.objects[q.Get("store")+"/"+q.Get("key")]
		a.mu.Unlock()
		if !ok {
			writeErr(w, 404, wire.CodeNotFound, "no object "+q.Get("key"))
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(obj)))
		_, _ = w.Write(obj)
	case "DELETE " + wire.BackupObjectSuffix:
		a.mu.Lock()
		delete(a.objects, q.Get("store")+"/"+q.Get("key"))
		a.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case "GET " + wire.ArchiveSuffix:
		w.Header().Set("Trailer", wire.ArchiveSHA256Trailer)
		_, _ = w.Write(a.volume)
		w.Header().Set(wire.ArchiveSHA256Trailer, hexSum(a.volume))
	case "POST " + wire.ArchiveSuffix:
		body, err := io.ReadAll(r.Body)
		want := q.Get("sha256")
		if want == "" {
			want = r.Trailer.Get(wire.ArchiveSHA256Trailer)
		}
		a.mu.Lock()
		a.put, a.putQuery, a.putDigest, a.putErr = body, r.URL.RawQuery, want, err
		a.mu.Unlock()
		a.putDone <- struct{}{}
		switch {
		case err != nil:
			writeErr(w, 400, wire.CodeInvalid, "the archive stream was cut: "+err.Error())
		case want == "":
			writeErr(w, 400, wire.CodeInvalid, "no sha256 in the query or the trailer")
		case hexSum(body) != want:
			writeErr(w, 422, wire.CodeChecksum, "the archive's sha256 is not the one expected")
		default:
			_ = json.NewEncoder(w).Encode(wire.ArchiveResult{Size: int64(len(body)), SHA256: want, Compression: "zstd"})
		}
	default:
		writeErr(w, 404, wire.CodeNotFound, "no route "+r.Method+" "+suffix)
	}
}

func (a *archiveAgent) lastPut() ([]byte, string, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.put, a.putQuery, a.putDigest, a.putErr
}

// backupClient connects an archiveAgent for server "s1" and returns the
// core's client of it.
func backupClient(t *testing.T) (*gateway.Client, *archiveAgent) {
	t.Helper()
	w := newWorld(t, gateway.Options{})
	ag := newArchiveAgent("s1")
	w.dial(t, ag, "v")
	w.rec.waitFor(t, "hello v")
	c, err := w.gw.Agent(w.node.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c, ag
}

func TestBackupCalls(t *testing.T) {
	c, ag := backupClient(t)
	ctx := context.Background()

	res, err := c.Backup(ctx, "s1", wire.BackupRequest{BackupID: "b1", Store: "local", Ignore: []string{"*.log"}})
	if err != nil {
		t.Fatal(err)
	}
	wantKey := wire.BackupKeyPrefix("s1") + "b1.tar.zst"
	if res.Key != wantKey || res.Size != 42 || res.Files != 2 || res.Compression != "zstd" || res.SHA256 != hexSum([]byte("archive of b1")) {
		t.Fatalf("Backup = %+v", res)
	}
	if len(ag.backups) != 1 || ag.backups[0].BackupID != "b1" || len(ag.backups[0].Ignore) != 1 {
		t.Fatalf("agent got %+v", ag.backups)
	}
	var ae *gateway.AgentError
	if _, err := c.Backup(ctx, "s1", wire.BackupRequest{BackupID: "b2", Store: "s3"}); !errors.As(err, &ae) || ae.Code != wire.CodeNoStore || ae.Status != 404 {
		t.Fatalf("backup into an unknown store: %v", err)
	}

	if _, err := c.RestoreBackup(ctx, "s1", wire.RestoreRequest{Store: "local", Key: wantKey, SHA256: res.SHA256, Wipe: true}); err != nil {
		t.Fatal(err)
	}
	if len(ag.restores) != 1 || !ag.restores[0].Wipe || ag.restores[0].Key != wantKey {
		t.Fatalf("agent got restores %+v", ag.restores)
	}
	if _, err := c.RestoreBackup(ctx, "s1", wire.RestoreRequest{Store: "local", Key: wantKey, SHA256: "00"}); !errors.As(err, &ae) || ae.Code != wire.CodeChecksum {
		t.Fatalf("restore with the wrong digest: %v", err)
	}

	// Object routes carry store and key in the query, escaped.
	odd := wire.BackupKeyPrefix("s1") + "a b&c=d%.tar"
	ag.objects["local/"+odd] = []byte("odd object")
	resp, err := c.BackupObject(ctx, "s1", "local", odd)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "odd object" || resp.ContentLength != int64(len("odd object")) {
		t.Fatalf("BackupObject = %q (length %d), %v", body, resp.ContentLength, err)
	}
	if err := c.DeleteBackupObject(ctx, "s1", "local", odd); err != nil {
		t.Fatal(err)
	}
	if _, ok := ag.objects["local/"+odd]; ok {
		t.Fatal("the object is still there after DeleteBackupObject")
	}
	if _, err := c.BackupObject(ctx, "s1", "local", odd); !errors.As(err, &ae) || ae.Code != wire.CodeNotFound {
		t.Fatalf("a deleted object: %v", err)
	}
}

func TestArchiveStreamsCarryTheirDigest(t *testing.T) {
	c, ag := backupClient(t)
	ctx := context.Background()

	// The source's digest comes in the trailer once the body is read.
	resp, err := c.Archive(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, ag.volume) {
		t.Fatalf("Archive read %d bytes, %v", len(got), err)
	}
	if sum := resp.Trailer.Get(wire.ArchiveSHA256Trailer); sum != hexSum(ag.volume) {
		t.Fatalf("archive trailer = %q", sum)
	}

	// A transfer pipes one agent's archive into another's: the digest
	// follows the body as a trailer.
	src, err := c.Archive(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.PutArchive(ctx, "s1", src.Body, gateway.PutArchiveOptions{Wipe: true,
		Trailer: func() string { return src.Trailer.Get(wire.ArchiveSHA256Trailer) }})
	src.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	<-ag.putDone
	put, query, digest, _ := ag.lastPut()
	if res.SHA256 != hexSum(ag.volume) || !bytes.Equal(put, ag.volume) || digest != hexSum(ag.volume) || query != "wipe=true" {
		t.Fatalf("PutArchive with a trailer: %+v; agent got %d bytes, query %q, digest %q", res, len(put), query, digest)
	}

	// A digest known ahead goes in the query.
	obj := []byte("a backup held on another node")
	if _, err := c.PutArchive(ctx, "s1", bytes.NewReader(obj), gateway.PutArchiveOptions{SHA256: hexSum(obj)}); err != nil {
		t.Fatal(err)
	}
	<-ag.putDone
	if put, query, _, _ := ag.lastPut(); !bytes.Equal(put, obj) || query != "sha256="+hexSum(obj)+"&wipe=false" {
		t.Fatalf("agent got %q with query %q", put, query)
	}
	var ae *gateway.AgentError
	if _, err := c.PutArchive(ctx, "s1", bytes.NewReader(obj), gateway.PutArchiveOptions{SHA256: hexSum([]byte("other"))}); !errors.As(err, &ae) || ae.Code != wire.CodeChecksum {
		t.Fatalf("PutArchive with the wrong digest: %v", err)
	}
	<-ag.putDone
}

func TestPutArchiveWithoutItsDigestIsCutShort(t *testing.T) {
	cases := map[string]struct {
		body    io.Reader
		trailer func() string
	}{
		// The source stream ended but never said its digest.
		"no trailer": {body: strings.NewReader(strings.Repeat("x", 1<<20)), trailer: func() string { return "" }},
		// The source stream broke.
		"body fails": {body: io.MultiReader(strings.NewReader(strings.Repeat("x", 1<<20)), failingReader{}),
			trailer: func() string { return "ab" }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, ag := backupClient(t)
			_, err := c.PutArchive(context.Background(), "s1", tc.body, gateway.PutArchiveOptions{Trailer: tc.trailer})
			if !errors.Is(err, gateway.ErrRequestBody) {
				t.Fatalf("PutArchive = %v, want ErrRequestBody", err)
			}
			<-ag.putDone
			if _, _, _, perr := ag.lastPut(); perr == nil {
				t.Fatal("the agent read the cut stream as complete")
			}
		})
	}
	c, _ := backupClient(t)
	if _, err := c.PutArchive(context.Background(), "s1", strings.NewReader("x"), gateway.PutArchiveOptions{}); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("PutArchive with no digest at all: %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("source node went away") }
