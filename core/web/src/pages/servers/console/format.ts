// What the console writes to the terminal for each kind of message. The
// colours are ANSI ones the terminal's theme maps to the page's (magenta
// is the accent), so they follow the light and dark themes.

import { bytes } from "../../../ui/format";

const RESET = "\x1b[0m";
const DIM = "\x1b[2m";
const TONES = { info: "35", warn: "33", error: "31" } as const;

export type Tone = keyof typeof TONES;

function line(s: string): string {
  // One line each: a stray carriage return would let the next text
  // overwrite it, and a newline inside would skip the carriage return.
  return s.replace(/\r?\n|\r/g, " ") + "\r\n";
}

/** outputText is game console output, as the game printed it. */
export function outputText(lines: string[]): string {
  return lines.map((l) => l.replace(/\r$/, "")).map(line).join("");
}

/** installText is installer output, each line marked as such. */
export function installText(lines: string[]): string {
  return lines.map((l) => `${DIM}[installer]${RESET} ${l.replace(/\r$/, "")}`).map(line).join("");
}

/** noticeText is a line from Catalyst itself, coloured by tone. */
export function noticeText(text: string, tone: Tone = "info"): string {
  return line(`\x1b[1;${TONES[tone]}m[Catalyst]${RESET} \x1b[${TONES[tone]}m${text}${RESET}`);
}

/** daemonTone maps a daemon message's level to a tone. */
export function daemonTone(level: string): Tone {
  const l = level.toLowerCase();
  if (l.startsWith("err") || l === "fatal") return "error";
  if (l.startsWith("warn")) return "warn";
  return "info";
}

/** throttledText explains console lines that were not delivered. */
export function throttledText(source: string, dropped: number): string {
  const n = `${dropped} line${dropped === 1 ? "" : "s"}`;
  return source === "node"
    ? noticeText(`${n} skipped: the server printed faster than its node forwards console output.`, "warn")
    : noticeText(`${n} skipped: this connection fell behind the console.`, "warn");
}

const STATUS_WORDS: Record<string, string> = {
  stopped: "Server stopped",
  crashed: "Server crashed",
  install_failed: "Installation failed",
  installing: "Server is installing",
};

/** statusText announces a state change, with how the process ended. */
export function statusText(m: { state: string; reason?: string; exit_code?: number; oom_killed?: boolean; crash_loop?: boolean }): string {
  const parts = [STATUS_WORDS[m.state] ?? `Server is ${m.state.replace("_", " ")}`];
  if (m.reason) parts.push(m.reason);
  else if (m.oom_killed) parts.push("killed for running out of memory");
  else if (m.exit_code !== undefined) parts.push(`exit code ${m.exit_code}`);
  let text = parts.join(": ") + ".";
  if (m.crash_loop) text += " It crashed too often in a row and is not restarted automatically.";
  const tone: Tone = m.state === "crashed" || m.state === "install_failed" ? "error" : "info";
  return noticeText(text, tone);
}

/** usage is "used / limit" for the mini stats. */
export function usage(used: number, limit: number): string {
  return limit > 0 ? `${bytes(used)} / ${bytes(limit)}` : bytes(used);
}
