package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"catalyst.dev/agent/internal/files"
	"catalyst.dev/sdk/wire"
)

// Files is what the API asks of the file service (*files.Service).
type Files interface {
	Open(id string) (*files.Volume, error)
	Pull(ctx context.Context, v *files.Volume, req wire.PullRequest) (wire.FileInfo, error)
	MaxUploadBytes() int64
}

var _ Files = (*files.Service)(nil)

// fileRoutes adds the routes of sdk/wire/files.go.
func (h *handler) fileRoutes(mux *http.ServeMux) {
	p := wire.AgentPathServers + "/{id}" + wire.FilesSuffix
	mux.HandleFunc("GET "+p, h.volume(h.filesList))
	mux.HandleFunc("GET "+p+"/stat", h.volume(h.filesStat))
	mux.HandleFunc("GET "+p+"/content", h.volume(h.filesRead))
	mux.HandleFunc("PUT "+p+"/content", h.volume(h.filesWrite))
	mux.HandleFunc("POST "+p+"/upload", h.volume(h.filesUpload))
	mux.HandleFunc("GET "+p+"/download", h.volume(h.filesDownload))
	mux.HandleFunc("POST "+p+"/mkdir", h.volume(h.filesMkdir))
	mux.HandleFunc("POST "+p+"/rename", h.volume(h.filesRename))
	mux.HandleFunc("POST "+p+"/copy", h.volume(h.filesCopy))
	mux.HandleFunc("POST "+p+"/delete", h.volume(h.filesDelete))
	mux.HandleFunc("POST "+p+"/chmod", h.volume(h.filesChmod))
	mux.HandleFunc("POST "+p+"/compress", h.volume(h.filesCompress))
	mux.HandleFunc("POST "+p+"/decompress", h.volume(h.filesDecompress))
	mux.HandleFunc("POST "+p+"/pull", h.volume(h.filesPull))
	mux.HandleFunc("GET "+p+"/search", h.volume(h.filesSearch))
}

// volumeHandler serves one file request on the server's open volume; it
// writes its answer itself and returns an error only before writing.
type volumeHandler func(w http.ResponseWriter, r *http.Request, v *files.Volume) error

// volume opens the request's server volume for the length of fn.
func (h *handler) volume(fn volumeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h.files.Open(r.PathValue("id"))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		defer v.Close()
		if err := fn(w, r, v); err != nil {
			h.fail(w, r, err)
		}
	}
}

// queryInt reads an optional integer query parameter.
func queryInt(r *http.Request, key string) (int, error) {
	s := r.URL.Query().Get(key)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q is not a number", errBadRequest, key, s)
	}
	return n, nil
}

func (h *handler) filesList(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	q := r.URL.Query()
	opts := files.ListOptions{Sort: q.Get("sort")}
	var err error
	if opts.Offset, err = queryInt(r, "offset"); err != nil {
		return err
	}
	if opts.Limit, err = queryInt(r, "limit"); err != nil {
		return err
	}
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		opts.Desc = true
	default:
		return fmt.Errorf("%w: order %q: want asc or desc", errBadRequest, q.Get("order"))
	}
	list, err := v.List(r.Context(), q.Get("path"), opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (h *handler) filesStat(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	fi, err := v.Stat(r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fi)
	return nil
}

func (h *handler) filesRead(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	return serveFile(w, r, v, false)
}

func (h *handler) filesDownload(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	return serveFile(w, r, v, true)
}

// serveFile answers with the file's bytes, honouring Range and
// conditional requests. The core forwards the answer to browsers on the
// panel's origin: nosniff and a sandbox keep an uploaded HTML file from
// running there.
func serveFile(w http.ResponseWriter, r *http.Request, v *files.Volume, attachment bool) error {
	f, fi, err := v.OpenRead(r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
	if attachment {
		w.Header().Set("Content-Disposition", contentDisposition(fi.Name()))
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
	return nil
}

// contentDisposition names an attachment as RFC 6266 says: an ASCII
// fallback for old clients and the exact UTF-8 name in filename*.
func contentDisposition(name string) string {
	fallback := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			return '_'
		}
		return r
	}, name)
	var enc strings.Builder
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			enc.WriteByte(b)
		} else {
			fmt.Fprintf(&enc, "%%%02X", b)
		}
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, fallback, enc.String())
}

// isAttrChar says whether b may stand unencoded in an RFC 5987 value.
func isAttrChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}

func (h *handler) filesWrite(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	fi, err := v.Write(r.Context(), r.URL.Query().Get("path"), files.LimitReader(r.Body, h.files.MaxUploadBytes()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fi)
	return nil
}

func (h *handler) filesUpload(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return fmt.Errorf("%w: want a multipart/form-data body: %v", errBadRequest, err)
	}
	done, err := v.Upload(r.Context(), r.URL.Query().Get("path"), mr, h.files.MaxUploadBytes())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, done)
	return nil
}

func (h *handler) filesMkdir(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	var req wire.MkdirRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	fi, err := v.Mkdir(req.Path)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fi)
	return nil
}

func (h *handler) filesRename(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	var req wire.RenameRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := v.Rename(req.From, req.To); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) filesCopy(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	var req wire.CopyRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	fi, err := v.Copy(r.Context(), req.From, req.To)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fi)
	return nil
}

func (h *handler) filesDelete(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	var req wire.DeleteRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := v.Delete(r.Context(), req.Paths); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) filesChmod(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	var req wire.ChmodRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := v.Chmod(req.Path, req.Mode); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) filesCompress(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	var req wire.CompressRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	fi, err := v.Compress(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fi)
	return nil
}

func (h *handler) filesDecompress(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	var req wire.DecompressRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := v.Decompress(r.Context(), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) filesPull(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	var req wire.PullRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	fi, err := h.files.Pull(r.Context(), v, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fi)
	return nil
}

func (h *handler) filesSearch(w http.ResponseWriter, r *http.Request, v *files.Volume) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, err := v.Search(r.Context(), q.Get("path"), q.Get("query"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}
