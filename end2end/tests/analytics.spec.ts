// Analytics after a scripted day: three patients join, the desk sees the first, the
// second never comes (SKIP) and the third still waits. The owner's analytics shows the
// figures and charts, and the CSV downloads with one row per day, today's row carrying
// exactly that day; the page says how often the wait ranges shown held.
import { readFileSync } from "node:fs";
import { demoPassword, desk, expect, hydrated, join, signIn, test } from "./helpers";

test("after a day at the desk the owner sees its figures, charts and a CSV that parses", async ({ browser }) => {
  test.setTimeout(60_000);
  const receptionist = await desk(browser, "desk@demo.test", "General");
  for (const name of ["Asha", "Bala", "Chitra"]) {
    await join(await (await browser.newContext()).newPage(), `${name} ${Date.now()}`);
  }
  await expect(receptionist.getByTestId("waiting").getByTestId("token-row")).toHaveCount(3);
  const serving = receptionist.getByTestId("desk-serving");
  await receptionist.getByRole("button", { name: "NEXT" }).click();
  await expect(serving).toHaveText("A-1");
  await receptionist.getByRole("button", { name: "NEXT" }).click();
  await expect(serving).toHaveText("A-2");
  await receptionist.getByRole("button", { name: "SKIP", exact: true }).click();
  await expect(receptionist.getByTestId("skipped")).toContainText("Bala");

  const owner = await signIn(browser, "owner@demo.test", demoPassword, /\/desk$/);
  await owner.goto("/clinic");
  await hydrated(owner);
  await owner.getByTestId("analytics-link").click();
  await owner.waitForURL(/\/clinic\/analytics$/);
  await hydrated(owner);
  const report = owner.getByTestId("analytics");
  await expect(report.locator(".tile").filter({ hasText: "Tokens" })).toContainText("3");
  await expect(report.locator(".tile").filter({ hasText: "Seen" })).toContainText("1");
  await expect(report.locator(".tile").filter({ hasText: "No-shows" })).toContainText("50 %");
  // Thirty days of bars (each a total and a darker "seen" part), the hour charts and ratings.
  await expect(report.getByTestId("chart-days").locator("rect")).toHaveCount(60);
  await expect(report.getByTestId("chart-day-waits").locator("polyline")).toHaveCount(2);
  await expect(report.getByTestId("chart-hours")).toBeVisible();
  await expect(report.getByTestId("chart-ratings").locator("rect")).toHaveCount(5);
  await expect(report.getByTestId("hours-table").locator("tbody tr")).toHaveCount(1);
  // The two patients called were each shown a wait range on joining: the page says how
  // often those ranges held.
  await expect(
    report.getByText(
      /Last 30 days: \d+ % of patients were called within the wait range shown when they joined, median error \d+ min \(2 patients\)/,
    ),
  ).toBeVisible();

  const [download] = await Promise.all([owner.waitForEvent("download"), report.getByTestId("csv").click()]);
  expect(download.suggestedFilename()).toMatch(/^qline-demo-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv$/);
  const rows = readFileSync((await download.path())!, "utf8").trim().split("\n").map((r) => r.split(","));
  expect(rows[0]).toEqual([
    "date", "tokens", "served", "no_shows", "cancelled", "no_show_rate", "wait_avg_min", "wait_p90_min",
    "service_avg_min", "service_p90_min", "whatsapp_opt_in_rate",
  ]);
  expect(rows).toHaveLength(31);
  const today = rows[30];
  expect(today.slice(1, 6)).toEqual(["3", "1", "1", "0", "0.500"]);
  expect(Number(today[6])).toBeGreaterThanOrEqual(0);
  // Every earlier day is there, empty.
  expect(rows.slice(1, 30).every((r) => r[1] === "0")).toBe(true);

  // A year back: 365 days of bars.
  await report.getByRole("link", { name: "1 year" }).click();
  await expect(owner.getByTestId("analytics").getByTestId("chart-days").locator("rect")).toHaveCount(730);
});

test("analytics is for the owner and the operator, not the front desk", async ({ browser }) => {
  const receptionist = await desk(browser, "desk@demo.test", "General");
  await receptionist.goto("/clinic/analytics");
  await expect(receptionist.getByRole("alert")).toContainText("Your account cannot do that.");
  await expect(receptionist.getByTestId("analytics")).toHaveCount(0);
});
