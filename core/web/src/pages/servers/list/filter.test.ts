import { describe, expect, it } from "vitest";
import { nextServer as server } from "../../../test/fixtures";
import { countGroups, filterServers, indexServers, stateGroup } from "./filter";

const list = [
  server({ id: "srv-aaaaaaaa11111111", name: "Survival World", state: "running", description: "The main one", node_id: "n1" }),
  server({ id: "srv-bbbbbbbb22222222", name: "Creative", state: "stopped", allocations: [{ ip: "10.1.2.3", port: 27015, primary: true }], node_id: "n2" }),
  server({ id: "srv-cccccccc33333333", name: "Valheim", state: "crashed", node_id: "n1" }),
  server({ id: "srv-dddddddd44444444", name: "Rust", state: "installing", node_id: "n2" }),
];
const nodes: Record<string, string> = { n1: "Frankfurt-1", n2: "Helsinki-2" };
const index = indexServers(list, (id) => nodes[id]);
const names = (q: string, state: "all" | "running" | "offline" | "problems" = "all", node = "") =>
  filterServers(index, { query: q, state, node }).map((s) => s.name);

describe("server list filter", () => {
  it("matches every word, in any case, against name, short ID, address, description and node", () => {
    expect(names("")).toEqual(["Survival World", "Creative", "Valheim", "Rust"]);
    expect(names("SURV")).toEqual(["Survival World"]);
    expect(names("world survival")).toEqual(["Survival World"]);
    expect(names("22222222")).toEqual(["Creative"]);
    expect(names("10.1.2.3:27015")).toEqual(["Creative"]);
    expect(names("main")).toEqual(["Survival World"]);
    expect(names("helsinki")).toEqual(["Creative", "Rust"]);
    expect(names("survival creative")).toEqual([]);
  });

  it("filters by state group and node", () => {
    expect(names("", "running")).toEqual(["Survival World"]);
    expect(names("", "offline")).toEqual(["Creative", "Rust"]);
    expect(names("", "problems")).toEqual(["Valheim"]);
    expect(names("", "all", "n1")).toEqual(["Survival World", "Valheim"]);
    expect(names("v", "problems", "n1")).toEqual(["Valheim"]);
  });

  it("counts each group", () => {
    expect(countGroups(index)).toEqual({ all: 4, running: 1, offline: 2, problems: 1 });
    expect(stateGroup("suspended")).toBe("problems");
    expect(stateGroup("stopping")).toBe("running");
  });
});
