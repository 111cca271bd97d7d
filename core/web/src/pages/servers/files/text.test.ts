import { describe, expect, it } from "vitest";
import { decodeText } from "./text";

const enc = (s: string) => new TextEncoder().encode(s);

describe("decodeText", () => {
  it("reads UTF-8 text with Unix line endings", () => {
    expect(decodeText(enc("motd=Grüße\nmax-players=20\n"))).toEqual({ kind: "text", text: "motd=Grüße\nmax-players=20\n", eol: "\n" });
  });

  it("keeps Windows line endings when most lines have them", () => {
    const d = decodeText(enc("a\r\nb\r\nc\n"));
    expect(d).toMatchObject({ kind: "text", eol: "\r\n" });
  });

  it("keeps a byte-order mark in the text so saving writes it back", () => {
    const d = decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]));
    expect(d).toEqual({ kind: "text", text: "\ufeffa", eol: "\n" });
  });

  it("refuses binary files", () => {
    expect(decodeText(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x01]))).toEqual({ kind: "binary" });
  });

  it("refuses text that is not UTF-8 instead of mangling it", () => {
    // "café" in Latin-1.
    expect(decodeText(new Uint8Array([0x63, 0x61, 0x66, 0xe9]))).toEqual({ kind: "not-utf8" });
  });

  it("reads an empty file as empty text", () => {
    expect(decodeText(new Uint8Array())).toEqual({ kind: "text", text: "", eol: "\n" });
  });
});
