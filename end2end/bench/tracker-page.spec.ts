// `make bench-tracker-page`: what a patient's phone downloads and how soon the tracker goes
// live, on the release build, with Chromium's network emulated as slow 3G (400 ms round
// trip, 50 KB/s each way). A measurement, not a test: it prints its figures and asserts
// only that the page did what it is for (showed the token, polled).
import { expect, test, hydrated, join, transfers } from "../tests/helpers";
import type { Page } from "@playwright/test";

const slow3g = { offline: false, latency: 400, downloadThroughput: 50 * 1024, uploadThroughput: 50 * 1024 };

/** Opens `url` on slow 3G; ms from the request to the token on screen and to the first poll sent, and bytes transferred. */
async function visit(page: Page, url: string) {
  const wire = await transfers(page);
  await wire.session.send("Network.emulateNetworkConditions", slow3g);
  const firstPoll = page.waitForRequest((r) => /\/api\/t\/[0-9A-Za-z]{22}$/.test(r.url()) && r.method() === "GET", { timeout: 90_000 });
  const started = Date.now();
  await page.goto(url, { waitUntil: "commit", timeout: 90_000 });
  await page.getByTestId("token").waitFor({ timeout: 90_000 });
  const tokenShown = Date.now() - started;
  await firstPoll;
  const live = Date.now() - started;
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  const bytes = [...wire.done().values()].reduce((sum, t) => sum + t.bytes, 0);
  return { tokenShown, live, bytes, files: wire.done() };
}

test("the tracker on a slow 3G phone: first visit and repeat visit", async ({ browser }) => {
  test.setTimeout(240_000);
  const joiner = await browser.newPage();
  const url = await join(joiner, "Asha Rao");
  const context = await browser.newContext();

  const first = await visit(await context.newPage(), url);
  const again = await visit(await context.newPage(), url);
  expect(first.bytes).toBeGreaterThan(0);

  const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log("tracker page on slow 3G (400 ms RTT, 50 KB/s), release build, Chromium");
  console.log(`  first visit:  ${kb(first.bytes)} transferred; token shown after ${s(first.tokenShown)}; live (first poll sent) after ${s(first.live)}`);
  for (const [u, t] of first.files) console.log(`    ${t.cached ? "cached" : String(t.bytes).padStart(6)}  ${new URL(u).pathname}`);
  console.log(`  repeat visit: ${kb(again.bytes)} transferred; token shown after ${s(again.tokenShown)}; live after ${s(again.live)}`);
  for (const [u, t] of again.files) console.log(`    ${t.cached ? "cached" : String(t.bytes).padStart(6)}  ${new URL(u).pathname}`);
  await context.close();
});
