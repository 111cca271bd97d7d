import { describe, expect, it } from "vitest";
import { placeOf, toForm, toPatch } from "./templateForm";
import { sampleTemplate } from "./fixtures";


describe("template form", () => {
  it("gives back the template's fields unchanged when nothing was edited", () => {
    const r = toPatch(toForm(sampleTemplate));
    expect("patch" in r).toBe(true);
    if (!("patch" in r)) return;
    const { id: _id, source: _s, source_ref: _r, source_version: _v, created_at: _c, updated_at: _u, ...spec } = sampleTemplate;
    expect(r.patch).toEqual({ ...spec, variables: [{ ...spec.variables[0], description: "" }] });
  });

  it("reads one pattern, feature or path per line, skipping blank ones and keeping a pattern's spaces", () => {
    const f = { ...toForm(sampleTemplate), startup_done: "Done (\n\n  \nregex:^ready$", features: "", denylist: " secrets.txt\n" };
    const r = toPatch(f);
    if (!("patch" in r)) throw new Error("expected a patch");
    expect(r.patch.startup_done).toEqual(["Done (", "regex:^ready$"]);
    expect(r.patch.features).toEqual([]);
    expect(r.patch.denylist).toEqual(["secrets.txt"]);
  });

  it("says config files that are not a JSON list are wrong before sending", () => {
    expect(toPatch({ ...toForm(sampleTemplate), config_files: "[{" })).toMatchObject({ problem: { field: "config_files" } });
    expect(toPatch({ ...toForm(sampleTemplate), config_files: '{"path": "x"}' })).toMatchObject({ problem: { field: "config_files", message: expect.stringContaining("JSON list") } });
    const empty = toPatch({ ...toForm(sampleTemplate), config_files: "  " });
    expect("patch" in empty && empty.patch.config_files).toEqual([]);
  });

  it("places the API's field errors, list rows included", () => {
    expect(placeOf("variables[2].rules")).toEqual({ field: "variables", index: 2, sub: "rules" });
    expect(placeOf("startup_done[0]")).toEqual({ field: "startup_done", index: 0, sub: undefined });
    expect(placeOf("startup")).toEqual({ field: "startup" });
  });
});
