package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"catalyst.dev/core/internal/auth"
	"catalyst.dev/core/internal/backups"
	"catalyst.dev/core/internal/config"
	"catalyst.dev/core/internal/gateway/gatewaytest"
	"catalyst.dev/core/internal/live"
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/wire"
)

// backupNode answers an agent's backup and archive routes
// (sdk/wire/backups.go) over objects in memory, as a node with backup
// stores would, and hands every other request to the fake agent. It keeps
// what it was asked.
type backupNode struct {
	fake   *gatewaytest.Fake
	stores []string

	mu      sync.Mutex
	objects map[string][]byte // by store + "\x00" + key
	calls   []string          // "METHOD suffix [store key]"
	backups []wire.BackupRequest
	restore []wire.RestoreRequest
	puts    []archivePut
	// gate, when set, holds every backup and restore until it is closed
	// or the request ends; started receives the backup or restore's ID as
	// it begins, ended as it ends (with "abandoned" when the request ended
	// first).
	gate    chan struct{}
	started chan string
	ended   chan string
	// fail, when set, is the error every backup answers with.
	fail *wire.ErrorDetail
}

// archivePut is one POST /archive the node was sent.
type archivePut struct {
	serverID string
	body     []byte
	sha256   string
	wipe     bool
}

func newBackupNode(stores ...string) *backupNode {
	return &backupNode{stores: stores, objects: map[string][]byte{}, started: make(chan string, 64), ended: make(chan string, 64)}
}

// connectBackupAgent connects an agent for the fixture's node (or o.node)
// whose backup routes node answers.
func (f *fixture) connectBackupAgent(node *backupNode, o agentOptions) {
	f.t.Helper()
	o.backupStores = node.stores
	o.handler = func(fake *gatewaytest.Fake) http.Handler {
		node.fake = fake
		return node
	}
	f.connectAgentWith(o)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func objectID(store, key string) string { return store + "\x00" + key }

func (n *backupNode) answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (n *backupNode) refuse(w http.ResponseWriter, status int, code, msg string) {
	n.answer(w, status, wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: msg}})
}

// hold waits at the gate; false when the request ended first.
func (n *backupNode) hold(r *http.Request, id string) bool {
	n.started <- id
	n.mu.Lock()
	gate := n.gate
	n.mu.Unlock()
	if gate == nil {
		return true
	}
	select {
	case <-gate:
		return true
	case <-r.Context().Done():
		n.ended <- "abandoned"
		return false
	}
}

func (n *backupNode) record(call string) {
	n.mu.Lock()
	n.calls = append(n.calls, call)
	n.mu.Unlock()
}

func (n *backupNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, wire.AgentPathServers+"/")
	if !ok {
		n.fake.ServeHTTP(w, r)
		return
	}
	id, suffix, _ := strings.Cut(rest, "/")
	suffix = "/" + suffix
	q := r.URL.Query()
	switch r.Method + " " + suffix {
	case "POST " + wire.BackupsSuffix:
		var req wire.BackupRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			n.refuse(w, 400, wire.CodeInvalid, err.Error())
			return
		}
		n.record("POST " + suffix + " " + req.Store)
		n.mu.Lock()
		n.backups = append(n.backups, req)
		n.mu.Unlock()
		if !slices.Contains(n.stores, req.Store) {
			n.refuse(w, 404, wire.CodeNoStore, "no backup store "+req.Store)
			return
		}
		_ = n.fake.Emit(wire.EventBackupProgress, wire.BackupProgress{ServerID: id, BackupID: req.BackupID, Op: wire.OpBackup, Bytes: 50, Total: 100, Files: 1, Written: 20})
		if !n.hold(r, req.BackupID) {
			return
		}
		defer func() { n.ended <- req.BackupID }()
		if n.fail != nil {
			n.refuse(w, 500, n.fail.Code, n.fail.Message)
			return
		}
		obj := []byte("zstd archive of " + id + " as of backup " + req.BackupID)
		key := wire.BackupKeyPrefix(id) + req.BackupID + ".tar.zst"
		n.mu.Lock()
		n.objects[objectID(req.Store, key)] = obj
		n.mu.Unlock()
		n.answer(w, 200, wire.BackupResult{Key: key, ArchiveResult: wire.ArchiveResult{
			Size: int64(len(obj)), SHA256: sum(obj), Files: 3, Bytes: 3000, Compression: "zstd"}})
	case "POST " + wire.BackupRestoreSuffix:
		var req wire.RestoreRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			n.refuse(w, 400, wire.CodeInvalid, err.Error())
			return
		}
		n.record("POST " + suffix + " " + req.Store + " " + req.Key)
		n.mu.Lock()
		n.restore = append(n.restore, req)
		obj, ok := n.objects[objectID(req.Store, req.Key)]
		n.mu.Unlock()
		if !n.hold(r, req.Key) {
			return
		}
		defer func() { n.ended <- req.Key }()
		switch {
		case !ok:
			n.refuse(w, 404, wire.CodeNotFound, "no object "+req.Key)
		case sum(obj) != req.SHA256:
			n.refuse(w, 422, wire.CodeChecksum, "the archive's sha256 is not the one expected")
		default:
			n.answer(w, 200, wire.ArchiveResult{Size: int64(len(obj)), SHA256: req.SHA256, Compression: "zstd"})
		}
	case "GET " + wire.BackupObjectSuffix, "DELETE " + wire.BackupObjectSuffix:
		st, key := q.Get("store"), q.Get("key")
		n.record(r.Method + " " + suffix + " " + st + " " + key)
		if err := wire.CheckBackupKey(id, key); err != nil {
			n.refuse(w, 400, wire.CodeInvalid, err.Error())
			return
		}
		n.mu.Lock()
		obj, ok := n.objects[objectID(st, key)]
		if r.Method == http.MethodDelete {
			delete(n.objects, objectID(st, key))
		}
		n.mu.Unlock()
		switch {
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case !ok:
			n.refuse(w, 404, wire.CodeNotFound, "no object "+key)
		default:
			w.Header().Set("Content-Length", strconv.Itoa(len(obj)))
			_, _ = w.Write(obj)
		}
	case "POST " + wire.ArchiveSuffix:
		n.record("POST " + suffix)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			n.refuse(w, 400, wire.CodeInvalid, err.Error())
			return
		}
		want := q.Get("sha256")
		if want == "" {
			want = r.Trailer.Get(wire.ArchiveSHA256Trailer)
		}
		n.mu.Lock()
		n.puts = append(n.puts, archivePut{serverID: id, body: body, sha256: want, wipe: q.Get("wipe") == "true"})
		n.mu.Unlock()
		if sum(body) != want {
			n.refuse(w, 422, wire.CodeChecksum, "the archive's sha256 is not the one expected")
			return
		}
		n.answer(w, 200, wire.ArchiveResult{Size: int64(len(body)), SHA256: want, Compression: "zstd"})
	default:
		n.fake.ServeHTTP(w, r)
	}
}

