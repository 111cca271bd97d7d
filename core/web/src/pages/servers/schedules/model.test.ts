import { describe, expect, it } from "vitest";
import { errorTarget, formOf, moveTask, specOf, timeZones, type Schedule } from "./model";

const schedule: Schedule = {
  id: "s1", server_id: "srv1", name: "Nightly", cron: "0 4 * * *", timezone: "Europe/Berlin", enabled: false, only_when_online: true,
  tasks: [
    { action: "command", payload: "say bye", offset_seconds: 0, continue_on_failure: true },
    { action: "power", payload: "restart", offset_seconds: 60, continue_on_failure: false },
  ],
  last_run_at: null, next_run_at: null, created_at: "", updated_at: "", upcoming: [],
};

describe("schedules model", () => {
  it("places the API's field errors: tasks[i].x at task i", () => {
    expect(errorTarget("tasks[1].payload")).toEqual({ kind: "task", task: 1, field: "payload" });
    expect(errorTarget("tasks[12].offset_seconds")).toEqual({ kind: "task", task: 12, field: "offset_seconds" });
    expect(errorTarget("cron")).toEqual({ kind: "field", field: "cron" });
    expect(errorTarget("tasks")).toEqual({ kind: "field", field: "tasks" });
    expect(errorTarget(undefined)).toBeNull();
  });

  it("moves a task up and down, and not past either end", () => {
    expect(moveTask(["a", "b", "c"], 2, -1)).toEqual(["a", "c", "b"]);
    expect(moveTask(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    const same = ["a", "b"];
    expect(moveTask(same, 0, -1)).toBe(same);
    expect(moveTask(same, 1, 1)).toBe(same);
  });

  it("sends back exactly the spec a schedule was made from", () => {
    const form = formOf(schedule, "UTC");
    expect(form.tasks.map((t) => t.key)).toHaveLength(2);
    expect(new Set(form.tasks.map((t) => t.key)).size).toBe(2);
    expect(specOf(form)).toEqual({
      name: "Nightly", cron: "0 4 * * *", timezone: "Europe/Berlin", enabled: false, only_when_online: true, tasks: schedule.tasks,
    });
    expect(specOf({ ...form, name: "  Nightly  ", cron: " @daily " })).toMatchObject({ name: "Nightly", cron: "@daily" });
  });

  it("starts a new schedule in the zone given, enabled, with one task", () => {
    const f = formOf(undefined, "America/New_York");
    expect(f).toMatchObject({ timezone: "America/New_York", enabled: true, only_when_online: false });
    expect(f.tasks).toHaveLength(1);
  });

  it("lists the zones with UTC first and keeps a zone the browser lacks", () => {
    const z = timeZones(["Mars/Olympus_Mons"]);
    expect(z[0]).toBe("UTC");
    expect(z).toContain("Mars/Olympus_Mons");
    expect(z).toContain("Europe/Berlin");
    expect(new Set(z).size).toBe(z.length);
  });
});
