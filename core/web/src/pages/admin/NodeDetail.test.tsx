import { afterEach, describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import NodeDetail from "./NodeDetail";
import { FakePanel, noContent, ok, refuse, renderWithPanel, where } from "../../test/panel";
import { sampleNode } from "./fixtures";

// uPlot draws on a canvas jsdom does not have; the chart has its own
// module, and these tests are about the rest of the page.
vi.mock("./NodeChart", () => ({ default: ({ label }: { label: string }) => <div role="img" aria-label={label} /> }));

const node = sampleNode({ disk_overallocate: -1 });

function core(extra = {}) {
  return new FakePanel({
    "GET /api/admin/nodes/n1": ok(node),
    "GET /api/nodes/n1/stats": ok({ node_id: "n1", online: false, sample: null }),
    "GET /api/nodes/n1/metrics": ok({ node_id: "n1", from: "", to: "", step_seconds: 300, points: [{ at: "2026-01-01T00:00:00Z", samples: 3, cpu_percent: 10, memory_used_bytes: 1, memory_used_max_bytes: 1, memory_total_bytes: 2, disk_used_bytes: 1, disk_total_bytes: 2, load1: 0, load5: 0, load15: 0, containers: 0 }] }),
    "GET /api/admin/nodes/n1/allocations": ok([
      { id: "a1", node_id: "n1", ip: "0.0.0.0", port: 25565, server_id: "srv-00000001", primary: true, created_at: "" },
      { id: "a2", node_id: "n1", ip: "0.0.0.0", port: 25566, server_id: null, primary: false, created_at: "" },
    ]),
    ...extra,
  });
}

const render = (c: FakePanel) => renderWithPanel(<NodeDetail />, { panel: c, path: "/admin/nodes/:nid", at: "/admin/nodes/n1" });

describe("NodeDetail", () => {
  it("shows the node, its allocations and its history chart", async () => {
    const c = core();
    render(c);
    expect(await screen.findByRole("heading", { level: 1, name: "node-1" })).toBeInTheDocument();
    expect(screen.getByText("not checked", { exact: false })).toBeInTheDocument();
    expect(await screen.findByText("0.0.0.0:25565")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Server 00000001" })).toHaveAttribute("href", "/servers/srv-00000001");
    expect(screen.getByText("2 allocations, 1 free")).toBeInTheDocument();
    expect(await screen.findByRole("img", { name: /CPU, memory and disk use of node-1/ })).toBeInTheDocument();
    expect(c.called("GET /api/nodes/n1/metrics")[0].query.get("hours")).toBe("24");
  });

  it("adds allocations from a list of ports and ranges", async () => {
    const c = core({ "POST /api/admin/nodes/n1/allocations": ok([{}, {}, {}, {}], 201) });
    const user = userEvent.setup();
    render(c);
    const form = await screen.findByRole("form", { name: "Add allocations" });
    await user.type(within(form).getByLabelText("IP address"), "203.0.113.5");
    await user.type(within(form).getByLabelText("Ports"), "25570-25572, 25580");
    await user.click(within(form).getByRole("button", { name: "Add allocations" }));
    expect(await screen.findByText("Added 4 allocations.")).toBeInTheDocument();
    expect(c.called("POST /api/admin/nodes/n1/allocations")[0].body).toEqual({ ip: "203.0.113.5", ports: ["25570-25572", "25580"] });
  });

  it("refuses a port list it cannot read without asking the core", async () => {
    const c = core();
    const user = userEvent.setup();
    render(c);
    const form = await screen.findByRole("form", { name: "Add allocations" });
    await user.type(within(form).getByLabelText("IP address"), "203.0.113.5");
    await user.type(within(form).getByLabelText("Ports"), "25565-abc");
    await user.click(within(form).getByRole("button", { name: "Add allocations" }));
    expect(await within(form).findByText(/"25565-abc" is not a port or range/)).toBeInTheDocument();
    expect(c.called("POST /api/admin/nodes/n1/allocations")).toHaveLength(0);
  });

  it("says why a node with servers cannot be deleted", async () => {
    const c = core({ "DELETE /api/admin/nodes/n1": refuse(409, "in_use", "other records still depend on this resource") });
    const user = userEvent.setup();
    render(c);
    await user.click(await screen.findByRole("button", { name: "Delete node" }));
    const dialog = await screen.findByRole("alertdialog");
    await user.type(within(dialog).getByRole("textbox"), "node-1");
    await user.click(within(dialog).getByRole("button", { name: "Delete node" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("node-1 still has servers: transfer or delete them first (other records still depend on this resource).");
  });

  it("goes back to the list once the node is deleted", async () => {
    const c = core({ "DELETE /api/admin/nodes/n1": noContent(), "GET /api/admin/nodes": ok([]) });
    const user = userEvent.setup();
    render(c);
    await user.click(await screen.findByRole("button", { name: "Delete node" }));
    const dialog = await screen.findByRole("alertdialog");
    await user.type(within(dialog).getByRole("textbox"), "node-1");
    await user.click(within(dialog).getByRole("button", { name: "Delete node" }));
    await waitFor(() => expect(where()).toBe("/admin/nodes"));
  });

  it("issues a new deployment token after asking, and shows it", async () => {
    const c = core({ "POST /api/admin/nodes/n1/token": ok({ node, deploy_token: "catd_new", agent_command: "catalyst-agent configure --token catd_new" }) });
    const user = userEvent.setup();
    render(c);
    await user.click(await screen.findByRole("button", { name: "New deployment token" }));
    const confirm = await screen.findByRole("alertdialog");
    expect(c.called("POST /api/admin/nodes/n1/token")).toHaveLength(0);
    await user.click(within(confirm).getByRole("button", { name: "Issue token" }));
    const shown = await screen.findByRole("dialog", { name: "New deployment token for node-1" });
    expect(within(shown).getByLabelText("Deployment token")).toHaveTextContent("catd_new");
  });
});

// The image upload goes through XMLHttpRequest (fetch cannot report
// upload progress): a stand-in records the request and answers it.
class FakeXHR {
  static last: FakeXHR;
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: unknown;
  status = 0;
  responseText = "";
  upload: { onprogress?: (e: { loaded: number; total: number; lengthComputable: boolean }) => void } = {};
  onload?: () => void;
  onerror?: () => void;
  onabort?: () => void;
  constructor() {
    FakeXHR.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  getResponseHeader() {
    return "application/json";
  }
  abort() {}
  send(body: unknown) {
    this.body = body;
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

describe("image import", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("sends the archive as the body and lists the images imported", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXHR);
    const user = userEvent.setup();
    render(core());
    const archive = new File(["tar bytes"], "java.tar", { type: "application/x-tar" });
    await user.upload(await screen.findByLabelText("Image archive"), archive);
    await user.click(screen.getByRole("button", { name: "Import" }));
    await waitFor(() => expect(FakeXHR.last?.body).toBe(archive));
    const xhr = FakeXHR.last;
    expect(xhr.method).toBe("POST");
    expect(xhr.url).toBe("/api/admin/nodes/n1/images");
    expect(xhr.headers.Authorization).toBe("Bearer t");
    xhr.upload.onprogress?.({ loaded: 4, total: 9, lengthComputable: true });
    expect(await screen.findByRole("progressbar", { name: "Image upload" })).toHaveAttribute("aria-valuenow", "44");
    xhr.answer(200, { data: { images: ["ghcr.io/example/java:21"] } });
    expect(await screen.findByText("ghcr.io/example/java:21")).toBeInTheDocument();
  });

  it("shows why the core refused the archive", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXHR);
    const user = userEvent.setup();
    render(core());
    await user.upload(await screen.findByLabelText("Image archive"), new File(["x"], "x.tar"));
    await user.click(screen.getByRole("button", { name: "Import" }));
    await waitFor(() => expect(FakeXHR.last?.url).toBe("/api/admin/nodes/n1/images"));
    FakeXHR.last.answer(503, { error: { code: "node_offline", message: "node node-1 is not connected" } });
    expect(await screen.findByText("node node-1 is not connected")).toBeInTheDocument();
  });
});
