import { Fragment, useId } from "react";
import { Link } from "react-router";
import * as DM from "@radix-ui/react-dropdown-menu";
import {
  ArrowDown,
  ArrowUp,
  Copy,
  Download,
  Ellipsis,
  File,
  FileArchive,
  FileSymlink,
  FileText,
  Folder,
  FolderInput,
  FolderOpen,
  FolderSymlink,
  Lock,
  Archive,
  PackageOpen,
  Pencil,
  Trash2,
  type LucideIcon,
} from "lucide-react";
import { Checkbox } from "../../../ui/Checkbox";
import { ago, bytes, dateTime } from "../../../ui/format";
import type { FileInfo, Order, SortKey } from "./api";
import { canEdit, filesHref, isArchive, isText, relativeTo } from "./paths";

/** What the caller may do with this server's files. */
export interface FilePerms {
  readContent: boolean;
  write: boolean;
  del: boolean;
  archive: boolean;
}

export type FileAction = "open" | "download" | "rename" | "move" | "copy" | "chmod" | "archive" | "unarchive" | "delete";

interface ActionItem {
  action: FileAction;
  label: string;
  icon: LucideIcon;
  danger?: boolean;
}

/** actionsFor lists what the row menu of e offers the caller, in order. */
export function actionsFor(e: FileInfo, p: FilePerms): ActionItem[] {
  const out: ActionItem[] = [];
  if (e.is_dir) out.push({ action: "open", label: "Open", icon: FolderOpen });
  else if (p.readContent && canEdit(e)) out.push({ action: "open", label: p.write ? "Edit" : "View", icon: Pencil });
  if (!e.is_dir && p.readContent) out.push({ action: "download", label: "Download", icon: Download });
  if (p.write) {
    out.push({ action: "rename", label: "Rename", icon: Pencil });
    out.push({ action: "move", label: "Move", icon: FolderInput });
    out.push({ action: "copy", label: "Copy", icon: Copy });
    out.push({ action: "chmod", label: "Permissions", icon: Lock });
  }
  if (p.archive) {
    out.push({ action: "archive", label: "Archive", icon: Archive });
    if (!e.is_dir && isArchive(e.name)) out.push({ action: "unarchive", label: "Unarchive", icon: PackageOpen });
  }
  if (p.del) out.push({ action: "delete", label: "Delete", icon: Trash2, danger: true });
  return out;
}

function iconOf(e: FileInfo): LucideIcon {
  if (e.is_dir) return e.is_symlink ? FolderSymlink : Folder;
  if (e.is_symlink) return FileSymlink;
  if (isArchive(e.name)) return FileArchive;
  return isText(e) ? FileText : File;
}

interface FileTableProps {
  entries: FileInfo[];
  /** The page address of the volume's top, "/servers/<id>/files". */
  base: string;
  dir: string;
  /** Search hits: each shows where it is, sorting is off. */
  searching?: boolean;
  selected: Set<string>;
  onSelectedChange: (next: Set<string>) => void;
  sort: SortKey;
  order: Order;
  onSort: (key: SortKey) => void;
  perms: FilePerms;
  /** A file's name was activated: edit it or download it. */
  onOpenFile: (e: FileInfo) => void;
  onAction: (action: FileAction, e: FileInfo) => void;
}

const COLUMNS: { key: SortKey; label: string; className: string }[] = [
  { key: "name", label: "Name", className: "files-col-name" },
  { key: "size", label: "Size", className: "files-col-size num" },
  { key: "modified", label: "Modified", className: "files-col-modified" },
];

/** FileTable lists entries with a checkbox each, sortable columns and a
 * menu of actions per row. */
