import type { ReactNode } from "react";

/** A column heading: its words, or a label with a class ("num" aligns
 * numbers right); false leaves the column out. */
export type Column = string | { label: ReactNode; className?: string } | false;

interface DataTableProps {
  columns: Column[];
  /** Adds a last column for the rows' buttons, its heading for screen
   * readers only. */
  actions?: boolean;
  /** The phone layout turns each row into a block (stack-sm); explicit
   * roles keep the table's semantics, which some browsers drop with it.
   * The rows then carry role="row" and their cells role="cell". */
  stacked?: boolean;
  /** Classes for the table beside "table". */
  className?: string;
  /** Classes for the frame beside "table-wrap". */
  wrapClassName?: string;
  /** The body's rows. */
  children: ReactNode;
}

/** DataTable is a table of records in a frame that scrolls sideways on a
 * narrow screen. */
export function DataTable({ columns, actions, stacked, className, wrapClassName, children }: DataTableProps) {
  const th = stacked ? ({ scope: "col", role: "columnheader" } as const) : {};
  const rowgroup = stacked ? ({ role: "rowgroup" } as const) : {};
  return (
    <div className={classes("table-wrap", wrapClassName)}>
      <table className={classes("table", className, stacked && "stack-sm")} role={stacked ? "table" : undefined}>
        <thead {...rowgroup}>
          <tr role={stacked ? "row" : undefined}>
            {columns.map((c, i) =>
              c === false ? null : typeof c === "string" ? (
                <th key={i} {...th}>
                  {c}
                </th>
              ) : (
                <th key={i} {...th} className={c.className}>
                  {c.label}
                </th>
              ),
            )}
            {actions && (
              <th {...th}>
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody {...rowgroup}>{children}</tbody>
      </table>
    </div>
  );
}

function classes(...names: (string | false | undefined)[]): string {
  return names.filter(Boolean).join(" ");
}
