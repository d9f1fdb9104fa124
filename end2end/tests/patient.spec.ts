// A patient's journey without a desk: join by QR on a phone, follow the live tracker,
// cancel; the tracker with JavaScript off, through a network cut, and in Hindi; a closed
// tab's token found again.
import { expect, test, hydrated, join, refusal } from "./helpers";

test("a patient joins on a phone and sees position and wait", async ({ browser }) => {
  const first = await browser.newPage();
  await join(first, "Asha Rao");
  const page = await browser.newPage();
  await join(page, "Bilal Khan");

  await expect(page.getByTestId("token")).toHaveText(/^A-\d+$/);
  await expect(page.getByTestId("status")).toHaveText("Waiting");
  const ahead = Number(await page.getByTestId("ahead").textContent());
  expect(ahead).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId("eta")).toHaveText(/\d+ min–\d+ (min|h)/);
  await expect(page.getByText("Demo Clinic · General")).toBeVisible();
});

test("the tracker follows the queue without a reload, and a patient can cancel", async ({ browser }) => {
  const ahead = await browser.newPage();
  await join(ahead, "Chitra Das");
  const page = await browser.newPage();
  await join(page, "Dev Mehta");
  await hydrated(page);
  const before = Number(await page.getByTestId("ahead").textContent());

  // The patient ahead cancels from their own tracker.
  await hydrated(ahead);
  await ahead.getByRole("button", { name: "Cancel my token" }).click();
  await ahead.getByRole("button", { name: "Yes, cancel it" }).click();
  await expect(ahead.getByTestId("status")).toHaveText("Token cancelled");

  // The other tracker moves up by itself, and its progress bar with it.
  await expect(page.getByTestId("ahead")).toHaveText(String(before - 1), { timeout: 15_000 });
  await expect(page.getByTestId("progress")).toHaveAttribute("value", "1");
});

test("with JavaScript off the tracker shows the state and refreshes itself", async ({ browser }) => {
  const joiner = await browser.newPage();
  const url = await join(joiner, "Esha Iyer");
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(url);
  await expect(page.getByTestId("token")).toHaveText(/^A-\d+$/);
  await expect(page.getByTestId("status")).toHaveText("Waiting");
  await expect(page.locator('meta[http-equiv="refresh"]')).toHaveAttribute("content", "20");
  await context.close();
});

test("a network cut shows reconnecting, keeps the state and recovers", async ({ page, browserErrors }) => {
  // The cut polls fail in the console: that is the story.
  browserErrors.expect(/ERR_INTERNET_DISCONNECTED/);
  await join(page, "Farah Ali");
  await hydrated(page);
  const token = await page.getByTestId("token").textContent();
  await page.route("**/api/t/**", (route) => route.abort("internetdisconnected"));
  await expect(page.getByTestId("reconnecting")).toContainText("Reconnecting… last update", { timeout: 15_000 });
  await expect(page.getByTestId("token")).toHaveText(token!);
  await page.unroute("**/api/t/**");
  await expect(page.getByTestId("reconnecting")).toBeHidden({ timeout: 20_000 });
  await expect(page.getByTestId("status")).toHaveText("Waiting");
});

test("the tracker speaks Hindi when chosen, and switches back", async ({ page }) => {
  await join(page, "Gita Sharma", "hi");
  await expect(page.getByTestId("status")).toHaveText("प्रतीक्षा में");
  await expect(page.getByText("आपका टोकन")).toBeVisible();
  await page.getByRole("link", { name: "English" }).click();
  await expect(page.getByTestId("status")).toHaveText("Waiting");
});

test("bad input gets a clear message, never an error page", async ({ page, browserErrors }) => {
  browserErrors.expect(refusal(400, "/api/join"));
  browserErrors.expect(refusal(404, "/c/no-such-clinic"));
  browserErrors.expect(refusal(404, "/t/not-a-real-token"));
  await page.goto("/c/demo");
  await hydrated(page);
  await page.getByLabel("Your name").fill("Hari");
  await page.getByLabel("Mobile number").fill("12");
  await page.getByRole("button", { name: "Get my token" }).click();
  await expect(page.getByRole("alert")).toContainText("is not a valid phone number");

  const missing = await page.goto("/c/no-such-clinic");
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("alert")).toContainText("could not find that clinic");

  const badTracker = await page.goto("/t/not-a-real-token");
  expect(badTracker?.status()).toBe(404);
  await expect(page.getByRole("alert")).toContainText("does not exist");
});

test("a patient who closed the tab finds their token again on the join page, until it is cancelled", async ({ browser }) => {
  const phone = await browser.newContext();
  const first = await phone.newPage();
  const tracker = await join(first, "Meera Pillai");
  const token = (await first.getByTestId("token").textContent())!;
  await first.close();

  // The QR code again, on the same phone: the page offers the token it already has.
  const again = await phone.newPage();
  await again.goto("/c/demo");
  await hydrated(again);
  await expect(again.getByRole("status")).toContainText(`You already have a token here today: ${token}`);
  await again.getByRole("link", { name: "Open it" }).click();
  await again.waitForURL(tracker);
  await expect(again.getByTestId("token")).toHaveText(token);

  // Another phone has nothing to find.
  const other = await (await browser.newContext()).newPage();
  await other.goto("/c/demo");
  await hydrated(other);
  await expect(other.getByRole("button", { name: "Get my token" })).toBeVisible();
  await expect(other.getByTestId("held-token")).toHaveCount(0);

  // Once cancelled, the token is no longer offered.
  await again.getByRole("button", { name: "Cancel my token" }).click();
  await again.getByRole("button", { name: "Yes, cancel it" }).click();
  await expect(again.getByTestId("status")).toHaveText("Token cancelled");
  // The tracker forgot it at once, so the join page has nothing to look up.
  await expect.poll(() => again.evaluate(() => localStorage.getItem("qline-token-demo"))).toBeNull();
  await again.goto("/c/demo");
  await hydrated(again);
  await expect(again.getByRole("button", { name: "Get my token" })).toBeVisible();
  await expect(again.getByTestId("held-token")).toHaveCount(0);
});
