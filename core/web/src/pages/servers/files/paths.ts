// Volume paths as the file API takes them: slash-separated, relative to
// the server's volume, with a leading slash ("/" is its top). The agent
// resolves and confines them; these helpers only build and split them,
// and map them to the page's address (/servers/:id/files/<dir>).

/** normalize turns any spelling of a volume path into "/a/b": doubled and
 * trailing slashes and "." go, ".." climbs (never above the top). */
export function normalize(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

/** join is name inside dir. */
export function join(dir: string, name: string): string {
  return normalize(dir + "/" + name);
}

/** parent is the directory holding p ("/" for the top itself). */
export function parent(p: string): string {
  const n = normalize(p);
  return n.slice(0, n.lastIndexOf("/")) || "/";
}

/** baseName is the last segment of p ("" for the top). */
export function baseName(p: string): string {
  const n = normalize(p);
  return n.slice(n.lastIndexOf("/") + 1);
}

/** segments are the directories from the top down to p, each with its
 * full path, for a breadcrumb. */
export function segments(p: string): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  let at = "";
  for (const name of normalize(p).split("/").filter(Boolean)) {
    at += "/" + name;
    out.push({ name, path: at });
  }
  return out;
}

/** relativeTo is p as seen from dir ("plugins/x.yml" from "/config"), or
 * p itself when it is not under dir. */
export function relativeTo(dir: string, p: string): string {
  const d = normalize(dir);
  const n = normalize(p);
  if (d === "/") return n.slice(1);
  return n.startsWith(d + "/") ? n.slice(d.length + 1) : n;
}

/** validName checks a single file name typed by the user; it answers
 * what is wrong, or undefined when the name is fine. */
export function validName(name: string): string | undefined {
  if (name.trim() === "") return "Enter a name.";
  if (name.includes("/")) return "A name cannot contain “/”.";
  if (name === "." || name === "..") return `“${name}” is not a file name.`;
  if (/[\u0000-\u001f\u007f]/.test(name)) return "A name cannot contain control characters.";
  return undefined;
}

/** dirFromSplat is the directory a files URL's splat names ("config/x"
 * → "/config/x"); react-router hands the splat over decoded. */
export function dirFromSplat(splat: string | undefined): string {
  return normalize(splat ?? "");
}

/** filesHref is the page address of dir (and of a file open in the
 * editor there): base is "/servers/<id>/files". Each segment is encoded,
 * so names with "#", "?", "%" or spaces survive the round trip. */
export function filesHref(base: string, dir: string, edit?: { name: string; isNew?: boolean }): string {
  const encoded = segments(dir)
    .map((s) => encodeURIComponent(s.name))
    .join("/");
  let href = base.replace(/\/+$/, "") + "/" + encoded;
  if (edit) {
    const q = new URLSearchParams({ edit: edit.name });
    if (edit.isNew) q.set("new", "1");
    href += "?" + q.toString();
  }
  return href;
}

/** extension is the lower-case file type of a name, keeping the double
 * extensions of archives: "world.tar.gz" → "tar.gz", "Makefile" → "". */
export function extension(name: string): string {
  const lower = name.toLowerCase();
  for (const double of ["tar.gz", "tar.xz", "tar.bz2", "tar.zst"]) {
    if (lower.endsWith("." + double)) return double;
  }
  const dot = lower.lastIndexOf(".");
  return dot <= 0 ? "" : lower.slice(dot + 1);
}

/** The archives the agent extracts (tar, tar.gz, tar.xz, zip). */
const ARCHIVES = new Set(["zip", "tar", "tar.gz", "tgz", "tar.xz", "txz"]);

export function isArchive(name: string): boolean {
  return ARCHIVES.has(extension(name));
}

/** The largest file the editor opens; bigger ones download. */
export const MAX_EDIT_BYTES = 4 * 1024 * 1024;

// Types that are text whatever the MIME table says, and names without an
// extension that are text by convention.
const TEXT_EXTENSIONS = new Set([
  "txt", "log", "md", "csv", "tsv", "properties", "yml", "yaml", "toml", "json", "json5", "jsonc", "mcmeta",
  "cfg", "conf", "config", "ini", "env", "lang", "sk", "sh", "bash", "zsh", "bat", "cmd", "ps1", "lua",
  "js", "mjs", "cjs", "ts", "xml", "html", "htm", "css", "py", "rb", "sql", "acl", "list",
  "secret", "whitelist", "banned", "ops", "motd", "rules", "service", "tmpl", "template", "vdf", "cs",
  "java", "kt", "go", "rs", "c", "h", "cpp", "hpp", "gradle", "diff", "patch",
]);
const TEXT_NAMES = new Set(["dockerfile", "makefile", "license", "readme", "changelog", ".gitignore", ".env", ".htaccess"]);
// Types that are never text even when small.
const BINARY_EXTENSIONS = new Set([
  "jar", "zip", "gz", "tgz", "xz", "bz2", "zst", "7z", "rar", "tar", "png", "jpg", "jpeg", "gif", "webp", "ico",
  "bmp", "mp3", "ogg", "wav", "mp4", "webm", "so", "dll", "exe", "bin", "dat", "mca", "mcr", "nbt", "db",
  "sqlite", "class", "pak", "vpk", "bsp", "wad", "pdf", "ttf", "otf", "woff", "woff2",
]);

interface Editable {
  name: string;
  size: number;
  is_dir: boolean;
  mime_type: string;
}

/** isText guesses from its name and MIME type whether a file is text. */
export function isText(f: Pick<Editable, "name" | "mime_type">): boolean {
  const ext = extension(f.name);
  if (BINARY_EXTENSIONS.has(ext)) return false;
  if (TEXT_EXTENSIONS.has(ext) || TEXT_NAMES.has(f.name.toLowerCase())) return true;
  const mime = f.mime_type || "";
  if (mime.startsWith("text/")) return true;
  if (/^application\/(json|xml|yaml|x-yaml|toml|javascript|x-sh|x-shellscript|x-httpd-php|sql)\b/.test(mime)) return true;
  if (/\+(json|xml)$/.test(mime)) return true;
  // No extension at all (start scripts, eula, …) is more often text than not.
  return ext === "" && (mime === "" || mime === "application/octet-stream");
}

/** canEdit says whether a file opens in the editor (text and small
 * enough) rather than downloading. */
export function canEdit(f: Editable): boolean {
  return !f.is_dir && f.size <= MAX_EDIT_BYTES && isText(f);
}
