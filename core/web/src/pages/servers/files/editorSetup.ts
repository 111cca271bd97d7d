// The editor's CodeMirror setup. The "codemirror" package the panel
// depends on (6.65.7) is in fact CodeMirror 5 published under a 6.x
// version, so there is no basicSetup to import, and @codemirror/commands
// (undo history, keymaps) and @codemirror/search are not installed. The
// setup is therefore assembled here from @codemirror/view, state,
// language and autocomplete, with a small undo history of its own.
// Colours come from the page's CSS variables, so one theme serves dark
// and light; only CodeMirror's own dark flag follows the theme.
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { bracketMatching, foldGutter, foldKeymap, HighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { Annotation, ChangeSet, EditorSelection, EditorState, StateField, Transaction, type Extension, type StateCommand } from "@codemirror/state";
import {
  crosshairCursor,
  drawSelection,
  dropCursor,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
  type Command,
} from "@codemirror/view";
import { tags as t } from "@lezer/highlight";

// ---- undo history ----

interface HistoryEntry {
  /** Takes the document back to before the edit. */
  undo: ChangeSet;
  /** The selection before the edit. */
  selection: EditorSelection;
  /** When the edit happened and its user event ("input.type",
   * "delete.backward", …), for grouping. */
  at: number;
  kind: string;
}

interface HistoryState {
  done: readonly HistoryEntry[];
  undone: readonly HistoryEntry[];
}

/** Marks the transactions that replay the history. */
const fromHistory = Annotation.define<"undo" | "redo">();

/** Typing within this long of the previous keystroke undoes with it. */
const GROUP_MS = 600;
const MAX_DEPTH = 500;

const push = (stack: readonly HistoryEntry[], e: HistoryEntry) => [...stack, e].slice(-MAX_DEPTH);

const historyField = StateField.define<HistoryState>({
  create: () => ({ done: [], undone: [] }),
  update(h, tr) {
    if (!tr.docChanged) return h;
    const entry: HistoryEntry = {
      undo: tr.changes.invert(tr.startState.doc),
      selection: tr.startState.selection,
      at: tr.annotation(Transaction.time) ?? 0,
      kind: tr.annotation(Transaction.userEvent) ?? "",
    };
    // A replay took the last entry of one stack; its inverse goes on the other.
    switch (tr.annotation(fromHistory)) {
      case "undo":
        return { done: h.done.slice(0, -1), undone: push(h.undone, entry) };
      case "redo":
        return { done: push(h.done, entry), undone: h.undone.slice(0, -1) };
    }
    const last = h.done[h.done.length - 1];
    // Typing groups with typing, deleting with deleting; a paste, a cut or
    // a drop is a step of its own.
    const groups = (entry.kind === "input.type" || entry.kind.startsWith("delete.")) && last?.kind === entry.kind && entry.at - last.at < GROUP_MS;
    if (groups) {
      // Undone in one step: this edit's inverse first, then the earlier one's.
      return { done: [...h.done.slice(0, -1), { ...last, undo: entry.undo.compose(last.undo), at: entry.at }], undone: [] };
    }
    return { done: push(h.done, entry), undone: [] };
  },
});

function replay(from: "done" | "undone", mark: "undo" | "redo"): StateCommand {
  return ({ state, dispatch }) => {
    const stack = state.field(historyField, false)?.[from];
    const entry = stack?.[stack.length - 1];
    if (!entry || state.readOnly) return false;
    dispatch(
      state.update({
        changes: entry.undo,
        selection: entry.selection,
        annotations: [fromHistory.of(mark), Transaction.userEvent.of(mark)],
        scrollIntoView: true,
      }),
    );
    return true;
  };
}

/** undo and redo walk the history; false when there is nothing to walk. */
export const undo: StateCommand = replay("done", "undo");
export const redo: StateCommand = replay("undone", "redo");

/** history records edits for undo and redo. */
export function history(): Extension {
  return historyField;
}

// ---- editing commands @codemirror/commands would give ----

/** newlineKeepIndent breaks the line, carrying the current line's
 * leading whitespace over (YAML and most configs need it). */
export const newlineKeepIndent: StateCommand = ({ state, dispatch }) => {
  if (state.readOnly) return false;
  const tr = state.changeByRange((range) => {
    const line = state.doc.lineAt(range.from);
    const indent = /^[ \t]*/.exec(line.text)![0].slice(0, range.from - line.from);
    const insert = "\n" + indent;
    return { changes: { from: range.from, to: range.to, insert }, range: EditorSelection.cursor(range.from + insert.length) };
  });
  dispatch(state.update(tr, { scrollIntoView: true, userEvent: "input" }));
  return true;
};

// ---- looks ----

/** editorTheme is the editor's look; dark tells CodeMirror which of its
 * defaults to pick. */
export const editorTheme = (dark: boolean): Extension =>
  EditorView.theme(
    {
      "&": { color: "var(--text)", backgroundColor: "var(--bg-sunken)", height: "100%", fontSize: "13px" },
      "&.cm-focused": { outline: "2px solid var(--focus)", outlineOffset: "-2px" },
      ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.55" },
      ".cm-content": { caretColor: "var(--text)" },
      ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--text)" },
      "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection": {
        backgroundColor: "var(--accent-soft)",
      },
      ".cm-gutters": { backgroundColor: "var(--bg-raised)", color: "var(--text-muted)", borderRight: "1px solid var(--border)" },
      ".cm-activeLine": { backgroundColor: "color-mix(in srgb, var(--bg-hover) 55%, transparent)" },
      ".cm-activeLineGutter": { backgroundColor: "var(--bg-hover)", color: "var(--text)" },
      ".cm-matchingBracket, &.cm-focused .cm-matchingBracket": { backgroundColor: "var(--accent-soft)", outline: "1px solid var(--accent)" },
      ".cm-nonmatchingBracket, &.cm-focused .cm-nonmatchingBracket": { color: "var(--bad)" },
      ".cm-foldPlaceholder": { backgroundColor: "var(--bg-hover)", border: "1px solid var(--border)", color: "var(--text-muted)" },
      ".cm-tooltip": { backgroundColor: "var(--bg-raised)", border: "1px solid var(--border)", color: "var(--text)" },
      ".cm-specialChar": { color: "var(--bad)" },
    },
    { dark },
  );

