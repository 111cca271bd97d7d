import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import Plugins from "./Plugins";
import { FakePanel, ok, renderWithPanel } from "../../test/panel";

describe("Plugins", () => {
  it("lists each plugin's kind, version, health, restarts and last error", async () => {
    const c = new FakePanel({
      "GET /api/admin/plugins": ok([
        { name: "alerts-discord", kind: "alert_sink", version: "1.0.0", api_version: "1", path: "plugins/catalyst-alerts-discord", health: "healthy", restarts: 0 },
        { name: "eggs", kind: "template_source", version: "0.3.0", api_version: "1", path: "plugins/catalyst-templates-eggs", health: "failed", restarts: 5, last_error: "exit status 2" },
      ]),
    });
    renderWithPanel(<Plugins />, { panel: c });
    expect(screen.getByRole("heading", { level: 1, name: "Plugins" })).toBeInTheDocument();
    const discord = (await screen.findByText("alerts-discord")).closest("tr")!;
    expect(within(discord).getByText("Alert sink")).toBeInTheDocument();
    expect(within(discord).getByText("healthy")).toBeInTheDocument();
    const eggs = screen.getByText("eggs").closest("tr")!;
    expect(within(eggs).getByText("Template source")).toBeInTheDocument();
    expect(within(eggs).getByText("failed")).toHaveClass("badge-bad");
    expect(within(eggs).getByRole("cell", { name: "5" })).toBeInTheDocument();
    expect(within(eggs).getByText("exit status 2")).toBeInTheDocument();
  });

  it("says so when no plugin is configured", async () => {
    renderWithPanel(<Plugins />, { panel: new FakePanel({ "GET /api/admin/plugins": ok([]) }) });
    expect(await screen.findByText("No plugins configured")).toBeInTheDocument();
  });
});
