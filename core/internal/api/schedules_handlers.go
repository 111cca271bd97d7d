package api

import (
	"net/http"
	"time"

	"catalyst.dev/core/internal/schedules"
	"github.com/gin-gonic/gin"
)

type schedulePreview struct {
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
}

type previewView struct {
	// Upcoming are the expression's next 5 slots.
	Upcoming []time.Time `json:"upcoming"`
}

func (a *API) listSchedules(c *gin.Context) {
	list, err := a.Schedules.List(c.Request.Context(), serverOf(c).ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, list)
}

func (a *API) getSchedule(c *gin.Context) {
	v, err := a.Schedules.Get(c.Request.Context(), serverOf(c).ID, c.Param("sid"))
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, v)
}

// scheduleAudit records a change to a schedule of the server.
func (a *API) scheduleAudit(c *gin.Context, action, scheduleID string, err error, sp *schedules.Spec) {
	meta := map[string]any{"schedule_id": scheduleID}
	if sp != nil {
		meta["name"], meta["cron"], meta["timezone"], meta["tasks"] = sp.Name, sp.Cron, sp.Timezone, len(sp.Tasks)
	}
	a.serverAudit(c, action, serverOf(c).ID, err, meta)
}

func (a *API) createSchedule(c *gin.Context) {
	var sp schedules.Spec
	if err := bind(c, &sp); err != nil {
		a.fail(c, err)
		return
	}
	v, err := a.Schedules.Create(c.Request.Context(), serverOf(c).ID, sp)
	id := ""
	if err == nil {
		id = v.ID
	}
	a.scheduleAudit(c, "server.schedule.create", id, err, &sp)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusCreated, v)
}

func (a *API) updateSchedule(c *gin.Context) {
	var sp schedules.Spec
	if err := bind(c, &sp); err != nil {
		a.fail(c, err)
		return
	}
	v, err := a.Schedules.Update(c.Request.Context(), serverOf(c).ID, c.Param("sid"), sp)
	a.scheduleAudit(c, "server.schedule.update", c.Param("sid"), err, &sp)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, v)
}

func (a *API) deleteSchedule(c *gin.Context) {
	err := a.Schedules.Delete(c.Request.Context(), serverOf(c).ID, c.Param("sid"))
	a.scheduleAudit(c, "server.schedule.delete", c.Param("sid"), err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) runSchedule(c *gin.Context) {
	r, err := a.Schedules.RunNow(c.Request.Context(), serverOf(c).ID, c.Param("sid"))
	a.scheduleAudit(c, "server.schedule.run", c.Param("sid"), err, nil)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusAccepted, r)
}

func (a *API) scheduleRuns(c *gin.Context) {
	limit, err := queryLimit(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	runs, err := a.Schedules.Runs(c.Request.Context(), serverOf(c).ID, c.Param("sid"), limit, c.Query("before"))
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, runs)
}

func (a *API) previewSchedule(c *gin.Context) {
	var req schedulePreview
	if err := bind(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	next, err := a.Schedules.Preview(req.Cron, req.Timezone, 5)
	if err != nil {
		a.fail(c, err)
		return
	}
	respond(c, http.StatusOK, previewView{Upcoming: next})
}
