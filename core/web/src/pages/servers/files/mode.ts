// Unix permission bits as the chmod dialog shows them: an octal string
// ("0644", what the API takes) and nine read/write/execute boxes, kept in
// sync. The special bits (setuid, setgid, sticky) have no boxes; they
// ride along in the octal value.

export const WHO = ["owner", "group", "others"] as const;
export const WHAT = ["read", "write", "execute"] as const;

/** Bits are the nine boxes, owner rwx, group rwx, others rwx. */
export type Bits = boolean[];

/** parseOctal reads "644", "0644" or "4755"; null when it is not 3 or 4
 * octal digits. */
export function parseOctal(s: string): number | null {
  const t = s.trim();
  if (!/^[0-7]{3,4}$/.test(t)) return null;
  return parseInt(t, 8);
}

/** formatOctal is the four-digit form the API takes ("0644"). */
export function formatOctal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/** toBits is the nine boxes of mode. */
export function toBits(mode: number): Bits {
  const out: Bits = [];
  for (let i = 8; i >= 0; i--) out.push((mode & (1 << i)) !== 0);
  return out;
}

/** fromBits is the mode the boxes say, keeping base's special bits. */
export function fromBits(bits: Bits, base = 0): number {
  let mode = base & 0o7000;
  bits.forEach((on, i) => {
    if (on) mode |= 1 << (8 - i);
  });
  return mode;
}

/** symbolic is mode as ls prints it: "-rw-r--r--", "drwxr-sr-x". */
export function symbolic(mode: number, isDir = false): string {
  const chars = toBits(mode).map((on, i) => (on ? "rwx"[i % 3] : "-"));
  const special = (at: number, bit: number, set: string, unset: string) => {
    if (mode & bit) chars[at] = chars[at] === "x" ? set : unset;
  };
  special(2, 0o4000, "s", "S");
  special(5, 0o2000, "s", "S");
  special(8, 0o1000, "t", "T");
  return (isDir ? "d" : "-") + chars.join("");
}
