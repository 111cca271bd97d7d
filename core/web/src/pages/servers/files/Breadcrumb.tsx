import { Link } from "react-router";
import { ChevronRight, Home } from "lucide-react";
import { filesHref, segments } from "./paths";

/** Breadcrumb links every directory from the volume's top down to dir;
 * file, when given, is the last crumb (the file open in the editor). */
export function Breadcrumb({ base, dir, file }: { base: string; dir: string; file?: string }) {
  const crumbs = segments(dir);
  const current = (i: number) => !file && i === crumbs.length - 1;
  return (
    <nav aria-label="Breadcrumb" className="files-crumbs">
      <ol>
        <li>
          <Link to={filesHref(base, "/")} aria-current={!file && crumbs.length === 0 ? "page" : undefined} className="files-crumb">
            <Home size={14} aria-hidden />
            <span>home</span>
          </Link>
        </li>
        {crumbs.map((c, i) => (
          <li key={c.path}>
            <ChevronRight size={14} aria-hidden className="files-crumb-sep" />
            <Link to={filesHref(base, c.path)} aria-current={current(i) ? "page" : undefined} className="files-crumb">
              {c.name}
            </Link>
          </li>
        ))}
        {file && (
          <li>
            <ChevronRight size={14} aria-hidden className="files-crumb-sep" />
            <span className="files-crumb files-crumb-file" aria-current="page">
              {file}
            </span>
          </li>
        )}
      </ol>
    </nav>
  );
}
