// Playwright drives Debian's Chromium (no browser download) against real `qline`
// servers: tests/helpers.ts starts one per test, on a fresh SQLite database seeded
// with the demo clinic (or set QLINE_BASE_URL to test a running server).
import { defineConfig, devices } from "@playwright/test";

const chromium = {
  executablePath: process.env.QLINE_CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  timeout: 30_000,
  // A live screen (the desk polls every 1.5 s) on a loaded two-core machine can take a
  // few polls to show a change; 10 s is still far below anything a person would wait.
  expect: { timeout: 10_000 },
  use: {
    trace: "retain-on-failure",
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], launchOptions: chromium } },
    { name: "phone", use: { ...devices["Pixel 7"], launchOptions: chromium } },
    // Measurements, not tests: `make bench-tracker-page` runs them (`make test` does not).
    { name: "bench", testDir: "./bench", use: { ...devices["Pixel 7"], launchOptions: chromium } },
  ],
});
