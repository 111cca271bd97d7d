// Turning a file's bytes into editor text and back without changing what
// the editor did not touch: line endings and a byte-order mark survive,
// and bytes that are not UTF-8 text are refused rather than mangled.

export type Decoded =
  | { kind: "text"; text: string; eol: "\n" | "\r\n" }
  /** NUL bytes: a binary file. */
  | { kind: "binary" }
  /** Not valid UTF-8 (Latin-1, UTF-16, …): saving would corrupt it. */
  | { kind: "not-utf8" };

/** How far into a file a NUL byte marks it as binary. */
const SNIFF_BYTES = 8000;

/** decodeText reads bytes as UTF-8 text, noting its line ending. */
export function decodeText(bytes: Uint8Array): Decoded {
  if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return { kind: "binary" };
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so saving writes it back.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { kind: "not-utf8" };
  }
  // The editor splits lines on any ending and joins them with one; the
  // file keeps the ending most of its lines have.
  const crlf = text.split("\r\n").length - 1;
  const lf = text.split("\n").length - 1 - crlf;
  return { kind: "text", text, eol: crlf > lf ? "\r\n" : "\n" };
}
