import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { expect, type APIRequestContext, type Locator, type Page } from "@playwright/test";

// What the specs share: the cluster e2e/web_test.go started (through the
// environment), signing in, the selectors of the UI's contract, and the
// screenshots.

/** need reads an environment variable the suite cannot run without. */
function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite through e2e/web_test.go (cd e2e && go test -run TestWebUI .), which starts a cluster and sets it`);
  return v;
}

export const cluster = {
  get email() {
    return need("CATALYST_EMAIL");
  },
  get password() {
    return need("CATALYST_PASSWORD");
  },
  /** The name of the test game server's template. */
  get template() {
    return need("CATALYST_TEMPLATE");
  },
  /** The line the game server prints once it has started. */
  get banner() {
    return need("CATALYST_BANNER");
  },
};

/** run tells this run's objects apart; web_test.go passes its own to find
 * them afterwards. */
export const run = process.env.CATALYST_RUN || Date.now().toString(36);

/** The names the flow gives what it creates; web_test.go looks for the
 * same names through the API to cross-check the browser's work. */
export const names = {
  server: `web-${run}`,
  command: `say web-${run}`,
  file: "notes.txt",
  fileContent: `# notes\nnote ${run}\n`,
  fileEdit: `edited ${run}`,
  backup: `backup-${run}`,
};

/** login signs the administrator in through the login form. */
export async function login(page: Page) {
  await page.goto("/login");
  await page.getByLabel("Email", { exact: true }).fill(cluster.email);
  await page.getByLabel("Password", { exact: true }).fill(cluster.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

/** apiLogin is a bearer token for calls a spec makes beside the browser. */
export async function apiLogin(request: APIRequestContext): Promise<string> {
  const res = await request.post("/api/auth/login", { data: { email: cluster.email, password: cluster.password } });
  expect(res.status(), `login through the API: ${await res.text()}`).toBe(200);
  return ((await res.json()) as { data: { token: string } }).data.token;
}

/** The main region: tabs and page links inside it, apart from the
 * sidebar's (both have a "Users"). */
export function main(page: Page): Locator {
  return page.getByRole("main");
}

/** stateBadge is the server view's state badge. Radix widgets carry a
 * data-state of their own (open, closed), hence the class. */
export function stateBadge(page: Page): Locator {
  return main(page).locator(".badge[data-state]").first();
}

export function tab(page: Page, name: string): Locator {
  return main(page).getByRole("link", { name, exact: true });
}

/** selectContaining picks the first option of select whose text holds
 * text, or, without text, the first that can be chosen (a placeholder has
 * no value). */
export async function selectContaining(select: Locator, text?: string) {
  let value = "";
  await expect
    .poll(
      async () => {
        const options = await select.locator("option").evaluateAll((os) =>
          (os as HTMLOptionElement[]).filter((o) => o.value && !o.disabled).map((o) => ({ value: o.value, text: o.textContent ?? "" })),
        );
        value = options.find((o) => text === undefined || o.text.includes(text))?.value ?? "";
        return value;
      },
      { message: text === undefined ? "an option to choose" : `an option naming ${text}` },
    )
    .not.toBe("");
  await select.selectOption(value);
}

const shotsDir = process.env.CATALYST_SCREENSHOTS;

/** screenshots says whether this run saves screenshots
 * (CATALYST_SCREENSHOTS names the folder). */
export const screenshots = !!shotsDir;

/** shot saves a full-page PNG of the page as it settled, named name.png,
 * when screenshots are asked for. */
export async function shot(page: Page, name: string) {
  if (!shotsDir) return;
  await settle(page);
  mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true, animations: "disabled", caret: "hide" });
}

/** loaded waits until the main region has stopped loading, then fails if
 * any of its data regions shows an error: a page's heading shows before
 * its data, and stays when the data fails. */
export async function loaded(page: Page) {
  await expect(main(page).locator(".loading")).toHaveCount(0, { timeout: 30_000 });
  await expect(main(page).locator(".error-box"), "an error on the page").toHaveCount(0);
}

/** settle waits until no region is loading and the fonts are in. */
export async function settle(page: Page) {
  await expect(page.locator(".loading")).toHaveCount(0, { timeout: 30_000 });
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
}
