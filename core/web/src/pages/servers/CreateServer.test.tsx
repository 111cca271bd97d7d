import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import type { Account } from "../../api/types";
import CreateServer from "./CreateServer";
import { check, fieldFor, orderNodes, type CreateForm } from "./create/form";
import type { NodeSummary, TemplateSummary } from "../admin/types";
import { makeAccount, nextServer as server } from "../../test/fixtures";
import { FakePanel, type Handler, ok, renderWithPanel } from "../../test/panel";

const node = (id: string, name: string, online: boolean, maintenance = false): NodeSummary => ({ id, name, fqdn: `${name}.example`, online, maintenance, agent: null });

const templates: TemplateSummary[] = [
  {
    id: "tpl-mc",
    name: "Minecraft (Paper)",
    description: "A Paper server",
    images: [
      { label: "Java 21", image: "eclipse-temurin:21" },
      { label: "Java 17", image: "eclipse-temurin:17" },
    ],
    variables: [
      { name: "Server name", env_name: "SERVER_NAME", description: "Shown in the server list", default: "A Minecraft server", user_viewable: true, user_editable: true, rules: "required|max:40" },
      { name: "RCON password", env_name: "RCON_PASSWORD", default: "", user_viewable: false, user_editable: false },
    ],
  },
  { id: "tpl-v", name: "Valheim", description: "", images: [{ label: "v", image: "valheim:1" }], variables: [] },
];

const nodes = [node("n-off", "Berlin", false), node("n-maint", "Amsterdam", true, true), node("n-on", "Frankfurt", true)];

function setup(onCreate: Handler, account?: Account) {
  const panel = new FakePanel({
    "GET /api/admin/templates": ok(templates),
    "GET /api/admin/nodes": ok(nodes),
    "GET /api/admin/users": (r) => ok({ users: r.query.get("q") === "alice@example.com" ? [makeAccount({ id: "u-alice", email: "alice@example.com" })] : [], next: "" }),
    "POST /api/servers": onCreate,
  });
  renderWithPanel(
    <Routes>
      <Route path="/servers/new" element={<CreateServer />} />
      <Route path="/servers/:id/console" element={<p>console page</p>} />
    </Routes>,
    { panel, account, at: "/servers/new" },
  );
  return { calls: panel.calls, user: userEvent.setup() };
}

