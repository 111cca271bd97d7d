import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import SchedulesTab from "../SchedulesTab";
import { FakePanel, renderTab } from "../../../test/panel";
import type { Run, Schedule, Spec } from "./model";

const LIST = "GET /api/servers/srv1/schedules";
const PREVIEW = "POST /api/servers/srv1/schedules/preview";

function schedule(over: Partial<Schedule> = {}): Schedule {
  return {
    id: "s1", server_id: "srv1", name: "Nightly restart", cron: "0 4 * * *", timezone: "UTC", enabled: true, only_when_online: false,
    tasks: [{ action: "power", payload: "restart", offset_seconds: 0, continue_on_failure: false }],
    last_run_at: null, next_run_at: "2030-01-01T04:00:00Z", created_at: "", updated_at: "", upcoming: ["2030-01-01T04:00:00Z"], ...over,
  };
}

const upcoming = ["2030-01-01T04:30:00Z", "2030-01-02T04:30:00Z", "2030-01-03T04:30:00Z", "2030-01-04T04:30:00Z", "2030-01-05T04:30:00Z"];

// Forms this size type slowly in jsdom on a busy machine: allow for it.
describe("SchedulesTab", { timeout: 30_000 }, () => {
  // Some 400 zones make every query by role crawl in jsdom; a few will do
  // here (the model's test reads the real list).
  beforeEach(() => {
    vi.spyOn(Intl, "supportedValuesOf").mockReturnValue(["America/New_York", "Asia/Tokyo", "Europe/Berlin"]);
  });
  afterEach(() => vi.restoreAllMocks());

  it("lists schedules and switches one off with its whole spec", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel()
      .on(LIST, { data: [schedule()] })
      .on("PUT /api/servers/srv1/schedules/s1", (c) => ({ data: schedule({ ...(c.body as Spec), upcoming: [] }) }));
    renderTab(<SchedulesTab />, { panel });
    expect(await screen.findByRole("heading", { name: "Nightly restart" })).toBeInTheDocument();
    expect(screen.getByText(/Every day at 04:00/)).toBeInTheDocument();
    const sw = screen.getByRole("switch", { name: "Enabled: Nightly restart" });
    expect(sw).toHaveAttribute("aria-checked", "true");
    await user.click(sw);
    await waitFor(() => expect(screen.getByRole("switch", { name: "Enabled: Nightly restart" })).toHaveAttribute("aria-checked", "false"));
    expect(panel.called("PUT /api/servers/srv1/schedules/s1")[0].body).toEqual({
      name: "Nightly restart", cron: "0 4 * * *", timezone: "UTC", enabled: false, only_when_online: false,
      tasks: [{ action: "power", payload: "restart", offset_seconds: 0, continue_on_failure: false }],
    });
  });

  it("creates a schedule with the cron helper, the next runs and ordered tasks", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel()
      .on(LIST, { data: [] })
      .on(PREVIEW, { data: { upcoming } })
      .on("POST /api/servers/srv1/schedules", (c) => ({ status: 201, data: schedule({ ...(c.body as Spec), id: "s2" }) }));
    renderTab(<SchedulesTab />, { panel });
    await user.click(await screen.findByRole("button", { name: "New schedule" }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText("Name"), "Evening");
    await user.selectOptions(within(dialog).getByLabelText("Quick pick"), "Every day at…");
    fireEvent.change(within(dialog).getByLabelText("Time"), { target: { value: "04:30" } });
    expect(within(dialog).getByLabelText("Cron expression")).toHaveValue("30 4 * * *");
    await user.selectOptions(within(dialog).getByLabelText("Time zone"), "Europe/Berlin");

    const runs = await within(dialog).findByRole("list", { name: "Next runs" });
    // The preview waits for typing to settle before it asks.
    await waitFor(() => expect(within(runs).getAllByRole("listitem")).toHaveLength(5), { timeout: 5000 });
    expect(panel.called(PREVIEW).at(-1)!.body).toEqual({ cron: "30 4 * * *", timezone: "Europe/Berlin" });

    // Task 1: a command; task 2: a power action, then moved first.
    await user.type(within(dialog).getByLabelText("Command"), "say bye");
    await user.click(within(dialog).getByRole("button", { name: "Add task" }));
    const selects = within(dialog).getAllByLabelText("Action");
    await user.selectOptions(selects[1], "Power action");
    await user.selectOptions(within(dialog).getByLabelText("Power action"), "stop");
    const delays = within(dialog).getAllByLabelText(/Delay after/);
    await user.clear(delays[1]);
    await user.type(delays[1], "30");
    await user.click(within(dialog).getByRole("button", { name: "Move task 2 up" }));
    await user.click(within(dialog).getByRole("checkbox", { name: /^Only when the server is running/ }));
    await user.click(within(dialog).getByRole("button", { name: "Create schedule" }));

    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(panel.called("POST /api/servers/srv1/schedules")[0].body).toEqual({
      name: "Evening", cron: "30 4 * * *", timezone: "Europe/Berlin", enabled: true, only_when_online: true,
      tasks: [
        { action: "power", payload: "stop", offset_seconds: 30, continue_on_failure: false },
        { action: "command", payload: "say bye", offset_seconds: 0, continue_on_failure: false },
      ],
    });
    expect(await screen.findByRole("heading", { name: "Evening" })).toBeInTheDocument();
  });

  it("shows the preview's refusal at the cron field", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel()
      .on(LIST, { data: [] })
      .on(PREVIEW, (c) =>
        (c.body as { cron: string }).cron === "* * *"
          ? { status: 422, error: { code: "invalid_field", field: "cron", message: "cron: a spec has 5 fields, not 3" } }
          : { data: { upcoming } },
      );
    renderTab(<SchedulesTab />, { panel });
    await user.click(await screen.findByRole("button", { name: "New schedule" }));
    const dialog = await screen.findByRole("dialog");
    const cron = within(dialog).getByLabelText("Cron expression");
    await user.clear(cron);
    await user.type(cron, "* * *");
    expect(await within(dialog).findByText("a spec has 5 fields, not 3", {}, { timeout: 5000 })).toBeInTheDocument();
    expect(cron).toHaveAttribute("aria-invalid", "true");
    expect(within(within(dialog).getByRole("list", { name: "Next runs" })).queryAllByRole("listitem")).toHaveLength(0);
  });

  it("puts a task's field error at that task", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel()
      .on(LIST, { data: [schedule({ tasks: [{ action: "command", payload: "say hi", offset_seconds: 0, continue_on_failure: false }, { action: "command", payload: "x", offset_seconds: 0, continue_on_failure: false }] })] })
      .on(PREVIEW, { data: { upcoming } })
      .on("PUT /api/servers/srv1/schedules/s1", {
        status: 422,
        error: { code: "invalid_field", field: "tasks[1].payload", message: "tasks[1].payload: a command task's payload is one console line of 1 to 4096 bytes" },
      });
    renderTab(<SchedulesTab />, { panel });
    await user.click(await screen.findByRole("button", { name: "Edit" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Save changes" }));
    const message = await within(dialog).findByText("a command task's payload is one console line of 1 to 4096 bytes");
    const commands = within(dialog).getAllByLabelText("Command");
    expect(commands[1]).toHaveAttribute("aria-invalid", "true");
    expect(commands[0]).not.toHaveAttribute("aria-invalid");
    expect(commands[1].closest("li")).toContainElement(message);
  });

  it("runs a schedule now and shows its runs with each task's outcome", async () => {
    const user = userEvent.setup();
    const run: Run = {
      id: "r1", schedule_id: "s1", server_id: "srv1", slot: null, trigger: "manual", status: "failed", error: "task 1 failed",
      tasks: [{ action: "power", payload: "restart", status: "failed", started_at: "2030-01-01T04:00:00Z", finished_at: "2030-01-01T04:00:01Z", error: "the server is not running" }],
      started_at: "2030-01-01T04:00:00Z", finished_at: "2030-01-01T04:00:01Z",
    };
    const panel = new FakePanel()
      .on(LIST, { data: [schedule()] })
      .on("POST /api/servers/srv1/schedules/s1/run", { status: 202, data: { ...run, status: "running" } })
      .on("GET /api/servers/srv1/schedules/s1/runs", { data: [run] });
    renderTab(<SchedulesTab />, { panel });
    await user.click(await screen.findByRole("button", { name: "Run now" }));
    const runs = await screen.findByRole("list", { name: "Runs" });
    expect(within(runs).getByText("Run by hand")).toBeInTheDocument();
    expect(within(runs).getByText("the server is not running")).toBeInTheDocument();
    expect(within(runs).getAllByText("Failed")).toHaveLength(2);
    expect(screen.getByRole("button", { name: "Run history" })).toHaveAttribute("aria-expanded", "true");
    expect(panel.called("POST /api/servers/srv1/schedules/s1/run")).toHaveLength(1);
  });

  it("says so when a run is refused", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel()
      .on(LIST, { data: [schedule()] })
      .on("POST /api/servers/srv1/schedules/s1/run", { status: 409, error: { code: "busy", message: "the schedule is running already" } });
    renderTab(<SchedulesTab />, { panel });
    await user.click(await screen.findByRole("button", { name: "Run now" }));
    expect(await screen.findByText('"Nightly restart" could not run: the schedule is running already')).toBeInTheDocument();
  });

  it("follows a running run to its end and then loads the schedules again", async () => {
    const user = userEvent.setup();
    const base: Run = {
      id: "r1", schedule_id: "s1", server_id: "srv1", slot: null, trigger: "manual", status: "running", error: "",
      tasks: [{ action: "power", payload: "restart", status: "running", started_at: "2030-01-01T04:00:00Z" }], started_at: "2030-01-01T04:00:00Z", finished_at: null,
    };
    let asked = 0;
    const panel = new FakePanel()
      .on(LIST, { data: [schedule()] })
      .on("GET /api/servers/srv1/schedules/s1/runs", () => {
        asked++;
        return asked === 1 ? { data: [base] } : { data: [{ ...base, status: "completed", tasks: [{ ...base.tasks[0], status: "completed" }], finished_at: "2030-01-01T04:00:09Z" }] };
      });
    renderTab(<SchedulesTab />, { panel });
    await user.click(await screen.findByRole("button", { name: "Run history" }));
    const runs = await screen.findByRole("list", { name: "Runs" });
    expect(within(runs).getAllByText("Running")).toHaveLength(2);
    // The log is asked again while the run goes on.
    await waitFor(() => expect(within(runs).getAllByText("Completed")).toHaveLength(2), { timeout: 5000 });
    await waitFor(() => expect(panel.called(LIST)).toHaveLength(2));
  });
});