func (n *backupNode) snapshot() (calls []string, objects int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.calls), len(n.objects)
}

func (n *backupNode) object(st, key string) ([]byte, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b, ok := n.objects[objectID(st, key)]
	return b, ok
}

func (n *backupNode) setGate(g chan struct{}) {
	n.mu.Lock()
	n.gate = g
	n.mu.Unlock()
}

// waitFor reads ch until it yields want.
func waitFor(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("the node never reported %q", want)
		}
	}
}

// backupView decodes an answer's backup.
func backupView(t testing.TB, r response) backups.View {
	t.Helper()
	var v backups.View
	if err := json.Unmarshal(r.Data, &v); err != nil || v.ID == "" {
		t.Fatalf("not a backup: %d %s", r.Status, r.Body)
	}
	return v
}

// createBackup asks for a backup as role and returns it (still creating).
func (f *fixture) createBackup(r role, body any) backups.View {
	f.t.Helper()
	got := f.do(r, "POST", f.backupsURL(""), body)
	if got.Status != http.StatusAccepted {
		f.t.Fatalf("create backup: %d %s", got.Status, got.Body)
	}
	v := backupView(f.t, got)
	if v.Status != store.BackupCreating {
		f.t.Fatalf("a new backup is %s", v.Status)
	}
	return v
}

func (f *fixture) backupsURL(suffix string) string {
	return "/api/servers/" + f.server.ID + "/backups" + suffix
}

