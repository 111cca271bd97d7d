import { describe, expect, it } from "vitest";
import { changeOf, draftOf, imageOptions, isEmptyChange, preview, type StartupView } from "./model";

const v: StartupView = {
  images: [{ label: "Java 21", image: "java:21", selected: false }],
  image: "custom:1",
  startup: "run {{A}} {{ B }} {{HIDDEN}}",
  startup_rendered: "",
  variables: [
    { name: "A", env_name: "A", description: "", value: "1", default: "", editable: true, rules: "" },
    { name: "B", env_name: "B", description: "", value: "x", default: "", editable: true, rules: "" },
  ],
};

describe("startup model", () => {
  it("sends only what changed", () => {
    const d = draftOf(v);
    expect(isEmptyChange(changeOf(v, d))).toBe(true);
    expect(changeOf(v, { ...d, env: { ...d.env, B: "" } })).toEqual({ environment: { B: "" } });
    expect(changeOf(v, { ...d, image: "java:21", startup: "run" })).toEqual({ image: "java:21", startup: "run" });
  });

  it("keeps an image the template does not list", () => {
    expect(imageOptions(v)).toEqual([
      { label: "custom:1 (set by an administrator)", image: "custom:1" },
      { label: "Java 21", image: "java:21" },
    ]);
    expect(imageOptions({ ...v, image: "java:21" })).toEqual([{ label: "Java 21", image: "java:21" }]);
  });

  it("fills the placeholders it has values for", () => {
    expect(preview(v.startup, { A: "1", B: "two words" })).toBe("run 1 two words {{HIDDEN}}");
  });
});
