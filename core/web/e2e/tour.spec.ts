import { expect, test } from "@playwright/test";
import { loaded, login, main, screenshots, shot } from "./helpers";

// The pages outside a server: each opens with its heading and its data,
// no region showing an error (and, when CATALYST_SCREENSHOTS is set, is
// saved as a screenshot). Run after panel.spec.ts, the list holds the
// server the flow made.

const pages = [
  { path: "/admin/nodes", heading: "Nodes", file: "admin-nodes" },
  { path: "/admin/templates", heading: "Templates", file: "admin-templates" },
  { path: "/admin/users", heading: "Users", file: "admin-users" },
  { path: "/admin/alerts", heading: "Alerts", file: "admin-alerts" },
  { path: "/admin/audit", heading: "Audit log", file: "admin-audit" },
  { path: "/admin/plugins", heading: "Plugins", file: "admin-plugins" },
  { path: "/account", heading: "Account", file: "account" },
];

test("the server list, the administration and the account pages open", async ({ page }) => {
  await login(page);

  await test.step("the server list", async () => {
    await expect(main(page).getByRole("link", { name: "New server" })).toBeVisible();
    await loaded(page);
    await shot(page, "servers");
  });

  if (screenshots) {
    await test.step("the server list in the light theme", async () => {
      await page.evaluate(() => localStorage.setItem("catalyst.theme", "light"));
      await page.reload();
      await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
      await expect(main(page).getByRole("link", { name: "New server" })).toBeVisible();
      await shot(page, "servers-light");
      await page.evaluate(() => localStorage.removeItem("catalyst.theme"));
      await page.reload();
      await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    });
  }

  for (const p of pages) {
    await test.step(p.heading, async () => {
      await page.goto(p.path);
      await expect(page.getByRole("heading", { level: 1, name: p.heading, exact: true })).toBeVisible();
      await loaded(page);
      await shot(page, p.file);
    });
  }
});
