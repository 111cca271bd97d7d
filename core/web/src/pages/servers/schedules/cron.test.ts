import { describe, expect, it } from "vitest";
import { PRESETS, describeCron, guessPreset } from "./cron";

const preset = (id: string) => PRESETS.find((p) => p.id === id)!;

describe("cron helper", () => {
  it("builds expressions from the presets and their options", () => {
    const o = { time: "04:30", weekday: 3, day: 15 };
    expect(preset("every-15m").build(o)).toBe("*/15 * * * *");
    expect(preset("daily").build(o)).toBe("30 4 * * *");
    expect(preset("weekdays").build(o)).toBe("30 4 * * 1-5");
    expect(preset("weekly").build(o)).toBe("30 4 * * 3");
    expect(preset("monthly").build(o)).toBe("30 4 15 * *");
    expect(preset("monthly").build({ ...o, day: 31 })).toBe("30 4 28 * *");
    expect(preset("every-interval").build(o)).toBe("@every 5m");
  });

  it.each([
    ["@daily", "Every day at 00:00"],
    ["@HOURLY", "Every hour, on the hour"],
    ["@every 90s", "Every 90s, counted from a fixed origin (the time zone does not matter)"],
    ["* * * * *", "Every minute"],
    ["*/5 * * * *", "Every 5 minutes"],
    ["15 * * * *", "Every hour at minute 15"],
    ["0 */6 * * *", "Every 6 hours at minute 0"],
    ["30 4 * * *", "Every day at 04:30"],
    ["0 18 * * 1-5", "Every Monday to Friday at 18:00"],
    ["0 9 * * MON,wed", "Every Monday and Wednesday at 09:00"],
    ["0 9 * * 7", "Every Sunday at 09:00"],
    ["5 3 1 * *", "Every month on day 1 at 03:05"],
  ])("reads %s as %s", (expr, words) => {
    expect(describeCron(expr)).toBe(words);
  });

  it.each(["", "0 0 1 1 *", "0 0 1 * MON", "1 2 3", "61 * * * *", "0 0 * * 9"])("does not guess at %j", (expr) => {
    expect(describeCron(expr)).toBeNull();
  });

  it("finds the preset an expression came from", () => {
    expect(guessPreset("30 4 * * 3")).toEqual({ id: "weekly", options: { time: "04:30", weekday: 3, day: 1 } });
    expect(guessPreset("0 22 * * *")?.id).toBe("daily");
    expect(guessPreset("@hourly")?.id).toBe("hourly");
    expect(guessPreset("7 7 7 7 *")).toBeNull();
  });
});