export function FileTable(props: FileTableProps) {
  const { entries, selected, onSelectedChange, sort, order, onSort, searching } = props;
  const all = entries.length > 0 && entries.every((e) => selected.has(e.path));
  const some = entries.some((e) => selected.has(e.path));
  const toggleAll = (on: boolean) => onSelectedChange(on ? new Set(entries.map((e) => e.path)) : new Set());
  return (
    <div className="table-wrap files-table-wrap">
      <table className="table files-table">
        <caption className="sr-only">{searching ? "Search results" : "Folder contents"}</caption>
        <thead>
          <tr>
            <th className="files-col-check">
              <Checkbox checked={all ? true : some ? "indeterminate" : false} onCheckedChange={toggleAll} label={<span className="sr-only">Select all</span>} disabled={entries.length === 0} />
            </th>
            {COLUMNS.map((c) => (
              <th key={c.key} className={c.className} aria-sort={!searching && sort === c.key ? (order === "asc" ? "ascending" : "descending") : undefined}>
                {searching ? (
                  c.label
                ) : (
                  <button className="files-sort" onClick={() => onSort(c.key)}>
                    {c.label}
                    {sort === c.key && (order === "asc" ? <ArrowUp size={12} aria-hidden /> : <ArrowDown size={12} aria-hidden />)}
                  </button>
                )}
              </th>
            ))}
            <th className="files-col-mode">Mode</th>
            <th className="files-col-actions">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <Row key={e.path} entry={e} {...props} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Row({ entry: e, base, dir, searching, selected, onSelectedChange, perms, onOpenFile, onAction }: FileTableProps & { entry: FileInfo }) {
  const nameId = useId();
  const Icon = iconOf(e);
  const isSelected = selected.has(e.path);
  const toggle = (on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(e.path);
    else next.delete(e.path);
    onSelectedChange(next);
  };
  const actions = actionsFor(e, perms);
  const where = searching ? relativeTo(dir, e.path) : "";
  return (
    <tr className={isSelected ? "files-row-selected" : undefined}>
      <td className="files-col-check">
        <Checkbox checked={isSelected} onCheckedChange={toggle} label={<span className="sr-only">Select {e.name}</span>} />
      </td>
      <td className="files-col-name">
        <div className="files-name-cell">
          <Icon size={16} aria-hidden className={e.is_dir ? "files-icon-dir" : "files-icon"} />
          <div className="files-name-text">
            {e.is_dir ? (
              <Link id={nameId} to={filesHref(base, e.path)} className="files-name">
                {e.name}
              </Link>
            ) : perms.readContent ? (
              <button id={nameId} className="files-name" onClick={() => onOpenFile(e)} title={canEdit(e) ? "Open in the editor" : "Download"}>
                {e.name}
              </button>
            ) : (
              <span id={nameId} className="files-name-plain">
                {e.name}
              </span>
            )}
            {where && where !== e.name && <span className="muted small files-where">{where}</span>}
          </div>
        </div>
      </td>
      <td className="files-col-size num">{e.is_dir ? <span className="muted">—</span> : bytes(e.size)}</td>
      <td className="files-col-modified">
        <time dateTime={e.modified} title={dateTime(e.modified)}>
          {ago(e.modified)}
        </time>
      </td>
      <td className="files-col-mode">
        <code title={e.mode}>{e.mode_string}</code>
      </td>
      <td className="files-col-actions">
        {actions.length > 0 && (
          <DM.Root>
            <DM.Trigger asChild>
              <button className="icon-button" aria-label="Actions" aria-describedby={nameId}>
                <Ellipsis size={16} />
              </button>
            </DM.Trigger>
            <DM.Portal>
              <DM.Content className="menu" align="end" sideOffset={4}>
                {actions.map((a, i) => (
                  <Fragment key={a.action}>
                    {a.danger && i > 0 && <DM.Separator className="menu-sep" />}
                    <DM.Item className={`menu-item ${a.danger ? "menu-item-danger" : ""}`} onSelect={() => onAction(a.action, e)}>
                      <a.icon size={14} aria-hidden />
                      {a.label}
                    </DM.Item>
                  </Fragment>
                ))}
              </DM.Content>
            </DM.Portal>
          </DM.Root>
        )}
      </td>
    </tr>
  );
}
