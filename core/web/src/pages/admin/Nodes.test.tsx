import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import Nodes from "./Nodes";
import { FakePanel, ok, refuse, renderWithPanel } from "../../test/panel";
import { sampleNode as node } from "./fixtures";

describe("Nodes", () => {
  it("lists nodes with their status, server count and live health", async () => {
    const core = new FakePanel({
      "GET /api/admin/nodes": ok([
        node({ id: "n1", name: "alpha", online: true }),
        node({ id: "n2", name: "beta", last_seen_at: new Date(Date.now() - 10 * 60_000).toISOString() }),
      ]),
      "GET /api/servers": ok([{ node_id: "n1" }, { node_id: "n1" }]),
      "GET /api/nodes/n1/stats": ok({
        node_id: "n1",
        online: true,
        sample: { at: "", cpu_percent: 150, cpu_cores: 2, memory_used_bytes: 2 ** 30, memory_total_bytes: 4 * 2 ** 30, disk_used_bytes: 10, disk_total_bytes: 100, load1: 0, load5: 0, load15: 0, containers: 2 },
      }),
      "GET /api/nodes/n2/stats": ok({ node_id: "n2", online: false, sample: null }),
    });
    renderWithPanel(<Nodes />, { panel: core });
    expect(screen.getByRole("heading", { level: 1, name: "Nodes" })).toBeInTheDocument();
    const alpha = (await screen.findByRole("link", { name: "alpha" })).closest("tr")!;
    expect(within(alpha).getByText("Online")).toBeInTheDocument();
    expect(within(alpha).getByRole("cell", { name: "2" })).toBeInTheDocument();
    expect(await within(alpha).findByRole("meter", { name: "alpha CPU" })).toHaveAttribute("aria-valuetext", "75%");
    expect(within(alpha).getByRole("meter", { name: "alpha memory" })).toHaveAttribute("aria-valuetext", "25%");
    const beta = screen.getByRole("link", { name: "beta" }).closest("tr")!;
    expect(within(beta).getByText("Offline")).toBeInTheDocument();
    expect(within(beta).getByText("last seen 10 min ago")).toBeInTheDocument();
    expect(await within(beta).findByText(/No health report/)).toBeInTheDocument();
  });

  it("creates a node and shows its deployment token once, with the agent command", async () => {
    const created = node({ id: "n9", name: "gamma", enrolled: false });
    const core = new FakePanel({
      "GET /api/admin/nodes": ok([]),
      "GET /api/servers": ok([]),
      "POST /api/admin/nodes": ok({ node: created, deploy_token: "catd_secret", agent_command: "catalyst-agent configure --core https://panel --token catd_secret && catalyst-agent run" }, 201),
    });
    const user = userEvent.setup();
    renderWithPanel(<Nodes />, { panel: core });
    expect(await screen.findByText("No nodes yet")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "New node" }));
    const dialog = await screen.findByRole("dialog", { name: "New node" });
    await user.type(within(dialog).getByLabelText("Name"), "gamma");
    await user.type(within(dialog).getByLabelText("Address (FQDN or IP)"), "gamma.example.com");
    await user.type(within(dialog).getByLabelText("Memory (MiB)"), "4096");
    await user.type(within(dialog).getByLabelText("Disk (MiB)"), "20480");
    await user.click(within(dialog).getByRole("button", { name: "Create node" }));

    const done = await screen.findByRole("dialog", { name: "Node gamma created" });
    expect(core.called("POST /api/admin/nodes")[0].body).toEqual({
      name: "gamma",
      fqdn: "gamma.example.com",
      memory_mb: 4096,
      disk_mb: 20480,
      memory_overallocate: 0,
      disk_overallocate: 0,
    });
    expect(within(done).getByText(/Shown once\./)).toBeInTheDocument();
    expect(within(done).getByLabelText("Deployment token")).toHaveTextContent("catd_secret");
    expect(within(done).getByLabelText("Agent command")).toHaveTextContent("catalyst-agent configure --core https://panel --token catd_secret");
    // The list is asked again so the new node shows.
    await waitFor(() => expect(core.called("GET /api/admin/nodes").length).toBe(2));
  });

  it("shows the API's field error beside the field", async () => {
    const core = new FakePanel({
      "GET /api/admin/nodes": ok([]),
      "GET /api/servers": ok([]),
      "POST /api/admin/nodes": refuse(422, "invalid_field", '"bad host" is not a host name or IP address', "fqdn"),
    });
    const user = userEvent.setup();
    renderWithPanel(<Nodes />, { panel: core });
    await user.click(await screen.findByRole("button", { name: "New node" }));
    const dialog = await screen.findByRole("dialog", { name: "New node" });
    await user.type(within(dialog).getByLabelText("Name"), "x");
    await user.type(within(dialog).getByLabelText("Address (FQDN or IP)"), "bad host");
    await user.type(within(dialog).getByLabelText("Memory (MiB)"), "1");
    await user.type(within(dialog).getByLabelText("Disk (MiB)"), "1");
    await user.click(within(dialog).getByRole("button", { name: "Create node" }));
    const fqdn = within(dialog).getByLabelText("Address (FQDN or IP)");
    await waitFor(() => expect(fqdn).toHaveAttribute("aria-invalid", "true"));
    expect(within(dialog).getByText('"bad host" is not a host name or IP address')).toBeInTheDocument();
  });
});