const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.operatorKeyword, t.modifier, t.definitionKeyword, t.moduleKeyword], color: "var(--accent)" },
  { tag: [t.string, t.special(t.string), t.regexp, t.character], color: "var(--ok)" },
  { tag: [t.number, t.bool, t.null, t.atom, t.unit], color: "var(--warn)" },
  { tag: [t.comment, t.lineComment, t.blockComment, t.docComment], color: "var(--text-muted)", fontStyle: "italic" },
  { tag: [t.propertyName, t.attributeName, t.definition(t.propertyName), t.labelName], color: "var(--busy)" },
  { tag: [t.tagName, t.typeName, t.className, t.namespace], color: "var(--accent)", fontWeight: "600" },
  { tag: [t.heading, t.strong], fontWeight: "bold" },
  { tag: t.emphasis, fontStyle: "italic" },
  { tag: t.link, textDecoration: "underline" },
  { tag: [t.meta, t.processingInstruction, t.documentMeta], color: "var(--text-muted)" },
  { tag: [t.inserted], color: "var(--ok)" },
  { tag: [t.deleted, t.invalid], color: "var(--bad)" },
]);

interface SetupOptions {
  /** Called on Mod-s; the browser's save dialog never opens. */
  save: Command;
  /** The accessible name of the text area. */
  label: string;
}

/** basicSetup is the editor's extensions bar the theme, the language and
 * the read-only state, which change at run time (see Editor.tsx). */
export function basicSetup({ save, label }: SetupOptions): Extension {
  return [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    foldGutter(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    syntaxHighlighting(highlight),
    bracketMatching(),
    closeBrackets(),
    rectangularSelection(),
    crosshairCursor(),
    highlightActiveLine(),
    EditorView.contentAttributes.of({ "aria-label": label }),
    keymap.of([
      { key: "Mod-s", run: save, preventDefault: true },
      { key: "Mod-z", run: undo, preventDefault: true },
      { key: "Mod-y", run: redo, preventDefault: true },
      { key: "Mod-Shift-z", run: redo, preventDefault: true },
      { key: "Enter", run: newlineKeepIndent },
      ...closeBracketsKeymap,
      ...foldKeymap,
    ]),
  ];
}
