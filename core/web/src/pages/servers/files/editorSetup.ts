// The editor's CodeMirror setup: CodeMirror's own editing commands,
// history and search, with colours from the page's CSS variables so one
// theme serves dark and light (only CodeMirror's dark flag follows the
// theme).
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching, foldGutter, foldKeymap, HighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { EditorState, type Extension } from "@codemirror/state";
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
    highlightSelectionMatches(),
    EditorView.contentAttributes.of({ "aria-label": label }),
    keymap.of([
      { key: "Mod-s", run: save, preventDefault: true },
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...foldKeymap,
    ]),
  ];
}
