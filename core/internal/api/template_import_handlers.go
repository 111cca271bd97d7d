package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/templates"
	"catalyst.dev/sdk/plugin"
	"github.com/gin-gonic/gin"
)

// maxTemplateFile is the largest template file an import reads.
const maxTemplateFile = 1 << 20

// sourceListTimeout bounds one template source's List when the sources
// are listed together, so one hung plugin does not hang the page.
const sourceListTimeout = 10 * time.Second

// templateImported is the answer of an import.
type templateImported struct {
	Template *store.Template `json:"template"`
	// Warnings say what the source could not convert, for the
	// administrator to read; empty for Catalyst's own template files.
	Warnings []string `json:"warnings"`
	// Created is false when an import from a source updated the template
	// an earlier import of the same source template made.
	Created bool `json:"created"`
}

// templateSourceView is one template_source plugin.
type templateSourceView struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Health  string `json:"health"`
	// Templates is how many templates the source offers; null when its
	// List failed, with Error saying why.
	Templates *int   `json:"templates"`
	Error     string `json:"error,omitempty"`
}

// sourceTemplateView is one template a source offers, and what of it is
// imported here.
type sourceTemplateView struct {
	Ref         string `json:"ref"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     string `json:"version"`
	// TemplateID is the template an earlier import made (empty: not
	// imported), ImportedVersion the version it holds; UpdateAvailable
	// when the source's version differs.
	TemplateID      string `json:"template_id,omitempty"`
	ImportedVersion string `json:"imported_version,omitempty"`
	Imported        bool   `json:"imported"`
	UpdateAvailable bool   `json:"update_available"`
}

// sourceImport names the template of a source to import.
type sourceImport struct {
	// Ref is the template's ID in the source (it may hold slashes).
	Ref string `json:"ref"`
}

// templateSource returns the loaded template_source plugin called name,
// or a 404 naming the ones there are.
func (a *API) templateSource(name string) (plugin.TemplateSource, error) {
	var names []string
	for _, s := range a.Plugins.Status() {
		if s.Kind == plugin.KindTemplateSource {
			names = append(names, s.Name)
		}
	}
	if !slices.Contains(names, name) {
		return nil, &Error{Status: http.StatusNotFound, Code: "not_found",
			Message: fmt.Sprintf("no template source %q is configured (template sources: %s)", name, listOrNone(names))}
	}
	return a.Plugins.TemplateSource(name)
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// sourceError turns what a template source plugin answered into what the
// administrator sees.
func sourceError(name string, err error) error {
	switch {
	case errors.Is(err, plugin.ErrUnimplemented):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "unsupported", Field: "source",
			Message: fmt.Sprintf("template source %s cannot read files; import its templates from GET /api/admin/template-sources/%s/templates", name, name)}
	case errors.Is(err, plugin.ErrInvalidArgument):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_template", Field: "file",
			Message: fmt.Sprintf("template source %s: %v", name, err)}
	case errors.Is(err, plugin.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("template source %s: %v", name, err)}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, plugin.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: "source_unavailable", Message: fmt.Sprintf("template source %s: %v", name, err)}
	}
	return &Error{Status: http.StatusBadGateway, Code: "source_error", Message: fmt.Sprintf("template source %s failed: %v", name, err)}
}

// uploadedTemplate reads an import's body: multipart/form-data with the
// file in "file" and the source, if any, in "source"; or the file itself
// as the body, the source in ?source=.
func uploadedTemplate(c *gin.Context) (name, source string, data []byte, err error) {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt != "multipart/form-data" {
		if c.Request.Body == nil || c.Request.ContentLength == 0 {
			return "", "", nil, badRequest("missing_body", "send the template file as the body, or as the \"file\" part of a multipart form")
		}
		data, err = io.ReadAll(c.Request.Body)
		name = c.Query("name")
		if name == "" {
			name = "template.json"
		}
		return name, c.Query("source"), data, err
	}
	if err := c.Request.ParseMultipartForm(maxTemplateFile); err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return "", "", nil, err
		}
		return "", "", nil, badRequest("malformed_form", "the multipart form cannot be read: %v", err)
	}
	f, hdr, err := c.Request.FormFile("file")
	if err != nil {
		return "", "", nil, invalidField("file", "is required: the template file to import")
	}
	defer f.Close()
	data, err = io.ReadAll(f)
	return hdr.Filename, c.Request.FormValue("source"), data, err
}

func (a *API) importTemplate(c *gin.Context) {
	name, source, data, err := uploadedTemplate(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	var t *store.Template
	warnings := []string{}
	if source == "" {
		var spec templates.Spec
		if err := decodeJSON(bytes.NewReader(data), &spec); err != nil {
			a.fail(c, err)
			return
		}
		t = spec.Template()
	} else {
		src, err := a.templateSource(source)
		if err != nil {
			a.fail(c, err)
			return
		}
		pt, err := src.Parse(c.Request.Context(), name, data)
		if err != nil {
			a.fail(c, sourceError(source, err))
			return
		}
		// An uploaded file is not one of the source's own templates: it
		// keeps the converter's name but no reference to update it by.
		t = templates.FromSource(source, "", pt)
		warnings = append(warnings, pt.Warnings...)
	}
	templates.Normalize(t)
	err = templates.Validate(t)
	if err == nil {
		err = a.Store.CreateTemplate(c.Request.Context(), t)
	}
	err = nameTaken(err, t.Name)
	a.recordResult(c, "admin.template.import", "template", t.ID, "", err,
		map[string]any{"name": t.Name, "file": name, "source": source, "warnings": len(warnings)})
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusCreated, templateImported{Template: t, Warnings: warnings, Created: true})
}

func (a *API) listTemplateSources(c *gin.Context) {
	out := []templateSourceView{}
	for _, s := range a.Plugins.Status() {
		if s.Kind != plugin.KindTemplateSource {
			continue
		}
		v := templateSourceView{Name: s.Name, Version: s.Version, Health: s.Health}
		if src, err := a.Plugins.TemplateSource(s.Name); err != nil {
			v.Error = err.Error()
		} else {
			ctx, cancel := context.WithTimeout(c.Request.Context(), sourceListTimeout)
			list, err := src.List(ctx)
			cancel()
			if err != nil {
				v.Error = err.Error()
			} else {
				n := len(list)
				v.Templates = &n
			}
		}
		out = append(out, v)
	}
	respond(c, http.StatusOK, out)
}

func (a *API) listSourceTemplates(c *gin.Context) {
	name := c.Param("source")
	src, err := a.templateSource(name)
	if err != nil {
		a.fail(c, err)
		return
	}
	list, err := src.List(c.Request.Context())
	if err != nil {
		a.fail(c, sourceError(name, err))
		return
	}
	all, err := a.Store.ListTemplates(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	imported := map[string]*store.Template{}
	for _, t := range all {
		if t.Source == name && t.SourceRef != "" {
			imported[t.SourceRef] = t
		}
	}
	out := make([]sourceTemplateView, 0, len(list))
	for _, s := range list {
		v := sourceTemplateView{Ref: s.ID, Name: s.Name, Description: s.Description, Version: s.Version}
		if t, ok := imported[s.ID]; ok {
			v.Imported, v.TemplateID, v.ImportedVersion = true, t.ID, t.SourceVersion
			v.UpdateAvailable = t.SourceVersion != s.Version
		}
		out = append(out, v)
	}
	respond(c, http.StatusOK, out)
}

func (a *API) importSourceTemplate(c *gin.Context) {
	var req sourceImport
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	name := c.Param("source")
	if strings.TrimSpace(req.Ref) == "" {
		a.fail(c, invalidField("ref", "is required: the ID of one of the source's templates"))
		return
	}
	src, err := a.templateSource(name)
	if err != nil {
		a.fail(c, err)
		return
	}
	pt, err := src.Fetch(c.Request.Context(), req.Ref)
	if err != nil {
		a.fail(c, sourceError(name, err))
		return
	}
	t := templates.FromSource(name, req.Ref, pt)
	templates.Normalize(t)
	created, err := a.saveImported(c.Request.Context(), t)
	err = nameTaken(err, t.Name)
	a.recordResult(c, "admin.template.import", "template", t.ID, "", err,
		map[string]any{"name": t.Name, "source": name, "ref": req.Ref, "version": t.SourceVersion, "created": created, "warnings": len(pt.Warnings)})
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, templateImported{Template: t, Warnings: append([]string{}, pt.Warnings...), Created: created})
}

// saveImported validates t, a template converted from a source, and
// creates it, or updates the one an earlier import of the same source
// template made (keeping its ID, so its servers follow).
func (a *API) saveImported(ctx context.Context, t *store.Template) (created bool, err error) {
	if err := templates.Validate(t); err != nil {
		return false, err
	}
	old, err := a.Store.TemplateBySource(ctx, t.Source, t.SourceRef)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return true, a.Store.CreateTemplate(ctx, t)
	case err != nil:
		return false, err
	}
	t.ID, t.CreatedAt = old.ID, old.CreatedAt
	return false, a.Store.UpdateTemplate(ctx, t, templates.Columns...)
}

// nameTaken says which name a template's conflict is about: template
// names are unique.
func nameTaken(err error, name string) error {
	if errors.Is(err, store.ErrConflict) {
		return &Error{Status: http.StatusConflict, Code: "conflict", Field: "name",
			Message: fmt.Sprintf("a template named %q already exists: rename or delete it first (a source's templates update in place through POST /api/admin/template-sources/:source/import)", name)}
	}
	return err
}
