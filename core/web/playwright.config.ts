import { defineConfig } from "@playwright/test";

// The end-to-end suite drives the panel of a real core (CATALYST_URL) in
// Debian's chromium; e2e/web_test.go starts the cluster and runs it. One
// worker: the machine has two cores and the specs share one server. The
// files run in name order (panel, scale, tour): the flow creates
// the server the others reuse. Traces and screenshots of failures, and the
// HTML report, go under test-results/ (ignored by git), in folders apart:
// the HTML reporter empties its own.

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/artifacts",
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  // A server installs and starts on containerd within the test: seconds
  // each, more on a loaded machine.
  timeout: 10 * 60_000,
  expect: { timeout: 30_000 },
  reporter: [["list"], ["html", { outputFolder: "test-results/report", open: "never" }]],
  use: {
    baseURL: process.env.CATALYST_URL,
    headless: true,
    viewport: { width: 1440, height: 900 },
    // The panel follows the system's theme until told otherwise; dark is
    // its look in the screenshots (servers-light.png shows the other).
    colorScheme: "dark",
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
