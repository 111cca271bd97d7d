package api

import (
	"maps"
	"net/http"
	"slices"

	"catalyst.dev/core/internal/rbac"
	"catalyst.dev/core/internal/servers"
	"catalyst.dev/core/internal/store"
	"github.com/gin-gonic/gin"
)

// hiddenValue stands in, in a rendered startup line, for a variable the
// caller may not see.
const hiddenValue = "[hidden]"

// startupView is how a server starts: its image among the template's, its
// command line and the variables the caller may see.
type startupView struct {
	Images []startupImage `json:"images"`
	// Image is the server's image (an administrator may have set one the
	// template does not list).
	Image string `json:"image"`
	// Startup is the command line with its {{VARIABLE}} placeholders;
	// StartupRendered has them filled in, variables the caller may not see
	// shown as [hidden].
	Startup         string            `json:"startup"`
	StartupRendered string            `json:"startup_rendered"`
	Variables       []startupVariable `json:"variables"`
}

type startupImage struct {
	Label    string `json:"label"`
	Image    string `json:"image"`
	Selected bool   `json:"selected"`
}

type startupVariable struct {
	Name        string `json:"name"`
	EnvName     string `json:"env_name"`
	Description string `json:"description"`
	// Value is the server's value, or the default when it has none.
	Value   string `json:"value"`
	Default string `json:"default"`
	// Editable says whether the caller may change it (given
	// startup.update).
	Editable bool   `json:"editable"`
	Rules    string `json:"rules"`
}

// startupChange is a change to how a server starts; nil fields stay.
type startupChange struct {
	// Environment sets variables (startup.update; each must be editable,
	// except for administrators) and is checked against their rules.
	Environment map[string]string `json:"environment"`
	// Image is one of the template's images (startup.image; administrators
	// may give any reference).
	Image *string `json:"image"`
	// Startup replaces the command line; administrators only.
	Startup *string `json:"startup"`
}

func viewStartup(srv *store.Server, tmpl *store.Template, admin bool) startupView {
	v := startupView{Images: []startupImage{}, Image: srv.Image, Startup: srv.Startup, Variables: []startupVariable{}}
	for _, im := range tmpl.Images {
		v.Images = append(v.Images, startupImage{Label: im.Label, Image: im.Image, Selected: im.Image == srv.Image})
	}
	env := servers.Environment(srv, tmpl)
	shown := maps.Clone(env)
	for _, tv := range tmpl.Variables {
		if !admin && !tv.UserViewable {
			shown[tv.EnvName] = hiddenValue
			continue
		}
		v.Variables = append(v.Variables, startupVariable{Name: tv.Name, EnvName: tv.EnvName, Description: tv.Description,
			Value: env[tv.EnvName], Default: tv.Default, Editable: admin || tv.UserEditable, Rules: tv.Rules})
	}
	v.StartupRendered = servers.Substitute(srv.Startup, shown)
	return v
}

func (a *API) getStartup(c *gin.Context) {
	srv := serverOf(c)
	tmpl, err := a.Store.TemplateByID(c.Request.Context(), srv.TemplateID)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, viewStartup(srv, tmpl, principalOf(c).Admin))
}

func (a *API) updateStartup(c *gin.Context) {
	var req startupChange
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	srv, p, access := serverOf(c), principalOf(c), accessOf(c)
	// Each part needs its own permission: a subuser may be trusted with
	// the variables but not the image.
	if req.Environment != nil && !p.CanOnServer(rbac.StartupUpdate, access) {
		a.deny(c, rbac.StartupUpdate, "server", srv.ID)
		return
	}
	if req.Image != nil && !p.CanOnServer(rbac.StartupImage, access) {
		a.deny(c, rbac.StartupImage, "server", srv.ID)
		return
	}
	if req.Startup != nil && !(p.Admin && p.CanOnServer(rbac.StartupUpdate, access)) {
		a.record(c, "permission.denied", "server", srv.ID, srv.ID, store.OutcomeDenied,
			map[string]any{"permission": "admin", "route": c.Request.Method + " " + c.FullPath()})
		a.fail(c, &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only administrators change a server's command line"})
		return
	}
	out, err := a.Servers.Update(c.Request.Context(), srv, servers.Update{Environment: req.Environment, Image: req.Image, Startup: req.Startup}, actorOf(c))
	meta := map[string]any{}
	if req.Environment != nil {
		meta["environment"] = slices.Sorted(maps.Keys(req.Environment))
	}
	if req.Image != nil {
		meta["image"] = *req.Image
	}
	if req.Startup != nil {
		meta["startup"] = *req.Startup
	}
	a.serverAudit(c, "server.startup.update", srv.ID, err, meta)
	if err != nil {
		a.fail(c, err)
		return
	}
	tmpl, err := a.Store.TemplateByID(c.Request.Context(), out.TemplateID)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, viewStartup(out, tmpl, p.Admin))
}
