import { describe, expect, it } from "vitest";
import { NO_FILTERS, apiQuery, filtersFromSearch, filtersToSearch, fromLocalInput, rfc3339, toLocalInput } from "./auditQuery";

describe("audit filters and the URL", () => {
  it("reads every filter from the search parameters", () => {
    const f = filtersFromSearch(new URLSearchParams("actor=u1&action=server.power&server=s1&since=2026-11-21T08:00:00Z&until=2026-11-22T08:00:00Z"));
    expect(f).toEqual({ actor: "u1", action: "server.power", server: "s1", since: "2026-11-21T08:00:00Z", until: "2026-11-22T08:00:00Z" });
  });

  it("drops times that are not times and normalises the rest to UTC seconds", () => {
    const f = filtersFromSearch(new URLSearchParams("since=yesterday&until=2026-11-21T10:30:00.250%2B02:00"));
    expect(f.since).toBe("");
    expect(f.until).toBe("2026-11-21T08:30:00Z");
    // The same offset typed into the address bar unescaped.
    expect(filtersFromSearch(new URLSearchParams("until=2026-11-21T10:30:00+02:00")).until).toBe("2026-11-21T08:30:00Z");
  });

  it("writes only the filters that are set, and reads back what it wrote", () => {
    const f = { ...NO_FILTERS, action: "admin.user.delete", since: "2026-01-02T03:04:05Z" };
    const p = filtersToSearch(f);
    expect(p.toString()).toBe("action=admin.user.delete&since=2026-01-02T03%3A04%3A05Z");
    expect(filtersFromSearch(p)).toEqual(f);
    expect(filtersToSearch(NO_FILTERS).toString()).toBe("");
  });

  it("asks the API with the same names and the cursor", () => {
    const q = apiQuery({ ...NO_FILTERS, actor: "u1" }, "cursor-9", 50);
    expect(q).toMatchObject({ actor: "u1", before: "cursor-9", limit: 50 });
    expect(apiQuery(NO_FILTERS).before).toBeUndefined();
  });

  it("turns datetime-local values into UTC and back in the browser's zone", () => {
    const iso = fromLocalInput("2026-11-21T09:15");
    expect(iso).toBe(rfc3339(new Date(2026, 10, 21, 9, 15)));
    expect(toLocalInput(iso)).toBe("2026-11-21T09:15");
    expect(fromLocalInput("")).toBe("");
    expect(fromLocalInput("21/11/2026")).toBe("");
    expect(toLocalInput("")).toBe("");
  });
});
