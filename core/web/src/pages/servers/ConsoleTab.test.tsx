import { afterEach, describe, expect, it, vi } from "vitest";
import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route } from "react-router";
import type { Server } from "../../api/types";
import { daemonTone, installText, noticeText, outputText, statusText, throttledText } from "./console/format";
import ConsoleTab from "./ConsoleTab";
import { nextServer as server } from "../../test/fixtures";
import { renderServerView } from "./testing";

// jsdom cannot lay out a terminal; a stand-in records what the console
// writes. (The real xterm is exercised by the end-to-end suite.)
const terminals: { writes: string[]; resets: number; disposed: boolean }[] = [];
vi.mock("@xterm/xterm", () => ({
  Terminal: class {
    options: Record<string, unknown> = {};
    rec = { writes: [] as string[], resets: 0, disposed: false };
    constructor() {
      terminals.push(this.rec);
    }
    loadAddon() {}
    open() {}
    write(s: string) {
      this.rec.writes.push(s);
    }
    reset() {
      this.rec.resets++;
      this.rec.writes = [];
    }
    dispose() {
      this.rec.disposed = true;
    }
  },
}));
vi.mock("@xterm/addon-fit", () => ({ FitAddon: class { fit() {} } }));

afterEach(() => {
  terminals.length = 0;
  sessionStorage.clear();
});

function setup(srv: Server) {
  return renderServerView(srv, { tab: "console", tabs: <Route path="console" element={<ConsoleTab />} /> }).sockets;
}

async function connected(srv: Server) {
  const sockets = setup(srv);
  await screen.findByTestId("console");
  await waitFor(() => expect(sockets.last()).toBeDefined());
  const ws = sockets.last()!;
  act(() => ws.open());
  return ws;
}

const text = () => terminals[0].writes.join("");

describe("ConsoleTab", () => {
  it("asks for the log once connected and rewrites the terminal from it", async () => {
    const ws = await connected(server({ state: "running" }));
    await waitFor(() => expect(ws.sent).toContainEqual({ type: "request_logs", lines: 500 }));
    expect(ws.sent.filter((m) => (m as { type: string }).type === "request_logs")).toHaveLength(1);

    act(() => ws.receive({ type: "console_output", lines: ["[12:00] Done (3.2s)!"] }));
    act(() => ws.receive({ type: "logs", lines: ["[11:59] Starting", "[12:00] Done (3.2s)!"] }));
    expect(terminals[0].resets).toBe(1);
    expect(text()).toBe("\x1b[?25l[11:59] Starting\r\n[12:00] Done (3.2s)!\r\n");

    act(() => ws.receive({ type: "console_output", lines: ["<Steve> hi"] }));
    act(() => ws.receive({ type: "install_output", lines: ["Downloading"] }));
    act(() => ws.receive({ type: "daemon_message", level: "error", message: "Pull failed" }));
    expect(text()).toContain("<Steve> hi\r\n");
    expect(text()).toContain("[installer]\x1b[0m Downloading\r\n");
    expect(text()).toContain("\x1b[31mPull failed");
  });

  it("sends a command on Enter and walks the history with the arrow keys", async () => {
    const ws = await connected(server({ state: "running" }));
    const user = userEvent.setup();
    const input = screen.getByRole("textbox", { name: "Console command" });
    await waitFor(() => expect(input).toBeEnabled());
    await user.type(input, "say hello{Enter}");
    await user.type(input, "list{Enter}");
    expect(ws.sent).toContainEqual({ type: "send_command", command: "say hello" });
    expect(ws.sent).toContainEqual({ type: "send_command", command: "list" });
    expect(input).toHaveValue("");
    await user.type(input, "sa");
    await user.keyboard("{ArrowUp}");
    expect(input).toHaveValue("list");
    await user.keyboard("{ArrowUp}");
    expect(input).toHaveValue("say hello");
    await user.keyboard("{ArrowDown}{ArrowDown}");
    expect(input).toHaveValue("sa");
  });

  it("shows a refused command beside the input", async () => {
    const ws = await connected(server({ state: "running" }));
    const user = userEvent.setup();
    const input = screen.getByRole("textbox", { name: "Console command" });
    await waitFor(() => expect(input).toBeEnabled());
    await user.type(input, "op me{Enter}");
    act(() => ws.receive({ type: "error", request: "send_command", code: "rate_limited", message: "too many commands; slow down" }));
    expect(screen.getByRole("alert")).toHaveTextContent("too many commands; slow down");
  });

  it("disables the command line with a reason while the server is off", async () => {
    await connected(server({ state: "stopped" }));
    const input = screen.getByRole("textbox", { name: "Console command" });
    expect(input).toBeDisabled();
    expect(input).toHaveAccessibleDescription("The server is not running; start it to send commands.");
  });

  it("shows live resource use from stats messages", async () => {
    const ws = await connected(server({ state: "running", cpu_percent: 200 }));
    act(() =>
      ws.receive({
        type: "stats",
        server_id: "x",
        at: "",
        cpu_percent: 50,
        memory_bytes: 512 * 1024 * 1024,
        memory_limit_bytes: 1024 * 1024 * 1024,
        pids: 3,
        net_rx_bytes: 0,
        net_tx_bytes: 0,
        disk_bytes: 1024 * 1024 * 1024,
        disk_limit_bytes: 0,
        disk_at: "",
      }),
    );
    expect(screen.getByRole("meter", { name: "CPU use" })).toHaveAttribute("aria-valuetext", "50% of 200%");
    expect(screen.getByRole("meter", { name: "Memory use" })).toHaveAttribute("aria-valuetext", "512 MiB / 1.0 GiB");
    expect(screen.getByRole("meter", { name: "Disk use" })).toHaveAttribute("aria-valuetext", "1.0 GiB / 5.0 GiB");
  });

  it("tells a user without console access so", async () => {
    setup(server({ permissions: ["server.console.nope", "server.read"] }));
    // Without server.console the view moves them to a tab they may open;
    // the console itself also refuses to render.
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/stats"));
  });
});

describe("console formatting", () => {
  it("ends every line with CRLF and keeps one line one line", () => {
    expect(outputText(["a\r", "b\nc"])).toBe("a\r\nb c\r\n");
    expect(installText(["x"])).toBe("\x1b[2m[installer]\x1b[0m x\r\n");
  });

  it("colours Catalyst's own lines by tone", () => {
    expect(noticeText("hello")).toBe("\x1b[1;35m[Catalyst]\x1b[0m \x1b[35mhello\x1b[0m\r\n");
    expect(daemonTone("ERROR")).toBe("error");
    expect(daemonTone("warning")).toBe("warn");
    expect(daemonTone("info")).toBe("info");
    expect(throttledText("node", 1)).toContain("1 line skipped: the server printed faster");
    expect(throttledText("socket", 12)).toContain("12 lines skipped: this connection fell behind");
  });

  it("says how a process ended", () => {
    expect(statusText({ state: "crashed", exit_code: 1 })).toContain("\x1b[31mServer crashed: exit code 1.");
    expect(statusText({ state: "crashed", oom_killed: true, crash_loop: true })).toContain("killed for running out of memory. It crashed too often");
    expect(statusText({ state: "running" })).toContain("\x1b[35mServer is running.");
  });
});
