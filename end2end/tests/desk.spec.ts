// The receptionist's desk with patients on their phones: live arrivals, NEXT reaching
// the tracker, two desks at once, UNDO, SKIP and RECALL, an emergency that moves others
// back, and a desk that needs a signed-in clinic account.
import { expect, test, refusal, desk, join } from "./helpers";

test("a new patient appears on the desk without a reload, and NEXT reaches their tracker", async ({ browser }) => {
  const receptionist = await desk(browser, "desk@demo.test", "Dental");
  const patient = await (await browser.newContext()).newPage();
  const name = `Ravi ${Date.now()}`;
  await join(patient, name, "en", "Dental");
  const token = (await patient.getByTestId("token").textContent())!;

  await expect(receptionist.getByTestId("waiting")).toContainText(name, { timeout: 5_000 });
  // Finish whoever an earlier run left serving until our patient is called.
  while ((await receptionist.getByTestId("desk-serving").textContent()) !== token) {
    await receptionist.getByRole("button", { name: "NEXT" }).click();
    await expect(receptionist.getByRole("button", { name: "NEXT" })).toBeEnabled();
  }
  await expect(patient.getByTestId("status")).toHaveText("It's your turn!", { timeout: 10_000 });
  await expect(patient).toHaveTitle(/your turn/i);
});

test("two desks press NEXT at the same moment: one calls, the other is told the queue moved", async ({ browser, browserErrors }) => {
  browserErrors.expect(refusal(409, "/api/desk/act"));
  const one = await desk(browser, "desk@demo.test", "Dental");
  const two = await desk(browser, "owner@demo.test", "Dental");
  for (const name of ["Tara", "Uma"]) {
    await join(await (await browser.newContext()).newPage(), `${name} ${Date.now()}`, "en", "Dental");
  }
  // Both desks show the same queue before either presses.
  await expect(one.getByTestId("waiting")).toContainText("Uma");
  await expect(two.getByTestId("waiting")).toContainText("Uma");
  const before = await one.getByTestId("desk-serving").textContent();
  await expect(two.getByTestId("desk-serving")).toHaveText(before!);

  await Promise.all([
    one.getByRole("button", { name: "NEXT" }).click(),
    two.getByRole("button", { name: "NEXT" }).click(),
  ]);
  const problems = [one, two].map((p) => p.getByTestId("desk-problem"));
  await expect.poll(async () => (await problems[0].count()) + (await problems[1].count())).toBe(1);
  const loser = (await problems[0].count()) === 1 ? problems[0] : problems[1];
  await expect(loser).toContainText("already moved");
  // Both desks end up showing the same patient being served.
  const serving = await one.getByTestId("desk-serving").textContent();
  await expect(two.getByTestId("desk-serving")).toHaveText(serving!);
  expect(serving).not.toBe(before);
});

test("UNDO, SKIP then RECALL, and an emergency that moves a waiting patient back", async ({ browser }) => {
  const receptionist = await desk(browser, "desk@demo.test", "General");
  const waiting = await (await browser.newContext()).newPage();
  const patient = `Vikram ${Date.now()}`;
  const emergency = `Emergency ${Date.now()}`;
  await join(waiting, patient);
  const ahead = Number(await waiting.getByTestId("ahead").textContent());
  const rows = receptionist.getByTestId("waiting").getByTestId("token-row");
  /** Where a name stands in the desk's waiting list (the order NEXT calls in). */
  const place = async (name: string) => (await rows.allTextContents()).findIndex((t) => t.includes(name));

  // UNDO of NEXT puts the desk back where it was.
  await expect(rows.filter({ hasText: patient })).toHaveCount(1);
  const before = await receptionist.getByTestId("desk-serving").textContent();
  await receptionist.getByRole("button", { name: "NEXT" }).click();
  await expect(receptionist.getByTestId("desk-serving")).not.toHaveText(before!);
  await receptionist.getByRole("button", { name: "UNDO" }).click();
  await expect(receptionist.getByTestId("desk-serving")).toHaveText(before!);

  // An emergency walk-in goes before the waiting patient, whose tracker says so.
  await receptionist.getByLabel("Name").fill(emergency);
  await receptionist.getByLabel("Emergency: call next").check();
  await receptionist.getByRole("button", { name: "Add" }).click();
  await expect(rows.filter({ hasText: emergency })).toHaveCount(1);
  expect(await place(emergency)).toBeLessThan(await place(patient));
  await expect(waiting.getByTestId("shift")).toContainText("moved back by 1", { timeout: 15_000 });
  await expect(waiting.getByTestId("ahead")).toHaveText(String(ahead + 1));

  // SKIP the emergency patient, then RECALL them: ahead of the waiting patient again.
  await rows.filter({ hasText: emergency }).getByRole("button", { name: "Skip" }).click();
  const missed = receptionist.getByTestId("skipped").getByTestId("token-row").filter({ hasText: emergency });
  await expect(missed).toHaveCount(1);
  await expect(rows.filter({ hasText: emergency })).toHaveCount(0);
  await missed.getByRole("button", { name: "Recall" }).click();
  await expect(rows.filter({ hasText: emergency })).toHaveCount(1);
  expect(await place(emergency)).toBeLessThan(await place(patient));
});