describe("CreateServer", () => {
  it("creates a server from the form and opens its console", async () => {
    let body: Record<string, unknown> | undefined;
    const { user } = setup((r) => {
      body = r.body as Record<string, unknown>;
      return { status: 201, data: server({ id: "srv-new", name: "Survival" }) };
    });
    const name = await screen.findByLabelText("Name");
    // The ready node is offered first and chosen.
    const nodeSelect = screen.getByLabelText("Node");
    expect([...(nodeSelect as HTMLSelectElement).options].map((o) => o.text)).toEqual(["Frankfurt (online)", "Amsterdam (maintenance)", "Berlin (offline)"]);
    expect(nodeSelect).toHaveValue("n-on");
    expect(screen.getByLabelText("Template")).toHaveValue("tpl-mc");
    expect(screen.getByLabelText("Server name")).toHaveValue("A Minecraft server");
    expect(screen.getByLabelText("Server name")).toHaveAccessibleDescription(/SERVER_NAME · required\|max:40/);

    await user.type(name, "Survival");
    await user.selectOptions(screen.getByLabelText("Image"), "eclipse-temurin:17");
    await user.clear(screen.getByLabelText("Memory (MiB)"));
    await user.type(screen.getByLabelText("Memory (MiB)"), "4096");
    await user.click(screen.getByRole("button", { name: "Create server" }));
    expect(await screen.findByText("console page")).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/servers/srv-new/console");
    expect(body).toEqual({
      name: "Survival",
      description: "",
      node_id: "n-on",
      template_id: "tpl-mc",
      image: "eclipse-temurin:17",
      memory_mb: 4096,
      cpu_percent: 200,
      disk_mb: 10240,
      environment: { SERVER_NAME: "A Minecraft server", RCON_PASSWORD: "" },
    });
  });

  it("checks the name before asking the API", async () => {
    const { user, calls } = setup(() => ({ status: 500 }));
    await screen.findByLabelText("Name");
    await user.click(screen.getByRole("button", { name: "Create server" }));
    expect(screen.getByLabelText("Name")).toHaveAccessibleDescription("Enter a name for the server.");
    expect(screen.getByLabelText("Name")).toHaveFocus();
    expect(calls.some((c) => c.method === "POST")).toBe(false);
  });

  it("shows the API's field error beside the variable it names", async () => {
    const { user } = setup(() => ({ status: 422, error: { code: "invalid", message: "must be at most 40 characters", field: "environment.SERVER_NAME" } }));
    await user.type(await screen.findByLabelText("Name"), "Survival");
    await user.click(screen.getByRole("button", { name: "Create server" }));
    const v = screen.getByLabelText("Server name");
    await waitFor(() => expect(v).toHaveAccessibleDescription(/must be at most 40 characters/));
    expect(v).toHaveAttribute("aria-invalid", "true");
  });

  it("shows an error without a field above the form", async () => {
    const { user } = setup(() => ({ status: 409, error: { code: "no_allocation", message: "node Frankfurt has every ip:port assigned; add allocations to it" } }));
    await user.type(await screen.findByLabelText("Name"), "Survival");
    await user.click(screen.getByRole("button", { name: "Create server" }));
    expect(await screen.findByText("The server was not created")).toBeInTheDocument();
    expect(screen.getByText(/every ip:port assigned/)).toBeInTheDocument();
  });

  it("finds the owner by email, and says when there is no such user", async () => {
    let body: Record<string, unknown> | undefined;
    const { user } = setup((r) => {
      body = r.body as Record<string, unknown>;
      return { status: 201, data: server({ id: "srv-a" }) };
    });
    await user.type(await screen.findByLabelText("Name"), "Alice's");
    await user.type(screen.getByLabelText("Owner"), "bob@example.com");
    await user.click(screen.getByRole("button", { name: "Create server" }));
    await waitFor(() => expect(screen.getByLabelText("Owner")).toHaveAccessibleDescription(/No user has this email or user name.$/));
    expect(body).toBeUndefined();

    await user.clear(screen.getByLabelText("Owner"));
    await user.type(screen.getByLabelText("Owner"), "alice@example.com");
    await user.click(screen.getByRole("button", { name: "Create server" }));
    await screen.findByText("console page");
    expect(body?.owner_id).toBe("u-alice");
  });

  it("tells a user who is not an administrator", async () => {
    setup(() => undefined, makeAccount());
    expect(await screen.findByText(/Only administrators create servers/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Create server" })).toBeNull();
  });
});

describe("create form logic", () => {
  it("maps the API's fields to the form's", () => {
    expect(fieldFor("memory_mb")).toBe("memoryMb");
    expect(fieldFor("allocation_id")).toBe("nodeId");
    expect(fieldFor("environment.PORT")).toBe("environment.PORT");
    expect(fieldFor("restart.mode")).toBeUndefined();
    expect(fieldFor(undefined)).toBeUndefined();
  });

  it("orders nodes ready ones first, then by name", () => {
    expect(orderNodes([node("1", "b", false), node("2", "z", true), node("3", "a", true, true), node("4", "c", true)]).map((n) => n.name)).toEqual(["c", "z", "a", "b"]);
  });

  it("checks names and numbers", () => {
    const f: CreateForm = { name: " ", description: "", templateId: "t", image: "", nodeId: "n", owner: "", memoryMb: "0", cpuPercent: "1.5", diskMb: "10", environment: {} };
    expect(Object.keys(check(f))).toEqual(["name", "memoryMb", "cpuPercent"]);
  });
});
