package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"

	"catalyst.dev/agent/internal/backups"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/wire"
)

// Backups is what the API asks of the backup service (*backups.Service).
type Backups interface {
	Backup(ctx context.Context, id string, req wire.BackupRequest) (wire.BackupResult, error)
	Restore(ctx context.Context, id string, req wire.RestoreRequest) (wire.ArchiveResult, error)
	Object(ctx context.Context, id, store, key string) (io.ReadCloser, plugin.ObjectInfo, error)
	DeleteObject(ctx context.Context, id, store, key string) error
	Export(ctx context.Context, id string, w io.Writer) (wire.ArchiveResult, error)
	Import(ctx context.Context, id string, r io.Reader, opts backups.ImportOptions) (wire.ArchiveResult, error)
}

var _ Backups = (*backups.Service)(nil)

// backupRoutes adds the routes of sdk/wire/backups.go.
func (h *handler) backupRoutes(mux *http.ServeMux) {
	p := wire.AgentPathServers + "/{id}"
	mux.HandleFunc("POST "+p+wire.BackupsSuffix, h.backup)
	mux.HandleFunc("POST "+p+wire.BackupRestoreSuffix, h.restoreBackup)
	mux.HandleFunc("GET "+p+wire.BackupObjectSuffix, h.backupObject)
	mux.HandleFunc("DELETE "+p+wire.BackupObjectSuffix, h.deleteBackupObject)
	mux.HandleFunc("GET "+p+wire.ArchiveSuffix, h.exportArchive)
	mux.HandleFunc("POST "+p+wire.ArchiveSuffix, h.importArchive)
}

func (h *handler) backup(w http.ResponseWriter, r *http.Request) {
	var req wire.BackupRequest
	if err := decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.backups.Backup(r.Context(), r.PathValue("id"), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *handler) restoreBackup(w http.ResponseWriter, r *http.Request) {
	var req wire.RestoreRequest
	if err := decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.backups.Restore(r.Context(), r.PathValue("id"), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *handler) backupObject(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rc, info, err := h.backups.Object(r.Context(), r.PathValue("id"), q.Get("store"), q.Get("key"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	if !info.Modified.IsZero() {
		w.Header().Set("Last-Modified", info.Modified.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		// The status is sent: the short body is how the core learns.
		h.log.Warn("backup download cut short", "server", r.PathValue("id"), "key", q.Get("key"), "error", err)
	}
}

func (h *handler) deleteBackupObject(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	h.done(w, r, http.StatusNoContent, h.backups.DeleteObject(r.Context(), r.PathValue("id"), q.Get("store"), q.Get("key")))
}

// exportArchive streams the volume; its digest follows as a trailer, and
// a failure midway ends the stream without it (the chunked body is cut
// off, so the reader sees an error rather than a short archive).
func (h *handler) exportArchive(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Trailer", wire.ArchiveSHA256Trailer)
	w.Header().Set("Content-Type", "application/octet-stream")
	// An error before the first byte gets a proper answer: the status is
	// sent with the first byte written.
	sw := &startedWriter{w: w}
	res, err := h.backups.Export(r.Context(), r.PathValue("id"), sw)
	if err != nil {
		if !sw.started {
			h.fail(w, r, err)
			return
		}
		h.log.Warn("archive export failed midway", "server", r.PathValue("id"), "error", err)
		panic(http.ErrAbortHandler) // cut the stream: no trailer, no clean end
	}
	w.Header().Set(wire.ArchiveSHA256Trailer, res.SHA256)
}

// startedWriter notes whether anything was written (and so the status
// sent).
type startedWriter struct {
	w       io.Writer
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	s.started = true
	return s.w.Write(p)
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// importArchive restores the request body into the volume, against the
// digest in the query or, when absent, in the request's trailer (known to
// the sender only once it has streamed everything).
func (h *handler) importArchive(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	want := q.Get("sha256")
	if want != "" && !hexSHA256.MatchString(want) {
		h.fail(w, r, fmt.Errorf("%w: sha256 %q is not 64 lower-case hex digits", errBadRequest, want))
		return
	}
	wipe, err := strconv.ParseBool(q.Get("wipe"))
	if q.Get("wipe") == "" {
		wipe, err = false, nil
	}
	if err != nil {
		h.fail(w, r, fmt.Errorf("%w: wipe %q is not true or false", errBadRequest, q.Get("wipe")))
		return
	}
	verify := func(got string) error {
		expected := want
		if expected == "" {
			// The body has been read to its end: the trailer is in.
			expected = r.Trailer.Get(wire.ArchiveSHA256Trailer)
			if expected == "" {
				return fmt.Errorf("%w: no sha256 in the query nor in the %s trailer", errBadRequest, wire.ArchiveSHA256Trailer)
			}
		}
		if got != expected {
			return fmt.Errorf("%w: the archive's sha256 is %s, the sender's %s", backups.ErrChecksum, got, expected)
		}
		return nil
	}
	op := wire.OpImport
	if q.Get("backup_id") != "" {
		op = wire.OpRestore
	}
	res, err := h.backups.Import(r.Context(), r.PathValue("id"), r.Body, backups.ImportOptions{Verify: verify, Wipe: wipe, BackupID: q.Get("backup_id"), Op: op})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
