import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import Templates from "./Templates";
import { sampleTemplate } from "./fixtures";
import { FakePanel, ok, refuse, renderWithPanel } from "../../test/panel";

const eggs = { name: "eggs", version: "1.2.0", health: "healthy", templates: 2 };

function core(extra = {}) {
  return new FakePanel({
    "GET /api/admin/templates": ok([sampleTemplate, { ...sampleTemplate, id: "t2", name: "Valheim", source: "eggs", source_ref: "valheim", source_version: "3" }]),
    "GET /api/servers": ok([{ template_id: "t1" }, { template_id: "t1" }, { template_id: "t2" }]),
    "GET /api/admin/template-sources": ok([eggs]),
    ...extra,
  });
}

describe("Templates", () => {
  it("lists templates with their source and how many servers use them", async () => {
    renderWithPanel(<Templates />, { panel: core() });
    expect(screen.getByRole("heading", { level: 1, name: "Templates" })).toBeInTheDocument();
    const mc = (await screen.findByRole("link", { name: "Minecraft" })).closest("tr")!;
    expect(within(mc).getByText("Written here")).toBeInTheDocument();
    expect(within(mc).getByText("Java 21")).toBeInTheDocument();
    expect(within(mc).getByRole("cell", { name: "2" })).toBeInTheDocument();
    const vh = screen.getByRole("link", { name: "Valheim" }).closest("tr")!;
    expect(within(vh).getByText("eggs 3")).toBeInTheDocument();
    expect(within(vh).getByRole("cell", { name: "1" })).toBeInTheDocument();
  });

  it("imports a file through a template source and shows what the conversion left", async () => {
    const c = core({
      "POST /api/admin/templates/import": ok({ template: { ...sampleTemplate, id: "t3", name: "Paper" }, warnings: ["the egg's file denylist was dropped"], created: true }, 201),
    });
    const user = userEvent.setup();
    renderWithPanel(<Templates />, { panel: c });
    await user.click(await screen.findByRole("button", { name: "Import template" }));
    const dialog = await screen.findByRole("dialog", { name: "Import template" });
    await within(dialog).findByRole("option", { name: /eggs/ });
    await user.selectOptions(within(dialog).getByLabelText("Format"), "eggs");
    const egg = new File(['{"name": "Paper"}'], "egg-paper.json", { type: "application/json" });
    await user.upload(within(dialog).getByLabelText("File"), egg);
    await user.click(within(dialog).getByRole("button", { name: "Import" }));

    const done = await screen.findByRole("dialog", { name: "Template imported" });
    expect(within(done).getByRole("link", { name: "Paper" })).toHaveAttribute("href", "/admin/templates/t3");
    expect(within(done).getByText("the egg's file denylist was dropped")).toBeInTheDocument();
    const body = c.called("POST /api/admin/templates/import")[0].body as FormData;
    expect(body.get("source")).toBe("eggs");
    expect((body.get("file") as File).name).toBe("egg-paper.json");
  });

  it("imports Catalyst's own JSON without a source", async () => {
    const c = core({ "POST /api/admin/templates/import": ok({ template: sampleTemplate, warnings: [], created: true }, 201) });
    const user = userEvent.setup();
    renderWithPanel(<Templates />, { panel: c });
    await user.click(await screen.findByRole("button", { name: "Import template" }));
    const dialog = await screen.findByRole("dialog", { name: "Import template" });
    await user.upload(within(dialog).getByLabelText("File"), new File(["{}"], "t.json"));
    await user.click(within(dialog).getByRole("button", { name: "Import" }));
    expect(await screen.findByText("Nothing was lost in the conversion.")).toBeInTheDocument();
    expect((c.called("POST /api/admin/templates/import")[0].body as FormData).has("source")).toBe(false);
  });

  it("says why a template in use cannot be deleted", async () => {
    const c = core({ "DELETE /api/admin/templates/t1": refuse(409, "in_use", "other records still depend on this resource") });
    const user = userEvent.setup();
    renderWithPanel(<Templates />, { panel: c });
    await user.click(await screen.findByRole("button", { name: "Delete Minecraft" }));
    const dialog = await screen.findByRole("alertdialog");
    await user.click(within(dialog).getByRole("button", { name: "Delete template" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent(/Servers still use Minecraft/);
  });

  it("lists a source's templates and imports or updates them", async () => {
    const c = core({
      "GET /api/admin/template-sources/eggs/templates": ok([
        { ref: "paper", name: "Paper", description: "", version: "2", imported: false, update_available: false },
        { ref: "valheim", name: "Valheim", description: "", version: "4", template_id: "t2", imported_version: "3", imported: true, update_available: true },
      ]),
      "POST /api/admin/template-sources/eggs/import": ok({ template: { ...sampleTemplate, id: "t2", name: "Valheim" }, warnings: [], created: false }),
    });
    const user = userEvent.setup();
    renderWithPanel(<Templates />, { panel: c });
    await user.click(await screen.findByRole("button", { name: /eggs/ }));
    expect(await screen.findByText("Update available")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Import Paper" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Update Valheim" }));
    expect(await screen.findByText((_, el) => el?.tagName === "P" && el.textContent === "Updated Valheim.")).toBeInTheDocument();
    expect(c.called("POST /api/admin/template-sources/eggs/import")[0].body).toEqual({ ref: "valheim" });
    await waitFor(() => expect(c.called("GET /api/admin/template-sources/eggs/templates")).toHaveLength(2));
  });
});
