// What `make run` serves is what comes alive: the release bundles hydrate (the tracker
// polls, the desk follows a new patient), their files are hashed and cached for good, the
// tracker loads only the small patient bundle, and its first visit is measured and printed.
import { expect, test, demoPassword, desk, hydrated, join, transfers } from "./helpers";

test("the release bundle hydrates: the tracker sends its first poll and the desk shows a patient who joined after it loaded", async ({ browser, page }) => {
  // Under the pages' Content-Security-Policy (their nonce for the bootstrap, WebAssembly
  // allowed, nothing inline otherwise): nothing is blocked and nothing errs.
  const problems: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(e.message));
  const staff = await desk(browser);
  staff.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  await expect(staff.getByTestId("desk")).toBeVisible();
  const policy = (await page.request.get("/c/demo")).headers()["content-security-policy"];
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}' 'wasm-unsafe-eval'/);

  const firstPoll = page.waitForRequest((r) => /\/api\/t\/[0-9A-Za-z]{22}$/.test(r.url()) && r.method() === "GET");
  const tracker = await join(page, "Ira Kapoor");
  const poll = await firstPoll;
  expect(poll.url()).toContain(tracker.split("/t/")[1]);
  expect((await poll.response())?.status()).toBe(200);

  // The desk was loaded before the patient joined: it finds them by itself.
  const token = (await page.getByTestId("token").textContent())!;
  await expect(staff.getByTestId("waiting").getByTestId("token-row").filter({ hasText: token })).toContainText("Ira Kapoor");
  expect(problems).toEqual([]);
});

/**
 * The tracker's first visit may transfer at most this much: page, style, script and WASM
 * (brotli), the goal for a cheap phone on 3G. The patient bundle brought it from about
 * 860 KB (the full bundle) to about 300 KB, hydrating only the page's islands to about
 * 206 KB, and posting without the server-function client to about 130 KB.
 */
const TRACKER_FIRST_VISIT_BUDGET = 150_000;

test("the tracker's first visit loads only the patient bundle, within its budget; its files are hashed and cached for a year, and a second visit downloads only the page", async ({ browser }) => {
  const joiner = await browser.newPage();
  const url = await join(joiner, "Jai Verma");

  const context = await browser.newContext();
  const first = await context.newPage();
  const firstVisit = await transfers(first);
  const bundle: string[] = [];
  first.on("response", (r) => {
    if (new URL(r.url()).pathname.startsWith("/pkg/")) bundle.push(r.url());
  });
  const document = await first.goto(url);
  await hydrated(first);
  await first.waitForLoadState("networkidle");

  // The page is never cached; the bundle's files carry a content hash and are kept a year.
  expect(document?.headers()["cache-control"]).toBe("private, no-cache");
  // In order of their extension: the hashes themselves sort any way.
  const extension = (name: string) => name.slice(name.lastIndexOf("."));
  const names = bundle.map((file) => new URL(file).pathname).sort((a, b) => extension(a).localeCompare(extension(b)));
  expect(names).toEqual([
    expect.stringMatching(/^\/pkg\/qline\.[0-9A-Za-z_-]{8,}\.css$/),
    expect.stringMatching(/^\/pkg\/patient\.[0-9A-Za-z_-]{8,}\.js$/),
    expect.stringMatching(/^\/pkg\/patient\.[0-9A-Za-z_-]{8,}\.wasm$/),
  ]);
  for (const file of bundle) {
    const response = await context.request.get(file, { headers: { "accept-encoding": "br" } });
    expect(response.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(response.headers()["content-encoding"]).toBe("br");
    expect(response.headers()["vary"]).toContain("accept-encoding");
  }
  const wasm = [...firstVisit.done()].find(([u]) => u.endsWith(".wasm"));
  expect(wasm, "the tracker loads its WASM bundle").toBeTruthy();
  const firstBytes = [...firstVisit.done().values()].reduce((sum, t) => sum + t.bytes, 0);
  console.log(`tracker first visit: ${firstBytes} bytes transferred (brotli), of which WASM ${wasm![1].bytes} bytes`);
  for (const [u, t] of firstVisit.done()) console.log(`  ${t.bytes}\t${new URL(u).pathname}`);
  expect(firstBytes).toBeGreaterThan(wasm![1].bytes);
  expect(firstBytes, "the tracker's first visit, in bytes on the wire").toBeLessThanOrEqual(TRACKER_FIRST_VISIT_BUDGET);

  // A second visit in the same browser: the bundle comes from the cache.
  const second = await context.newPage();
  const secondVisit = await transfers(second);
  await second.goto(url);
  await hydrated(second);
  await second.waitForLoadState("networkidle");
  const again = secondVisit.done();
  const fetchedAgain = [...again].filter(([u, t]) => new URL(u).pathname.startsWith("/pkg/") && !t.cached);
  expect(fetchedAgain, "bundle files downloaded again").toEqual([]);
  const secondBytes = [...again.values()].reduce((sum, t) => sum + t.bytes, 0);
  console.log(`tracker second visit: ${secondBytes} bytes transferred (the page and its polls)`);
  expect(secondBytes).toBeLessThan(firstBytes / 4);
  await context.close();
});

test("a link from a patient's page to a staff screen loads that screen whole, with the full bundle, and it works", async ({ page }) => {
  const wasm: string[] = [];
  page.on("response", (r) => {
    if (r.url().endsWith(".wasm")) wasm.push(new URL(r.url()).pathname);
  });
  await join(page, "Noor Haddad");
  expect(wasm.every((p) => p.startsWith("/pkg/patient."))).toBe(true);

  const fullBundle = page.waitForResponse((r) => /\/pkg\/qline\.[^/]+\.wasm$/.test(r.url()));
  await page.getByRole("banner").getByRole("link", { name: "Staff login" }).click();
  await fullBundle;
  await page.waitForURL(/\/login$/);
  await hydrated(page);
  await page.getByLabel("Email").fill("desk@demo.test");
  await page.getByLabel("Password").fill(demoPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/desk$/);
  await expect(page.getByRole("navigation", { name: "Queues" })).toBeVisible();
});
