// The front door: the home page renders on the server, loads its hydration bundle (with
// no page error: helpers.ts watches every page), and leads to the demo clinic and staff
// login; unknown links get a clear 404.
import { expect, test } from "./helpers";

test("the home page says what Qline is and loads its bundle", async ({ page }) => {
  const wasm = page.waitForResponse((r) => r.url().endsWith(".wasm"));

  await page.goto("/");
  await expect(page).toHaveTitle("Qline");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("waiting room");
  await expect(page.getByRole("link", { name: "Join the demo clinic's queue" })).toHaveAttribute("href", "/c/demo");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Staff login" })).toHaveAttribute("href", "/login");

  expect((await wasm).status()).toBe(200);
});

test("an unknown link gets a page that says so, with a way home", async ({ page, browserErrors }) => {
  // Chromium reports the 404 document in the console: that is the story.
  browserErrors.expect(/status of 404 \(Not Found\) \(http:\/\/[\d.:]+\/no\/such\/page\)/);
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "This page does not exist" })).toBeVisible();
  await page.getByRole("link", { name: "Go to the Qline home page" }).click();
  await expect(page).toHaveURL(/\/$/);
});

test("health and readiness answer for the load balancer", async ({ request }) => {
  const health = await request.get("/healthz");
  expect(health.status()).toBe(200);
  const ready = await request.get("/readyz");
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toMatchObject({ status: "ready", database: "sqlite" });
});