test("the desk needs a signed-in clinic account", async ({ page, browserErrors }) => {
  browserErrors.expect(refusal(401, "/api/login"));
  await page.goto("/desk");
  await expect(page.getByRole("heading", { name: "Sign in to run the desk" })).toBeVisible();
  await page.goto("/login");
  await page.getByLabel("Email").fill("desk@demo.test");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("do not match an active account");
});

test("a patient who cancels on their phone disappears from the desk", async ({ browser }) => {
  const receptionist = await desk(browser, "desk@demo.test", "General");
  const patient = await (await browser.newContext()).newPage();
  const name = `Wasim ${Date.now()}`;
  await join(patient, name);
  const row = receptionist.getByTestId("waiting").getByTestId("token-row").filter({ hasText: name });
  await expect(row).toHaveCount(1, { timeout: 5_000 });
  await patient.getByRole("button", { name: "Cancel my token" }).click();
  await patient.getByRole("button", { name: "Yes, cancel it" }).click();
  await expect(patient.getByTestId("status")).toHaveText("Token cancelled");
  await expect(row).toHaveCount(0, { timeout: 5_000 });
});

test("after being seen, the patient rates the visit once", async ({ browser }) => {
  const receptionist = await desk(browser, "desk@demo.test", "Dental");
  const patient = await (await browser.newContext()).newPage();
  const name = `Yash ${Date.now()}`;
  await join(patient, name, "en", "Dental");
  const row = receptionist.getByTestId("waiting").getByTestId("token-row").filter({ hasText: name });
  await row.getByRole("button", { name: "Call" }).click();
  await expect(receptionist.getByTestId("desk-serving")).toHaveText((await patient.getByTestId("token").textContent())!);
  await receptionist.getByRole("button", { name: "SERVED", exact: true }).click();

  await expect(patient.getByTestId("status")).toHaveText("Seen by the doctor", { timeout: 15_000 });
  await patient.getByLabel("4 ★").check();
  await patient.getByLabel("Anything to tell the clinic? (optional)").fill("Kind staff, short wait.");
  await patient.getByRole("button", { name: "Send" }).click();
  await expect(patient.getByTestId("rated")).toHaveText("Thank you for your feedback.");
});

test("the desk's keys: N calls the next patient, U undoes it", async ({ browser }) => {
  const receptionist = await desk(browser, "desk@demo.test", "Dental");
  await join(await (await browser.newContext()).newPage(), `Neha ${Date.now()}`, "en", "Dental");
  await expect(receptionist.getByTestId("count-waiting")).not.toHaveText("0");
  const before = (await receptionist.getByTestId("desk-serving").textContent())!;
  await receptionist.locator("body").press("n");
  await expect(receptionist.getByTestId("desk-serving")).not.toHaveText(before);
  await expect(receptionist.getByRole("button", { name: "NEXT" })).toBeEnabled();
  await receptionist.locator("body").press("u");
  await expect(receptionist.getByTestId("desk-serving")).toHaveText(before);
});

test("a patient who has been seen rates the visit from the tracker, and the page thanks them", async ({ browser }) => {
  const receptionist = await desk(browser, "desk@demo.test", "Dental");
  const patient = await (await browser.newContext()).newPage();
  await join(patient, `Zoya ${Date.now()}`, "en", "Dental");
  const token = (await patient.getByTestId("token").textContent())!;
  await expect(receptionist.getByTestId("waiting")).toContainText(token, { timeout: 5_000 });
  // NEXT until our patient is called, then once more: they have been seen.
  while ((await receptionist.getByTestId("desk-serving").textContent()) !== token) {
    await receptionist.getByRole("button", { name: "NEXT" }).click();
    await expect(receptionist.getByRole("button", { name: "NEXT" })).toBeEnabled();
  }
  await receptionist.getByRole("button", { name: "NEXT" }).click();
  await expect(patient.getByTestId("status")).toHaveText("Seen by the doctor", { timeout: 15_000 });

  // A mark on this page: a plain form post would load a new one without it.
  await patient.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  const rating = patient.getByRole("group", { name: "How was your visit?" });
  await rating.getByText("4 ★").click();
  await patient.getByLabel("Anything to tell the clinic? (optional)").fill("Quick and kind.");
  await patient.getByRole("button", { name: "Send" }).click();
  await expect(patient.getByTestId("rated")).toHaveText("Thank you for your feedback.");
  expect(await patient.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
});
