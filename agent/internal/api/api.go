// Package api is the agent's internal HTTP API, which the core calls
// through the tunnel (each yamux stream it opens carries one HTTP/1.1
// connection). The routes are those documented in catalyst.dev/sdk/wire
// (agentapi.go); errors use wire.ErrorBody with the wire.Code* codes.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"catalyst.dev/agent/internal/backups"
	"catalyst.dev/agent/internal/files"
	"catalyst.dev/agent/internal/metrics"
	"catalyst.dev/agent/internal/servers"
	"catalyst.dev/sdk/plugin"
	"catalyst.dev/sdk/wire"
)

// Servers is what the API asks of the server manager (*servers.Manager).
type Servers interface {
	States(ctx context.Context) ([]wire.ServerState, error)
	State(ctx context.Context, id string) (wire.ServerState, error)
	Configure(ctx context.Context, cfg wire.ServerConfig) error
	Delete(ctx context.Context, id string) error
	Install(ctx context.Context, req wire.InstallRequest) error
	Power(ctx context.Context, id, action string) error
	Command(ctx context.Context, id, line string) error
	Logs(id string, lines int) ([]string, error)
}

// ImageImporter stores the images of an OCI image-layout or docker-save
// archive and names them (*containerd.Runtime).
type ImageImporter interface {
	Import(ctx context.Context, archive io.Reader) ([]string, error)
}

var _ Servers = (*servers.Manager)(nil)

// maxJSONBytes bounds a JSON request body.
const maxJSONBytes = 1 << 20

// errBadRequest is a request the API cannot read.
var errBadRequest = errors.New("bad request")

// SFTPSessions closes SFTP sessions (*sftp.Server).
type SFTPSessions interface {
	Revoke(userID, serverID string) int
}

// Deps is what the API serves. SFTP may be nil (SFTP turned off): a revoke
// then closes nothing.
type Deps struct {
	Servers Servers
	Images  ImageImporter
	Files   Files
	Backups Backups
	SFTP    SFTPSessions
	Log     hclog.Logger
}

type handler struct {
	servers Servers
	images  ImageImporter
	files   Files
	backups Backups
	sftp    SFTPSessions
	log     hclog.Logger
}

// New returns the API's handler.
func New(d Deps) http.Handler {
	h := &handler{servers: d.Servers, images: d.Images, files: d.Files, backups: d.Backups, sftp: d.SFTP, log: d.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+wire.AgentPathServers, h.list)
	mux.HandleFunc("PUT "+wire.AgentPathServers+"/{id}", h.configure)
	mux.HandleFunc("GET "+wire.AgentPathServers+"/{id}", h.get)
	mux.HandleFunc("DELETE "+wire.AgentPathServers+"/{id}", h.delete)
	mux.HandleFunc("POST "+wire.AgentPathServers+"/{id}/install", h.install)
	mux.HandleFunc("POST "+wire.AgentPathServers+"/{id}/power", h.power)
	mux.HandleFunc("POST "+wire.AgentPathServers+"/{id}/command", h.command)
	mux.HandleFunc("GET "+wire.AgentPathServers+"/{id}/logs", h.logs)
	mux.HandleFunc("POST "+wire.AgentPathImageImport, h.importImage)
	h.fileRoutes(mux)
	h.backupRoutes(mux)
	mux.HandleFunc("POST "+wire.AgentPathSFTPRevoke, h.revokeSFTP)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, fmt.Errorf("%w: no route %s %s", servers.ErrNotFound, r.Method, r.URL.Path))
	})
	return failWritesOnHangUp(mux)
}

// failWritesOnHangUp makes a response write fail once the core has hung
// up. A tunnel stream's peer that stops reading leaves a write waiting on
// flow control forever: a download or an archive stream would hang, and
// hold its server (an export keeps it stopped) until the agent restarts.
// The request's context ends when the peer goes away; a past write
// deadline then fails the waiting write. Unhooked before the handler
// returns, so a connection that serves another request is unaffected.
func failWritesOnHangUp(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		stop := context.AfterFunc(r.Context(), func() { _ = rc.SetWriteDeadline(time.Now()) })
		defer stop()
		next.ServeHTTP(w, r)
	})
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	states, err := h.servers.States(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, states)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	st, err := h.servers.State(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *handler) logs(w http.ResponseWriter, r *http.Request) {
	n := 100
	if v := r.URL.Query().Get("lines"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > wire.MaxLogLines {
			h.fail(w, r, fmt.Errorf("%w: lines must be a number from 1 to %d", errBadRequest, wire.MaxLogLines))
			return
		}
	}
	lines, err := h.servers.Logs(r.PathValue("id"), n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.ConsoleLog{Lines: lines})
}

func (h *handler) configure(w http.ResponseWriter, r *http.Request) {
	var cfg wire.ServerConfig
	if err := decode(w, r, &cfg); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := sameID(r, &cfg); err != nil {
		h.fail(w, r, err)
		return
	}
	h.done(w, r, http.StatusNoContent, h.servers.Configure(r.Context(), cfg))
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	h.done(w, r, http.StatusNoContent, h.servers.Delete(r.Context(), r.PathValue("id")))
}

