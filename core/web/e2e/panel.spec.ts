import { expect, test, type Page } from "@playwright/test";
import { cluster, login, main, names, run, screenshots, selectContaining, shot, stateBadge, tab } from "./helpers";

// The life of a server as a user clicks through it, against a real core
// and a real game server on containerd: create, start, console, files,
// backups, stop.

const consoleRows = (page: Page) => page.locator('[data-testid="console"] .xterm-rows');

test("a server from creation to backup, through the panel", async ({ page }) => {
  // The server sockets the page opens, and the token renewals on them
  // (the core runs with 70 s access tokens; see web_test.go).
  const sockets: string[] = [];
  let renewed = 0;
  page.on("websocket", (ws) => {
    if (!/\/api\/servers\/[^/]+\/ws/.test(ws.url())) return;
    sockets.push(ws.url());
    ws.on("framereceived", (f) => {
      if (typeof f.payload === "string" && f.payload.includes('"type":"auth_success"')) renewed++;
    });
  });

  await test.step("sign in", async () => {
    await page.goto("/login");
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    await shot(page, "login");
    await page.getByLabel("Email", { exact: true }).fill(cluster.email);
    await page.getByLabel("Password", { exact: true }).fill(cluster.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/$/);
  });

  await test.step("create a server from the list", async () => {
    await main(page).getByRole("link", { name: "New server" }).click();
    await page.getByLabel("Name", { exact: true }).fill(names.server);
    await selectContaining(page.getByLabel("Template", { exact: true }), cluster.template);
    await selectContaining(page.getByLabel("Node", { exact: true }));
    await page.getByRole("button", { name: "Create server" }).click();
    await expect(page).toHaveURL(/\/servers\/[^/]+\/console$/);
    await expect(page.getByRole("heading", { level: 1, name: names.server })).toBeVisible();
  });

  await test.step("the install finishes", async () => {
    await expect(stateBadge(page)).toHaveAttribute("data-state", "stopped", { timeout: 180_000 });
    await expect(stateBadge(page)).toHaveText("Offline");
  });

  await test.step("start: the game's banner reaches the console", async () => {
    await main(page).getByRole("button", { name: "Start", exact: true }).click();
    await expect(consoleRows(page)).toContainText(cluster.banner, { timeout: 120_000 });
    await expect(stateBadge(page)).toHaveAttribute("data-state", "running");
  });

  await test.step("the socket renews its token without reconnecting", async () => {
    await expect.poll(() => renewed, { timeout: 45_000, message: "auth_success on the server socket" }).toBeGreaterThan(0);
    expect(sockets, "server sockets opened").toHaveLength(1);
  });

  await test.step("a command is echoed by the game", async () => {
    const input = page.getByLabel("Console command", { exact: true });
    await input.fill(names.command);
    await input.press("Enter");
    await expect(consoleRows(page)).toContainText(`echo: ${names.command}`);
    // Still the one socket, through every renewal so far.
    expect(sockets, "server sockets opened").toHaveLength(1);
    await shot(page, "console");
    if (screenshots) {
      await page.setViewportSize({ width: 390, height: 844 });
      await expect(consoleRows(page)).toBeVisible();
      await shot(page, "console-phone");
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });

  if (screenshots) {
    await test.step("stats of the running server", async () => {
      await tab(page, "Stats").click();
      await expect(page).toHaveURL(/\/stats$/);
      // A few live samples, so the charts have lines to show.
      await page.waitForTimeout(5_000);
      await shot(page, "stats");
    });
  }

  await test.step("upload a file and edit it", async () => {
    await tab(page, "Files").click();
    await expect(page).toHaveURL(/\/files/);
    // The input may be hidden behind a button; a CSS selector finds it
    // either way.
    await page.locator('input[type="file"][aria-label="Upload files"]').setInputFiles({
      name: names.file,
      mimeType: "text/plain",
      buffer: Buffer.from(names.fileContent),
    });
    const file = main(page).getByRole("button", { name: names.file, exact: true });
    await expect(file).toBeVisible();
    await shot(page, "files");
    await file.click();
    const editor = page.locator(".cm-content");
    await expect(editor).toContainText(`note ${run}`);
    await shot(page, "editor");
    await editor.click();
    await page.keyboard.press("ControlOrMeta+End");
    await page.keyboard.type(names.fileEdit);
    await expect(editor).toContainText(names.fileEdit);
    // The editor may open over the page, outside main.
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(page.getByText(`Saved ${names.file}`)).toBeVisible();
  });

  await test.step("back up the server", async () => {
    await tab(page, "Backups").click();
    await main(page).getByRole("button", { name: "Create backup" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name", { exact: true }).fill(names.backup);
    await dialog.getByRole("button", { name: "Create", exact: true }).click();
    await expect(dialog).toBeHidden();
    const row = main(page).locator("tr, [role=row], li").filter({ hasText: names.backup }).first();
    await expect(row).toContainText("Completed", { timeout: 120_000 });
    await shot(page, "backups");
  });

  if (screenshots) {
    await test.step("the server's other tabs", async () => {
      for (const [name, file] of [
        ["Schedules", "schedules"],
        ["Users", "users"],
        ["Startup", "startup"],
        ["Settings", "settings"],
      ]) {
        await tab(page, name).click();
        await expect(page).toHaveURL(new RegExp(`/${file}$`));
        await shot(page, file);
      }
    });
  }

  await test.step("stop: the server goes offline", async () => {
    await main(page).getByRole("button", { name: "Stop", exact: true }).click();
    await expect(stateBadge(page)).toHaveAttribute("data-state", "stopped", { timeout: 60_000 });
    await expect(stateBadge(page)).toHaveText("Offline");
  });
});

test("a wrong password shows the API's message", async ({ page, request }) => {
  const wrong = { email: cluster.email, password: `not-the-password-${Date.now()}` };
  // What the API itself says, so the test holds whatever its wording.
  const res = await request.post("/api/auth/login", { data: wrong });
  expect(res.status()).toBe(401);
  const { error } = (await res.json()) as { error: { message: string } };
  expect(error.message).not.toBe("");

  await page.goto("/login");
  await page.getByLabel("Email", { exact: true }).fill(wrong.email);
  await page.getByLabel("Password", { exact: true }).fill(wrong.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText(error.message);
  await expect(page).toHaveURL(/\/login/);
});

test("the theme toggle switches between dark and light", async ({ page }) => {
  await login(page);
  const toggle = page.getByRole("button", { name: /^Theme:/ });
  const html = page.locator("html");
  const seen = new Set<string | null>();
  // The toggle goes round its choices (light, dark, the system's); one
  // round shows both themes.
  for (let i = 0; i < 3; i++) {
    const before = await toggle.getAttribute("aria-label");
    await toggle.click();
    await expect(toggle).not.toHaveAttribute("aria-label", before ?? "");
    seen.add(await html.getAttribute("data-theme"));
  }
  expect([...seen].sort()).toEqual(["dark", "light"]);
});
