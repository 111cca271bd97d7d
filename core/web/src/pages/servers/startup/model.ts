// The startup view of the core (GET /api/servers/:id/startup) and what a
// change to it sends.

export interface StartupImage {
  label: string;
  image: string;
  selected: boolean;
}

export interface StartupVariable {
  name: string;
  env_name: string;
  description: string;
  /** The server's value, or the default when it has none. */
  value: string;
  default: string;
  /** Whether the caller may change it (given startup.update). */
  editable: boolean;
  rules: string;
}

export interface StartupView {
  images: StartupImage[];
  image: string;
  /** The command line with its {{VARIABLE}} placeholders, and filled in. */
  startup: string;
  startup_rendered: string;
  variables: StartupVariable[];
}

export interface StartupDraft {
  image: string;
  startup: string;
  env: Record<string, string>;
}

export function draftOf(v: StartupView): StartupDraft {
  return { image: v.image, startup: v.startup, env: Object.fromEntries(v.variables.map((x) => [x.env_name, x.value])) };
}

/** StartupChange is the PATCH body: only what changed. */
export interface StartupChange {
  environment?: Record<string, string>;
  image?: string;
  startup?: string;
}

export function changeOf(v: StartupView, d: StartupDraft): StartupChange {
  const out: StartupChange = {};
  const env: Record<string, string> = {};
  for (const x of v.variables) {
    if (d.env[x.env_name] !== x.value) env[x.env_name] = d.env[x.env_name];
  }
  if (Object.keys(env).length > 0) out.environment = env;
  if (d.image !== v.image) out.image = d.image;
  if (d.startup !== v.startup) out.startup = d.startup;
  return out;
}

export function isEmptyChange(c: StartupChange): boolean {
  return !c.environment && c.image === undefined && c.startup === undefined;
}

/** imageOptions are the template's images, with the server's own kept in
 * when an administrator set one the template does not list. */
export function imageOptions(v: StartupView): { label: string; image: string }[] {
  const opts = v.images.map((i) => ({ label: i.label || i.image, image: i.image }));
  if (v.image && !opts.some((o) => o.image === v.image)) opts.unshift({ label: `${v.image} (set by an administrator)`, image: v.image });
  return opts;
}

/** preview fills the command line's {{VARIABLE}} placeholders with the
 * draft's values, leaving the ones it does not know as they are (hidden
 * variables are the core's to fill). */
export function preview(startup: string, env: Record<string, string>): string {
  return startup.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (m, name: string) => (name in env ? env[name] : m));
}