func (h *handler) install(w http.ResponseWriter, r *http.Request) {
	var req wire.InstallRequest
	if err := decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := sameID(r, &req.Config); err != nil {
		h.fail(w, r, err)
		return
	}
	h.done(w, r, http.StatusAccepted, h.servers.Install(r.Context(), req))
}

func (h *handler) power(w http.ResponseWriter, r *http.Request) {
	var req wire.PowerRequest
	if err := decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusNoContent
	if req.Action == wire.PowerStop || req.Action == wire.PowerRestart {
		status = http.StatusAccepted // they go on in the background
	}
	h.done(w, r, status, h.servers.Power(r.Context(), r.PathValue("id"), req.Action))
}

func (h *handler) command(w http.ResponseWriter, r *http.Request) {
	var req wire.CommandRequest
	if err := decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	h.done(w, r, http.StatusNoContent, h.servers.Command(r.Context(), r.PathValue("id"), req.Command))
}

// importImage streams the archive straight into the runtime: images are
// large, and the runtime's content store is where they end up anyway.
func (h *handler) importImage(w http.ResponseWriter, r *http.Request) {
	names, err := h.images.Import(r.Context(), r.Body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("imported images", "images", names)
	writeJSON(w, http.StatusOK, wire.ImportResult{Images: names})
}

// revokeSFTP closes the SFTP sessions the core says no longer have
// access: a user's (on one server or all), or every session on a server.
func (h *handler) revokeSFTP(w http.ResponseWriter, r *http.Request) {
	var req wire.SFTPRevoke
	if err := decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.UserID == "" && req.ServerID == "" {
		h.fail(w, r, fmt.Errorf("%w: a revoke names a user, a server or both", errBadRequest))
		return
	}
	closed := 0
	if h.sftp != nil {
		closed = h.sftp.Revoke(req.UserID, req.ServerID)
	}
	if closed > 0 {
		h.log.Info("SFTP sessions closed at the core's request", "user", req.UserID, "server", req.ServerID, "sessions", closed)
	}
	writeJSON(w, http.StatusOK, wire.SFTPRevoked{Closed: closed})
}

// sameID fills in the config's ID from the path, or refuses a different one.
func sameID(r *http.Request, cfg *wire.ServerConfig) error {
	id := r.PathValue("id")
	switch cfg.ID {
	case "":
		cfg.ID = id
	case id:
	default:
		return fmt.Errorf("%w: the config's id %q is not the path's %q", errBadRequest, cfg.ID, id)
	}
	return nil
}

// decode reads one JSON value of at most maxJSONBytes, refusing unknown
// fields (a newer core's request this agent would half understand).
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return fmt.Errorf("%w: body: %v", errBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: body: more than one JSON value", errBadRequest)
	}
	return nil
}

func (h *handler) done(w http.ResponseWriter, r *http.Request, status int, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(status)
}

// fail answers err in the error envelope. This is the one place errors
// become status codes.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := http.StatusInternalServerError, wire.CodeRuntime
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, backups.ErrChecksum), errors.Is(err, backups.ErrCorrupt):
		status, code = http.StatusUnprocessableEntity, wire.CodeChecksum
	case errors.Is(err, errBadRequest), errors.Is(err, servers.ErrInvalid), errors.Is(err, files.ErrInvalid),
		errors.Is(err, backups.ErrInvalid), errors.Is(err, plugin.ErrInvalidArgument):
		status, code = http.StatusBadRequest, wire.CodeInvalid
	case errors.Is(err, backups.ErrNoStore):
		status, code = http.StatusNotFound, wire.CodeNoStore
	case errors.Is(err, backups.ErrBusy):
		status, code = http.StatusTooManyRequests, wire.CodeBusy
	case errors.As(err, &tooLarge), errors.Is(err, files.ErrTooLarge):
		status, code = http.StatusRequestEntityTooLarge, wire.CodeTooLarge
	case errors.Is(err, files.ErrDenied):
		status, code = http.StatusForbidden, wire.CodeDenied
	case errors.Is(err, metrics.ErrOverQuota):
		status, code = http.StatusInsufficientStorage, wire.CodeOverQuota
	case errors.Is(err, files.ErrBusy):
		status, code = http.StatusTooManyRequests, wire.CodeBusy
	case errors.Is(err, servers.ErrNotFound), errors.Is(err, files.ErrNotFound), errors.Is(err, fs.ErrNotExist), errors.Is(err, plugin.ErrNotFound):
		status, code = http.StatusNotFound, wire.CodeNotFound
	case errors.Is(err, fs.ErrExist):
		status, code = http.StatusConflict, wire.CodeExists
	case errors.Is(err, servers.ErrNotRunning):
		status, code = http.StatusConflict, wire.CodeNotRunning
	case errors.Is(err, servers.ErrConflict):
		status, code = http.StatusConflict, wire.CodeConflict
	}
	if status == http.StatusInternalServerError {
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeJSON(w, status, wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: message(err)}})
}

// message is err's text without the host paths an *fs.PathError that
// escaped the files package would carry (the agent's data directory is
// none of the client's business); the files package names volume paths
// as the client wrote them.
func message(err error) string {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) && filepath.IsAbs(pe.Path) {
		msg = strings.ReplaceAll(msg, pe.Path, filepath.Base(pe.Path))
	}
	return msg
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
