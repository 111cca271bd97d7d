// What a drop onto the file list holds: files, and folders walked into
// the files they hold, each with the folder path it sits in. Browsers
// expose folders of a drop only through the (non-standard but universal)
// webkitGetAsEntry; without it a drop holds its top-level files only.

export interface DroppedFile {
  file: File;
  /** The folder path inside the drop ("" at its top, "maps/custom" deeper). */
  dir: string;
}

export interface Dropped {
  files: DroppedFile[];
  /** Folders of the drop that hold no file, to be created empty. */
  emptyDirs: string[];
  /** Whether folders were dropped where the browser cannot read them. */
  foldersUnreadable: boolean;
}

/** entriesOf takes the entries out of a drop; it must run inside the
 * drop event, after which the browser empties the list. */
export function entriesOf(dt: DataTransfer): { entries: FileSystemEntry[] | null; files: File[] } {
  const files = Array.from(dt.files);
  const items = Array.from(dt.items ?? []).filter((i) => i.kind === "file");
  if (items.length === 0 || typeof items[0].webkitGetAsEntry !== "function") return { entries: null, files };
  const entries = items.map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  return { entries, files };
}

const isDir = (e: FileSystemEntry): e is FileSystemDirectoryEntry => e.isDirectory;
const isFile = (e: FileSystemEntry): e is FileSystemFileEntry => e.isFile;

function fileOf(e: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => e.file(resolve, reject));
}

/** children reads a folder whole: readEntries answers in batches until
 * an empty one. */
async function children(d: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = d.createReader();
  const out: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

/** collect walks the drop's entries into files and empty folders. */
export async function collect(drop: { entries: FileSystemEntry[] | null; files: File[] }): Promise<Dropped> {
  if (drop.entries === null) {
    // No entries API: folders show up as size-0 files without a type,
    // which cannot be told from empty files for sure; pass everything on
    // and let the upload of a folder fail with the agent's message.
    return { files: drop.files.map((file) => ({ file, dir: "" })), emptyDirs: [], foldersUnreadable: false };
  }
  const files: DroppedFile[] = [];
  const emptyDirs: string[] = [];
  let foldersUnreadable = false;
  const walk = async (e: FileSystemEntry, dir: string): Promise<number> => {
    if (isFile(e)) {
      files.push({ file: await fileOf(e), dir });
      return 1;
    }
    if (!isDir(e)) return 0;
    const path = dir ? `${dir}/${e.name}` : e.name;
    let kids: FileSystemEntry[];
    try {
      kids = await children(e);
    } catch {
      foldersUnreadable = true;
      return 0;
    }
    let n = 0;
    for (const k of kids) n += await walk(k, path);
    if (n === 0) emptyDirs.push(path);
    return n;
  };
  for (const e of drop.entries) await walk(e, "");
  return { files, emptyDirs, foldersUnreadable };
}
