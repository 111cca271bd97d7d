import { describe, expect, it } from "vitest";
import { EditorSelection, EditorState, Transaction, type SelectionRange, type StateCommand } from "@codemirror/state";
import { history, newlineKeepIndent, redo, undo } from "./editorSetup";

// Edits applied as the view applies them, at chosen times, so grouping
// is decided by the transactions' timestamps and no clock is read.
function editor(doc: string) {
  let state = EditorState.create({ doc, extensions: history() });
  return {
    get doc() {
      return state.doc.toString();
    },
    type(at: number, insert: string, time: number, userEvent = "input.type") {
      state = state.update({ changes: { from: at, insert }, annotations: [Transaction.time.of(time), Transaction.userEvent.of(userEvent)] }).state;
    },
    run(cmd: StateCommand): boolean {
      return cmd({ state, dispatch: (tr) => (state = tr.state) });
    },
    set(sel: EditorSelection | SelectionRange) {
      state = state.update({ selection: sel }).state;
    },
  };
}

describe("editor history", () => {
  it("undoes and redoes an edit", () => {
    const e = editor("hello");
    e.type(5, " world", 1000);
    expect(e.run(undo)).toBe(true);
    expect(e.doc).toBe("hello");
    expect(e.run(redo)).toBe(true);
    expect(e.doc).toBe("hello world");
    expect(e.run(redo)).toBe(false);
  });

  it("undoes quick typing as one step and a pause as two", () => {
    const e = editor("");
    e.type(0, "a", 1000);
    e.type(1, "b", 1200);
    e.type(2, "c", 5000);
    e.run(undo);
    expect(e.doc).toBe("ab");
    e.run(undo);
    expect(e.doc).toBe("");
    expect(e.run(undo)).toBe(false);
    e.run(redo);
    e.run(redo);
    expect(e.doc).toBe("abc");
  });

  it("forgets what was undone once something new is typed", () => {
    const e = editor("x");
    e.type(1, "1", 1000);
    e.run(undo);
    e.type(1, "2", 9000);
    expect(e.run(redo)).toBe(false);
    expect(e.doc).toBe("x2");
    e.run(undo);
    expect(e.doc).toBe("x");
  });

  it("does not group a paste with the typing before it", () => {
    const e = editor("");
    e.type(0, "a", 1000);
    e.type(1, "PASTED", 1100, "input.paste");
    e.run(undo);
    expect(e.doc).toBe("a");
  });
});

describe("newlineKeepIndent", () => {
  it("carries the line's indentation to the new line", () => {
    const e = editor("root:\n  child: 1");
    e.set(EditorSelection.cursor("root:\n  child: 1".length));
    e.run(newlineKeepIndent);
    expect(e.doc).toBe("root:\n  child: 1\n  ");
  });
});
