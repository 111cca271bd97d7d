import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import StartupTab from "../StartupTab";
import { ALL_SERVER_PERMISSIONS, makeAccount, makeServer } from "../../../test/fixtures";
import { FakePanel, renderTab } from "../../../test/panel";
import type { StartupChange, StartupView } from "./model";

const VIEW = "GET /api/servers/srv1/startup";
const PATCH = "PATCH /api/servers/srv1/startup";

function view(over: Partial<StartupView> = {}): StartupView {
  return {
    images: [
      { label: "Java 21", image: "ghcr.io/catalyst/java:21", selected: true },
      { label: "Java 17", image: "ghcr.io/catalyst/java:17", selected: false },
    ],
    image: "ghcr.io/catalyst/java:21",
    startup: "java -Xmx{{MEMORY}}M -jar {{JAR}} --port {{PORT}}",
    startup_rendered: "java -Xmx2048M -jar server.jar --port [hidden]",
    variables: [
      { name: "Memory", env_name: "MEMORY", description: "Heap size in MiB", value: "2048", default: "1024", editable: true, rules: "required|integer|between:512,8192" },
      { name: "Jar file", env_name: "JAR", description: "", value: "server.jar", default: "server.jar", editable: false, rules: "required|string" },
      { name: "Difficulty", env_name: "DIFFICULTY", description: "", value: "easy", default: "easy", editable: true, rules: "in:peaceful,easy,normal,hard" },
    ],
    ...over,
  };
}

function apply(v: StartupView, c: StartupChange): StartupView {
  return {
    ...v,
    image: c.image ?? v.image,
    startup: c.startup ?? v.startup,
    variables: v.variables.map((x) => ({ ...x, value: c.environment?.[x.env_name] ?? x.value })),
  };
}

describe("StartupTab", { timeout: 30_000 }, () => {
  it("shows the command line, the image and the variables with their rules", async () => {
    const panel = new FakePanel().on(VIEW, { data: view() });
    renderTab(<StartupTab />, { panel });
    expect(await screen.findByText("java -Xmx2048M -jar server.jar --port [hidden]")).toBeInTheDocument();
    expect(screen.queryByLabelText("Command line template")).not.toBeInTheDocument();
    expect(screen.getByLabelText("Image")).toHaveValue("ghcr.io/catalyst/java:21");
    const memory = screen.getByLabelText("Memory");
    expect(memory).toHaveValue("2048");
    expect(memory).toHaveAccessibleDescription(/Heap size in MiB.*Required · A whole number · From 512 to 8192 · Default: 1024/);
    expect(screen.getByLabelText("Jar file")).toBeDisabled();
    expect(screen.getByLabelText("Difficulty").tagName).toBe("SELECT");
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();
  });

  it("checks a value against its rules before saving, then sends only what changed", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel().on(VIEW, { data: view() }).on(PATCH, (c) => ({ data: apply(view(), c.body as StartupChange) }));
    renderTab(<StartupTab />, { panel });
    const memory = await screen.findByLabelText("Memory");
    await user.clear(memory);
    await user.type(memory, "100");
    expect(screen.getByText("must be between 512 and 8192")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(panel.called(PATCH)).toHaveLength(0);

    await user.type(memory, "0");
    expect(screen.queryByText("must be between 512 and 8192")).not.toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText("Difficulty"), "hard");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(panel.called(PATCH)).toHaveLength(1));
    expect(panel.called(PATCH)[0].body).toEqual({ environment: { MEMORY: "1000", DIFFICULTY: "hard" } });
    expect(await screen.findByText("Startup saved; it takes effect at the next start")).toBeInTheDocument();
    expect(screen.getByLabelText("Memory")).toHaveValue("1000");
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();
  });

  it("shows the core's refusal at the variable it names", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel()
      .on(VIEW, { data: view() })
      .on(PATCH, { status: 422, error: { code: "invalid_field", field: "environment.DIFFICULTY", message: "environment.DIFFICULTY: is not editable" } });
    renderTab(<StartupTab />, { panel });
    await user.selectOptions(await screen.findByLabelText("Difficulty"), "normal");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("is not editable")).toBeInTheDocument();
    expect(screen.getByLabelText("Difficulty")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText("Memory")).not.toHaveAttribute("aria-invalid");
  });

  it("resets what was changed", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel().on(VIEW, { data: view() });
    renderTab(<StartupTab />, { panel });
    await user.selectOptions(await screen.findByLabelText("Image"), "ghcr.io/catalyst/java:17");
    await user.click(screen.getByRole("button", { name: "Reset changes" }));
    expect(screen.getByLabelText("Image")).toHaveValue("ghcr.io/catalyst/java:21");
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();
  });

  it("lets an administrator change the command line", async () => {
    const user = userEvent.setup();
    const panel = new FakePanel().on(VIEW, { data: view() }).on(PATCH, (c) => ({ data: apply(view(), c.body as StartupChange) }));
    renderTab(<StartupTab />, { panel, account: makeAccount({ admin: true }) });
    const line = await screen.findByLabelText("Command line template");
    await user.clear(line);
    await user.type(line, "java -jar {{{{JAR}} nogui");
    expect(screen.getByLabelText("Command line as it runs")).toHaveTextContent("java -jar server.jar nogui");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(panel.called(PATCH)).toHaveLength(1));
    expect(panel.called(PATCH)[0].body).toEqual({ startup: "java -jar {{JAR}} nogui" });
  });

  it("keeps the image and variables read-only without the permissions", async () => {
    const perms = ALL_SERVER_PERMISSIONS.filter((p) => p !== "startup.update" && p !== "startup.image");
    const panel = new FakePanel().on(VIEW, { data: view() });
    renderTab(<StartupTab />, { panel, server: makeServer({ permissions: perms }) });
    expect(await screen.findByLabelText("Image")).toBeDisabled();
    expect(screen.getByLabelText("Memory")).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Save" })).not.toBeInTheDocument();
  });
});
