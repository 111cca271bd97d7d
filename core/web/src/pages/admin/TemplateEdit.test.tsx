import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import TemplateEdit from "./TemplateEdit";
import { sampleTemplate } from "./fixtures";
import { type Call, FakePanel, ok, refuse, renderWithPanel } from "../../test/panel";

const render = (c: FakePanel) => renderWithPanel(<TemplateEdit />, { panel: c, path: "/admin/templates/:tid", at: "/admin/templates/t1" });

describe("TemplateEdit", () => {
  it("saves every field, variables included, as one PATCH", async () => {
    const c = new FakePanel({
      "GET /api/admin/templates/t1": ok(sampleTemplate),
      "PATCH /api/admin/templates/t1": (call: Call) => ({ data: { ...sampleTemplate, ...(call.body as object), updated_at: "2026-02-01T00:00:00Z" } }),
    });
    const user = userEvent.setup();
    render(c);
    expect(await screen.findByRole("heading", { level: 1, name: "Minecraft" })).toBeInTheDocument();
    const save = screen.getByRole("button", { name: "Save" });
    expect(save).toBeDisabled();

    const def = screen.getByLabelText("Variable 1 default");
    await user.clear(def);
    await user.type(def, "paper.jar");
    await user.click(screen.getByRole("button", { name: "Add variable" }));
    await user.type(screen.getByLabelText("Variable 2 name"), "Version");
    await user.type(screen.getByLabelText("Variable 2 environment name"), "MC_VERSION");
    await user.click(screen.getAllByRole("checkbox", { name: "Users can change it" })[1]);
    expect(save).toBeEnabled();
    await user.click(save);

    await waitFor(() => expect(c.called("PATCH /api/admin/templates/t1")).toHaveLength(1));
    const body = c.called("PATCH /api/admin/templates/t1")[0].body as Record<string, unknown>;
    expect(body.variables).toEqual([
      { name: "Jar file", env_name: "SERVER_JARFILE", description: "", default: "paper.jar", user_viewable: true, user_editable: true, rules: "required|string" },
      { name: "Version", env_name: "MC_VERSION", description: "", default: "", user_viewable: true, user_editable: true, rules: "" },
    ]);
    expect(body.config_files).toEqual(sampleTemplate.config_files);
    expect(body.startup).toBe(sampleTemplate.startup);
    expect(await screen.findByText("Template Minecraft saved.")).toBeInTheDocument();
  });

  it("shows a field error of the API in the row it is about", async () => {
    const c = new FakePanel({
      "GET /api/admin/templates/t1": ok(sampleTemplate),
      "PATCH /api/admin/templates/t1": refuse(422, "invalid_field", 'unknown rule "requird"', "variables[0].rules"),
    });
    const user = userEvent.setup();
    render(c);
    const rules = await screen.findByLabelText("Variable 1 rules");
    await user.clear(rules);
    await user.type(rules, "requird");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(rules).toHaveAttribute("aria-invalid", "true"));
    expect(rules.closest(".field")).toHaveTextContent('unknown rule "requird"');
    expect(screen.getByText("variables[0].rules: unknown rule \"requird\"")).toBeInTheDocument();
  });

  it("refuses config files that are not JSON without asking the core", async () => {
    const c = new FakePanel({ "GET /api/admin/templates/t1": ok(sampleTemplate) });
    const user = userEvent.setup();
    render(c);
    const files = await screen.findByLabelText("Config files (JSON)");
    fireEvent.change(files, { target: { value: "[{" } });
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findAllByText(/config_files: is not valid JSON/)).not.toHaveLength(0);
    expect(files).toHaveAttribute("aria-invalid", "true");
    expect(c.called("PATCH /api/admin/templates/t1")).toHaveLength(0);
  });
});