// settled waits until the backup is no longer creating and returns its
// record.
func (f *fixture) settled(id string) *store.Backup {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := f.store.BackupByID(context.Background(), f.server.ID, id)
		if err != nil {
			f.t.Fatal(err)
		}
		if b.Status != store.BackupCreating {
			return b
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("backup %s is still creating", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// completedBackup makes a backup through the API and waits for it.
func (f *fixture) completedBackup(name string) *store.Backup {
	f.t.Helper()
	v := f.createBackup(roleOwner, map[string]any{"name": name})
	b := f.settled(v.ID)
	if b.Status != store.BackupCompleted {
		f.t.Fatalf("backup %s: %s (%s)", name, b.Status, b.Error)
	}
	return b
}

// auditActions counts the server's audit entries as action/outcome.
func (f *fixture) auditActions() map[string]int {
	f.t.Helper()
	entries, err := f.store.ListAudit(context.Background(), store.AuditFilter{ServerID: f.server.ID, Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		out[e.Action+"/"+e.Outcome]++
	}
	return out
}

func TestBackupIsMadeAndRecorded(t *testing.T) {
	f := newFixture(t, "", func(c *config.Config) { c.Backups.Ignore = []string{"logs/", "*.tmp"} })
	node := newBackupNode("local", "s3")
	f.connectBackupAgent(node, agentOptions{})
	srv := httptest.NewServer(f.api)
	t.Cleanup(srv.Close)
	sock := f.openSocket(t, srv, roleSubWith)
	sock.next() // status

	v := f.createBackup(roleOwner, map[string]any{"name": " before the update "})
	if v.Name != "before the update" || v.Store != "local" {
		t.Fatalf("new backup %+v: want the trimmed name and the node's first store", v)
	}
	b := f.settled(v.ID)
	obj, ok := node.object("local", b.Key)
	if !ok || b.Status != store.BackupCompleted || b.Key != wire.BackupKeyPrefix(f.server.ID)+v.ID+".tar.zst" ||
		b.Size != int64(len(obj)) || b.SHA256 != sum(obj) || b.Files != 3 || b.Bytes != 3000 || b.Compression != "zstd" ||
		b.CompletedAt == nil || b.Error != "" || b.NodeID != f.node.ID || b.CreatedBy == nil || *b.CreatedBy != f.users[roleOwner].ID {
		t.Fatalf("completed backup recorded as %+v", b)
	}
	node.mu.Lock()
	req := node.backups[0]
	node.mu.Unlock()
	if req.BackupID != v.ID || req.Store != "local" || !slices.Equal(req.Ignore, []string{"logs/", "*.tmp"}) {
		t.Fatalf("the node was asked %+v", req)
	}
	// Whoever watches the server sees the progress and the outcome (in
	// either order: the node's events and its answers travel apart).
	seen := sock.untilAll(live.TypeBackupProgress, live.TypeBackupCompleted)
	if p := seen[live.TypeBackupProgress]; p["backup_id"] != v.ID || p["op"] != wire.OpBackup || p["bytes"] != 50.0 || p["total"] != 100.0 {
		t.Fatalf("backup_progress %v", p)
	}
	done := seen[live.TypeBackupCompleted]
	if bv := done["backup"].(map[string]any); bv["id"] != v.ID || bv["status"] != store.BackupCompleted || bv["sha256"] != b.SHA256 {
		t.Fatalf("backup_completed %v", done)
	}

	// The API shows it; the key and node stay the core's business.
	got := f.do(roleOwner, "GET", f.backupsURL("/"+v.ID), nil)
	if gv := backupView(t, got); gv.Status != store.BackupCompleted || gv.SHA256 != b.SHA256 || gv.CompletedAt == nil ||
		strings.Contains(string(got.Data), b.Key) {
		t.Fatalf("GET backup: %s", got.Data)
	}

	// A named store is used; an unknown one is refused before anything
	// is recorded; an empty body takes the time as the name.
	s3 := f.createBackup(roleOwner, map[string]any{"store": "s3"})
	if s3.Store != "s3" || !strings.HasSuffix(s3.Name, " UTC") {
		t.Fatalf("backup into s3: %+v", s3)
	}
	f.settled(s3.ID)
	if got := f.do(roleOwner, "POST", f.backupsURL(""), map[string]any{"store": "tape"}); got.Status != http.StatusBadRequest ||
		got.Error.Code != "bad_store" || !strings.Contains(got.Error.Message, "local, s3") {
		t.Fatalf("unknown store: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleOwner, "POST", f.backupsURL(""), map[string]any{"name": "a\nb"}); got.Status != http.StatusUnprocessableEntity || got.Error.Field != "name" {
		t.Fatalf("bad name: %d %s", got.Status, got.Body)
	}
	list := f.do(roleOwner, "GET", f.backupsURL(""), nil)
	var views []backups.View
	if err := json.Unmarshal(list.Data, &views); err != nil || len(views) != 2 || views[0].ID != s3.ID || views[1].ID != v.ID {
		t.Fatalf("list (newest first): %s", list.Body)
	}
	if a := f.auditActions(); a["server.backup.create/success"] != 2 || a["server.backup.create/failure"] != 2 {
		t.Fatalf("audit %v", a)
	}
}

// untilRaw reads until a message of type typ and returns it decoded
// loosely.
func (s *socket) untilRaw(typ string) map[string]any {
	s.t.Helper()
	return s.untilAll(typ)[typ]
}

// untilAll reads until it has seen a message of each type, in any order,
// and returns the first of each decoded loosely.
func (s *socket) untilAll(types ...string) map[string]map[string]any {
	s.t.Helper()
	seen := map[string]map[string]any{}
	for len(seen) < len(types) {
		_ = s.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := s.ws.ReadMessage()
		if err != nil {
			s.t.Fatalf("read: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			s.t.Fatalf("message %s: %v", b, err)
		}
		typ, _ := m["type"].(string)
		if _, ok := seen[typ]; !ok && slices.Contains(types, typ) {
			seen[typ] = m
		}
	}
	return seen
}

func TestBackupFailureIsRecordedWithTheNodesReason(t *testing.T) {
	f := newFixture(t, "", nil)
	node := newBackupNode("local")
	node.fail = &wire.ErrorDetail{Code: wire.CodeRuntime, Message: "read world/region.mca: input/output error"}
	f.connectBackupAgent(node, agentOptions{})
	srv := httptest.NewServer(f.api)
	t.Cleanup(srv.Close)
	sock := f.openSocket(t, srv, roleOwner)
	sock.next() // status: the socket is registered

	v := f.createBackup(roleOwner, nil)
	b := f.settled(v.ID)
	if b.Status != store.BackupFailed || b.Error != node.fail.Message || b.CompletedAt == nil {
		t.Fatalf("failed backup recorded as %+v", b)
	}
	m := sock.untilRaw(live.TypeBackupFailed)
	if bv := m["backup"].(map[string]any); bv["error"] != node.fail.Message {
		t.Fatalf("backup_failed %v", m)
	}
	// A failed backup can be neither restored nor downloaded.
	for _, path := range []string{"/" + v.ID + "/restore", "/" + v.ID + "/download"} {
		method := "POST"
		if strings.HasSuffix(path, "download") {
			method = "GET"
		}
		if got := f.do(roleOwner, method, f.backupsURL(path), nil); got.Status != http.StatusConflict || got.Error.Code != "backup_state" {
			t.Fatalf("%s %s of a failed backup: %d %s", method, path, got.Status, got.Body)
		}
	}
}

func TestOneBackupOrRestoreAtATime(t *testing.T) {
	f := newFixture(t, "", nil)
	node := newBackupNode("local")
	f.connectBackupAgent(node, agentOptions{})
	done := f.completedBackup("first")

	gate := make(chan struct{})
	node.setGate(gate)
	v := f.createBackup(roleOwner, nil)
	waitFor(t, node.started, v.ID)
	if got := f.do(roleOwner, "POST", f.backupsURL(""), nil); got.Status != http.StatusConflict || got.Error.Code != "busy" {
		t.Fatalf("a second backup while one runs: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleOwner, "POST", f.backupsURL("/"+done.ID+"/restore"), nil); got.Status != http.StatusConflict || got.Error.Code != "busy" {
		t.Fatalf("a restore while a backup runs: %d %s", got.Status, got.Body)
	}
	// Nor a reinstall, which would rewrite the files being read.
	if got := f.do(roleOwner, "POST", "/api/servers/"+f.server.ID+"/reinstall", nil); got.Status != http.StatusConflict || got.Error.Code != "busy" {
		t.Fatalf("a reinstall while a backup runs: %d %s", got.Status, got.Body)
	}
	// A backup still being made cannot be deleted.
	if got := f.do(roleOwner, "DELETE", f.backupsURL("/"+v.ID), nil); got.Status != http.StatusConflict || got.Error.Code != "backup_state" {
		t.Fatalf("deleting a backup being made: %d %s", got.Status, got.Body)
	}
	// A backup of a server left running does not hold its power.
	if got := f.do(roleOwner, "POST", "/api/servers/"+f.server.ID+"/power", map[string]string{"action": "start"}); got.Status != http.StatusAccepted {
		t.Fatalf("start during a backup (stop_server off): %d %s", got.Status, got.Body)
	}
	close(gate)
	if b := f.settled(v.ID); b.Status != store.BackupCompleted {
		t.Fatalf("backup after the gate opened: %+v", b)
	}
	if got := f.do(roleOwner, "POST", f.backupsURL(""), nil); got.Status != http.StatusAccepted {
		t.Fatalf("a backup after the last one ended: %d %s", got.Status, got.Body)
	}
}

func TestBackupLimitRotatesTheOldestUnlocked(t *testing.T) {
	f := newFixture(t, "", func(c *config.Config) { n := 2; c.Backups.Limit = &n })
	node := newBackupNode("local")
	f.connectBackupAgent(node, agentOptions{})
	ctx := context.Background()

	b1, b2 := f.completedBackup("one"), f.completedBackup("two")
	broken := &store.Backup{ServerID: f.server.ID, NodeID: f.node.ID, Store: "local", Key: wire.BackupKeyPrefix(f.server.ID) + "x",
		Name: "broken", Status: store.BackupFailed, Error: "disk full"}
	if err := f.store.CreateBackup(ctx, broken); err != nil {
		t.Fatal(err)
	}
	// At the limit (the failed one does not count): the oldest goes,
	// object first.
	b3 := f.completedBackup("three")
	if _, ok := node.object("local", b1.Key); ok {
		t.Fatal("the rotated backup's object is still in the store")
	}
	list, _ := f.store.ListBackups(ctx, f.server.ID)
	if len(list) != 2 || list[0].ID != b3.ID || list[1].ID != b2.ID {
		t.Fatalf("after rotation: %v", backupNames(list))
	}
	if _, ok := node.object("local", b2.Key); !ok {
		t.Fatal("a backup within the limit lost its object")
	}

	// Locked backups are never rotated nor deleted.
	for _, id := range []string{b2.ID, b3.ID} {
		if got := f.do(roleOwner, "PATCH", f.backupsURL("/"+id), map[string]any{"locked": true}); got.Status != http.StatusOK || !backupView(t, got).Locked {
			t.Fatalf("lock: %d %s", got.Status, got.Body)
		}
	}
	got := f.do(roleOwner, "POST", f.backupsURL(""), nil)
	if got.Status != http.StatusConflict || got.Error.Code != "backup_limit" || !strings.Contains(got.Error.Message, "locked") {
		t.Fatalf("a backup beyond the limit, all locked: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleOwner, "DELETE", f.backupsURL("/"+b2.ID), nil); got.Status != http.StatusConflict || got.Error.Code != "backup_locked" {
		t.Fatalf("deleting a locked backup: %d %s", got.Status, got.Body)
	}
	if _, ok := node.object("local", b2.Key); !ok {
		t.Fatal("a refused delete removed the object")
	}
	got = f.do(roleOwner, "PATCH", f.backupsURL("/"+b2.ID), map[string]any{"locked": false, "name": "two, renamed"})
	if v := backupView(t, got); v.Locked || v.Name != "two, renamed" {
		t.Fatalf("unlock and rename: %s", got.Body)
	}
	b4 := f.completedBackup("four")
	if list, _ := f.store.ListBackups(ctx, f.server.ID); len(list) != 2 || list[0].ID != b4.ID || list[1].ID != b3.ID {
		t.Fatalf("after rotating the unlocked one: %v", backupNames(list))
	}

	// Deleting removes the object, then the record.
	if got := f.do(roleOwner, "PATCH", f.backupsURL("/"+b3.ID), map[string]any{"locked": false}); got.Status != http.StatusOK {
		t.Fatal(got.Status)
	}
	if got := f.do(roleOwner, "DELETE", f.backupsURL("/"+b3.ID), nil); got.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", got.Status, got.Body)
	}
	if _, ok := node.object("local", b3.Key); ok {
		t.Fatal("a deleted backup's object is still in the store")
	}
	if got := f.do(roleOwner, "GET", f.backupsURL("/"+b3.ID), nil); got.Status != http.StatusNotFound {
		t.Fatalf("a deleted backup: %d", got.Status)
	}

	// An administrator sets a server's own limit; 0 turns backups off;
	// owners cannot change it.
	if got := f.do(roleOwner, "PATCH", "/api/servers/"+f.server.ID, map[string]any{"backup_limit": 50}); got.Status != http.StatusUnprocessableEntity || got.Error.Field != "backup_limit" {
		t.Fatalf("owner raising the backup limit: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleAdmin, "PATCH", "/api/servers/"+f.server.ID, map[string]any{"backup_limit": 0}); got.Status != http.StatusOK || !strings.Contains(string(got.Data), `"backup_limit":0`) {
		t.Fatalf("admin turning backups off: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleOwner, "POST", f.backupsURL(""), nil); got.Status != http.StatusConflict || got.Error.Code != "backups_disabled" {
		t.Fatalf("a backup with backups off: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleAdmin, "PATCH", "/api/servers/"+f.server.ID, map[string]any{"backup_limit": -1}); got.Status != http.StatusOK || !strings.Contains(string(got.Data), `"backup_limit":null`) {
		t.Fatalf("admin returning to the default: %d %s", got.Status, got.Body)
	}
	if a := f.auditActions(); a["server.backup.update/success"] != 4 || a["server.backup.delete/success"] != 1 ||
		a["server.backup.delete/failure"] != 1 || a["server.backup.create/failure"] != 2 {
		t.Fatalf("audit %v", a)
	}
}

func backupNames(bs []*store.Backup) []string {
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.Name+"/"+b.Status)
	}
	return out
}

func TestRestoreNeedsAStoppedServerAndHoldsItStopped(t *testing.T) {
	f := newFixture(t, "", nil)
	node := newBackupNode("local")
	f.connectBackupAgent(node, agentOptions{})
	srv := httptest.NewServer(f.api)
	t.Cleanup(srv.Close)
	b := f.completedBackup("nightly")
	power := func(action string) response {
		return f.do(roleOwner, "POST", "/api/servers/"+f.server.ID+"/power", map[string]string{"action": action})
	}

	if got := power("start"); got.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", got.Status, got.Body)
	}
	f.waitState(store.StateRunning)
	if got := f.do(roleOwner, "POST", f.backupsURL("/"+b.ID+"/restore"), nil); got.Status != http.StatusConflict || got.Error.Code != "state_conflict" {
		t.Fatalf("restore into a running server: %d %s", got.Status, got.Body)
	}
	if got := power("stop"); got.Status != http.StatusAccepted {
		t.Fatalf("stop: %d %s", got.Status, got.Body)
	}
	f.waitState(store.StateStopped)

	sock := f.openSocket(t, srv, roleOwner)
	sock.next() // status: the socket is registered
	gate := make(chan struct{})
	node.setGate(gate)
	got := f.do(roleOwner, "POST", f.backupsURL("/"+b.ID+"/restore"), map[string]bool{"wipe": true})
	if got.Status != http.StatusAccepted || backupView(t, got).ID != b.ID {
		t.Fatalf("restore: %d %s", got.Status, got.Body)
	}
	waitFor(t, node.started, b.Key)
	// While it runs the server may not start, by either door.
	if got := power("start"); got.Status != http.StatusConflict || got.Error.Code != "busy" {
		t.Fatalf("start during a restore: %d %s", got.Status, got.Body)
	}
	sock.send(map[string]string{"type": "set_state", "state": "start"})
	if m := sock.until(live.TypeError); m.Request != "set_state" || m.Code != "busy" {
		t.Fatalf("socket start during a restore: %+v", m)
	}
	close(gate)
	if m := sock.untilRaw(live.TypeRestoreCompleted); m["backup"].(map[string]any)["id"] != b.ID {
		t.Fatalf("restore_completed %v", m)
	}
	node.mu.Lock()
	req := node.restore[0]
	node.mu.Unlock()
	if req.Store != "local" || req.Key != b.Key || req.SHA256 != b.SHA256 || !req.Wipe {
		t.Fatalf("the node was asked to restore %+v", req)
	}
	waitFor(t, node.ended, b.Key)
	deadline := time.Now().Add(10 * time.Second)
	for f.api.Backups.Busy(f.server.ID) {
		if time.Now().After(deadline) {
			t.Fatal("the restore's slot was never freed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := power("start"); got.Status != http.StatusAccepted {
		t.Fatalf("start after the restore: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleOwner, "POST", f.backupsURL("/"+store.NewID()+"/restore"), nil); got.Status != http.StatusNotFound {
		t.Fatalf("restore of an unknown backup: %d %s", got.Status, got.Body)
	}

	// A restore the node refuses (the object does not check out) is
	// reported with its reason.
	f.waitState(store.StateRunning)
	if got := power("stop"); got.Status != http.StatusAccepted {
		t.Fatal(got.Status)
	}
	f.waitState(store.StateStopped)
	node.mu.Lock()
	node.objects[objectID("local", b.Key)] = []byte("corrupted")
	node.mu.Unlock()
	if got := f.do(roleOwner, "POST", f.backupsURL("/"+b.ID+"/restore"), nil); got.Status != http.StatusAccepted {
		t.Fatalf("restore: %d %s", got.Status, got.Body)
	}
	if m := sock.untilRaw(live.TypeRestoreFailed); !strings.Contains(m["error"].(string), "sha256") {
		t.Fatalf("restore_failed %v", m)
	}
	if a := f.auditActions(); a["server.backup.restore/success"] != 2 || a["server.backup.restore/failure"] != 2 || a["server.power.start/failure"] != 2 {
		t.Fatalf("audit %v", a)
	}
}

// waitState waits for the fixture server's recorded state.
func (f *fixture) waitState(want string) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv, err := f.store.ServerByID(context.Background(), f.server.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		if srv.State == want {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("server is %s, want %s", srv.State, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBackupOfATransferredServerStreamsBetweenNodes(t *testing.T) {
	f := newFixture(t, "", nil)
	ctx := context.Background()
	old := newBackupNode("local")
	f.connectBackupAgent(old, agentOptions{})
	b := f.completedBackup("before the move")
	obj, _ := old.object("local", b.Key)

	// The server moves to another node; its backup stays where it was.
	other := &store.Node{Name: "n2", FQDN: "n2.example.com", MemoryMB: 4096, DiskMB: 10000}
	if err := f.store.CreateNode(ctx, other); err != nil {
		t.Fatal(err)
	}
	f.server.NodeID = other.ID
	if err := f.store.UpdateServer(ctx, f.server, "node_id"); err != nil {
		t.Fatal(err)
	}
	target := newBackupNode("local")
	f.connectBackupAgent(target, agentOptions{node: other})
	srv := httptest.NewServer(f.api)
	t.Cleanup(srv.Close)
	sock := f.openSocket(t, srv, roleOwner)
	sock.next() // status: the socket is registered

	if got := f.do(roleOwner, "POST", f.backupsURL("/"+b.ID+"/restore"), map[string]bool{"wipe": true}); got.Status != http.StatusAccepted {
		t.Fatalf("restore: %d %s", got.Status, got.Body)
	}
	if m := sock.untilRaw(live.TypeRestoreCompleted); m["backup"].(map[string]any)["id"] != b.ID {
		t.Fatalf("restore_completed %v", m)
	}
	calls, _ := old.snapshot()
	if !slices.Contains(calls, "GET "+wire.BackupObjectSuffix+" local "+b.Key) {
		t.Fatalf("the holding node was asked %q, want the object", calls)
	}
	target.mu.Lock()
	puts, restores := slices.Clone(target.puts), len(target.restore)
	target.mu.Unlock()
	if len(puts) != 1 || !bytes.Equal(puts[0].body, obj) || puts[0].sha256 != b.SHA256 || !puts[0].wipe || puts[0].serverID != f.server.ID || restores != 0 {
		t.Fatalf("the server's node got %d archives (%+v) and %d restores", len(puts), puts, restores)
	}

	// Downloads come from the holding node too.
	got := f.do(roleOwner, "GET", f.backupsURL("/"+b.ID+"/download"), nil)
	if got.Status != http.StatusOK || !bytes.Equal(got.Body, obj) {
		t.Fatalf("download after the move: %d %q", got.Status, got.Body)
	}
	// New backups go to the server's node.
	v := f.createBackup(roleOwner, nil)
	if nb := f.settled(v.ID); nb.NodeID != other.ID || nb.Status != store.BackupCompleted {
		t.Fatalf("backup after the move: %+v", nb)
	}
}

func TestBackupDownloadStreams(t *testing.T) {
	f := newFixture(t, "", nil)
	node := newBackupNode("local")
	f.connectBackupAgent(node, agentOptions{})
	ctx := context.Background()
	f.server.Name = "Survival #1 (EU/west)"
	if err := f.store.UpdateServer(ctx, f.server, "name"); err != nil {
		t.Fatal(err)
	}
	b := f.completedBackup("nightly")
	obj, _ := node.object("local", b.Key)

	got := f.do(roleOwner, "GET", f.backupsURL("/"+b.ID+"/download"), nil)
	wantName := "Survival-1-EU-west-" + b.CreatedAt.UTC().Format("20060102-150405") + ".tar.zst"
	if got.Status != http.StatusOK || !bytes.Equal(got.Body, obj) || got.Header.Get("Content-Length") != strconv.Itoa(len(obj)) ||
		got.Header.Get("Content-Type") != "application/zstd" || got.Header.Get("Content-Disposition") != `attachment; filename=`+wantName {
		t.Fatalf("download: %d %v %q", got.Status, got.Header, got.Body)
	}
	entries, _ := f.store.ListAudit(ctx, store.AuditFilter{Action: "server.backup.download"})
	if len(entries) != 1 || entries[0].Outcome != store.OutcomeSuccess || entries[0].Metadata["bytes"] != float64(len(obj)) || entries[0].Metadata["backup_id"] != b.ID {
		t.Fatalf("download audited as %+v", entries)
	}

	// An object that is not the one recorded is not served.
	node.mu.Lock()
	node.objects[objectID("local", b.Key)] = append(obj, "tampered"...)
	node.mu.Unlock()
	if got := f.do(roleOwner, "GET", f.backupsURL("/"+b.ID+"/download"), nil); got.Status != http.StatusBadGateway || got.Error.Code != "backup_damaged" {
		t.Fatalf("download of a changed object: %d %s", got.Status, got.Body)
	}
}

func TestInterruptedBackupsAreFailedWhenTheNodeReconnects(t *testing.T) {
	f := newFixture(t, "", nil)
	ctx := context.Background()
	// The core recorded a backup; then the node's agent restarted.
	stale := &store.Backup{ServerID: f.server.ID, NodeID: f.node.ID, Store: "local", Name: "interrupted", Status: store.BackupCreating}
	stale.ID = store.NewID()
	stale.Key = wire.BackupKeyPrefix(f.server.ID) + stale.ID
	if err := f.store.CreateBackup(ctx, stale); err != nil {
		t.Fatal(err)
	}
	node := newBackupNode("local")
	node.objects[objectID("local", stale.Key)] = []byte("partial")
	f.connectBackupAgent(node, agentOptions{})
	b := f.settled(stale.ID)
	if b.Status != store.BackupFailed || !strings.Contains(b.Error, "restarted or lost its connection") {
		t.Fatalf("interrupted backup recorded as %+v", b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := node.object("local", stale.Key); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("what the interrupted backup left was not deleted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// It no longer counts, and a failed backup goes without asking the node.
	if got := f.do(roleOwner, "DELETE", f.backupsURL("/"+b.ID), nil); got.Status != http.StatusNoContent {
		t.Fatalf("delete a failed backup: %d %s", got.Status, got.Body)
	}
}

func TestDeletingAServerDeletesItsBackups(t *testing.T) {
	f := newFixture(t, "", nil)
	node := newBackupNode("local")
	f.connectBackupAgent(node, agentOptions{})
	ctx := context.Background()
	b1 := f.completedBackup("one")
	if got := f.do(roleOwner, "PATCH", f.backupsURL("/"+b1.ID), map[string]any{"locked": true}); got.Status != http.StatusOK {
		t.Fatal(got.Status)
	}
	b2 := f.completedBackup("two")
	// One more is being made when the server is deleted: it is abandoned.
	gate := make(chan struct{})
	defer close(gate)
	node.setGate(gate)
	running := f.createBackup(roleOwner, nil)
	waitFor(t, node.started, running.ID)

	if got := f.do(roleOwner, "DELETE", "/api/servers/"+f.server.ID, nil); got.Status != http.StatusNoContent {
		t.Fatalf("delete server: %d %s", got.Status, got.Body)
	}
	waitFor(t, node.ended, "abandoned")
	calls, objects := node.snapshot()
	for _, b := range []*store.Backup{b1, b2} {
		if !slices.Contains(calls, "DELETE "+wire.BackupObjectSuffix+" local "+b.Key) {
			t.Fatalf("the object of %s was not deleted: %q", b.Name, calls)
		}
	}
	if objects != 0 {
		t.Fatalf("%d objects left in the store", objects)
	}
	if list, _ := f.store.ListBackups(ctx, f.server.ID); len(list) != 0 {
		t.Fatalf("backups of a deleted server: %v", backupNames(list))
	}
}

// Listing is for those who may do something with backups; the candidate
// subuser holds server.read only.
func TestBackupListNeedsABackupPermission(t *testing.T) {
	f := newFixture(t, "", nil)
	sess, err := f.api.Auth.StartSession(context.Background(), f.candidate, store.NewID(), auth.Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	got := send(t, f.api, "GET", f.backupsURL(""), sess.Token, nil, nil)
	if got.Status != http.StatusForbidden || !strings.Contains(got.Error.Message, "backup.") {
		t.Fatalf("listing without a backup permission: %d %s", got.Status, got.Body)
	}
	if got := f.do(roleOwner, "GET", f.backupsURL(""), nil); got.Status != http.StatusOK || string(got.Data) != "[]" {
		t.Fatalf("an empty list: %d %s", got.Status, got.Body)
	}
	// No agent is connected: nothing is recorded.
	if got := f.do(roleOwner, "POST", f.backupsURL(""), nil); got.Status != http.StatusServiceUnavailable || got.Error.Code != "node_offline" {
		t.Fatalf("a backup on an offline node: %d %s", got.Status, got.Body)
	}
	if list, _ := f.store.ListBackups(context.Background(), f.server.ID); len(list) != 0 {
		t.Fatalf("a refused backup was recorded: %v", backupNames(list))
	}
}

func TestShutdownFailsTheBackupsUnderWay(t *testing.T) {
	f := newFixture(t, "", nil)
	node := newBackupNode("local")
	f.connectBackupAgent(node, agentOptions{})
	gate := make(chan struct{})
	defer close(gate)
	node.setGate(gate)
	v := f.createBackup(roleOwner, nil)
	waitFor(t, node.started, v.ID)
	f.api.Backups.Close()
	waitFor(t, node.ended, "abandoned")
	if b := f.settled(v.ID); b.Status != store.BackupFailed || !strings.Contains(b.Error, "shutting down") {
		t.Fatalf("a backup abandoned at shutdown: %+v", b)
	}
	if got := f.do(roleOwner, "POST", f.backupsURL(""), nil); got.Status != http.StatusServiceUnavailable || got.Error.Code != "shutting_down" {
		t.Fatalf("a backup after shutdown: %d %s", got.Status, got.Body)
	}
}

func TestStopServerBackupStopsAndStartsTheServer(t *testing.T) {
	f := newFixture(t, "", func(c *config.Config) { c.Backups.StopServer = true })
	node := newBackupNode("local")
	f.connectBackupAgent(node, agentOptions{})
	power := func(action string) response {
		return f.do(roleOwner, "POST", "/api/servers/"+f.server.ID+"/power", map[string]string{"action": action})
	}
	if got := power("start"); got.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", got.Status, got.Body)
	}
	f.waitState(store.StateRunning)

	gate := make(chan struct{})
	node.setGate(gate)
	v := f.createBackup(roleOwner, nil)
	waitFor(t, node.started, v.ID)
	// The node makes the backup of a stopped server, which may not start
	// until it is done.
	if srv, _ := f.store.ServerByID(context.Background(), f.server.ID); srv.State != store.StateStopped {
		t.Fatalf("server is %s while its backup is made", srv.State)
	}
	if got := power("start"); got.Status != http.StatusConflict || got.Error.Code != "busy" {
		t.Fatalf("start during a stop_server backup: %d %s", got.Status, got.Body)
	}
	close(gate)
	if b := f.settled(v.ID); b.Status != store.BackupCompleted {
		t.Fatalf("backup %+v", b)
	}
	f.waitState(store.StateRunning)
	var actions []string
	for _, c := range node.fake.Calls() {
		if strings.Contains(c, "/power ") {
			actions = append(actions, c[strings.LastIndex(c, " ")+1:])
		}
	}
	if !slices.Equal(actions, []string{"start", "stop", "start"}) {
		t.Fatalf("power actions on the node: %q", actions)
	}
}
