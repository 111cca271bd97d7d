package api

import (
	"net/http"

	"catalyst.dev/core/internal/store"
	"catalyst.dev/core/internal/templates"
	"github.com/gin-gonic/gin"
)

// templatePatch changes the fields it names.
type templatePatch struct {
	Name              *string                    `json:"name"`
	Description       *string                    `json:"description"`
	Author            *string                    `json:"author"`
	Images            []store.TemplateImage      `json:"images"`
	Startup           *string                    `json:"startup"`
	StopCommand       *string                    `json:"stop_command"`
	StartupDone       []string                   `json:"startup_done"`
	InstallImage      *string                    `json:"install_image"`
	InstallEntrypoint *string                    `json:"install_entrypoint"`
	InstallScript     *string                    `json:"install_script"`
	Variables         []store.TemplateVariable   `json:"variables"`
	ConfigFiles       []store.TemplateConfigFile `json:"config_files"`
	Features          []string                   `json:"features"`
	Denylist          []string                   `json:"denylist"`
}

func (a *API) listTemplates(c *gin.Context) {
	ts, err := a.Store.ListTemplates(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, ts)
}

func (a *API) getTemplate(c *gin.Context) {
	t, err := a.Store.TemplateByID(c.Request.Context(), c.Param("tid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, t)
}

func (a *API) createTemplate(c *gin.Context) {
	var req templates.Spec
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	t := req.Template()
	templates.Normalize(t)
	if err := templates.Validate(t); err != nil {
		a.fail(c, err)
		return
	}
	if err := a.Store.CreateTemplate(c.Request.Context(), t); err != nil {
		a.fail(c, nameTaken(err, t.Name))
		return
	}
	a.record(c, "admin.template.create", "template", t.ID, "", store.OutcomeSuccess, map[string]any{"name": t.Name})
	respond(c, http.StatusCreated, t)
}

func (a *API) updateTemplate(c *gin.Context) {
	var req templatePatch
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	t, err := a.Store.TemplateByID(c.Request.Context(), c.Param("tid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	setStr := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setStr(&t.Name, req.Name)
	setStr(&t.Description, req.Description)
	setStr(&t.Author, req.Author)
	setStr(&t.Startup, req.Startup)
	setStr(&t.StopCommand, req.StopCommand)
	setStr(&t.InstallImage, req.InstallImage)
	setStr(&t.InstallEntrypoint, req.InstallEntrypoint)
	setStr(&t.InstallScript, req.InstallScript)
	setList(&t.Images, req.Images)
	setList(&t.StartupDone, req.StartupDone)
	setList(&t.Variables, req.Variables)
	setList(&t.ConfigFiles, req.ConfigFiles)
	setList(&t.Features, req.Features)
	setList(&t.Denylist, req.Denylist)
	templates.Normalize(t)
	if err := templates.Validate(t); err != nil {
		a.fail(c, err)
		return
	}
	if err := a.Store.UpdateTemplate(c.Request.Context(), t, templates.Columns...); err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "admin.template.update", "template", t.ID, "", store.OutcomeSuccess, map[string]any{"name": t.Name})
	respond(c, http.StatusOK, t)
}

// setList replaces *dst with v when the request named it.
func setList[T any](dst *[]T, v []T) {
	if v != nil {
		*dst = v
	}
}

func (a *API) deleteTemplate(c *gin.Context) {
	if err := a.Store.DeleteTemplate(c.Request.Context(), c.Param("tid")); err != nil {
		a.fail(c, err)
		return
	}
	a.record(c, "admin.template.delete", "template", c.Param("tid"), "", store.OutcomeSuccess, nil)
	c.Status(http.StatusNoContent)
}
