// Opening hours: the owner gives General its hours (weekdays and weekends 09:00–17:00,
// closed today for a holiday). The join page shows them and when General opens again,
// and a patient who tries to join anyway is refused with that time; a queue without
// hours still takes them.
import { expect, test, demoPassword, demoToday, freshPhone, hydrated, refusal, openHours, setOpeningHours, signIn } from "./helpers";

test("joining outside the opening hours is refused with the next opening time", async ({ browser, browserErrors }) => {
  browserErrors.expect(refusal(409, "/api/join"));
  const owner = await signIn(browser, "owner@demo.test", demoPassword, /\/desk$/);
  await owner.goto("/clinic");
  await hydrated(owner);
  const general = await setOpeningHours(owner, "General", "09:00-13:00, 14:00-17:00", demoToday());

  // A time typed wrong is refused with the day and the reason.
  await openHours(general);
  await general.getByLabel("Tuesday").fill("18:00-09:00");
  browserErrors.expect(refusal(400, "/api/clinic/queue/hours"));
  await general.getByRole("button", { name: "Save hours" }).click();
  await expect(owner.getByRole("alert").filter({ hasText: "Tuesday: 18:00-09:00 closes before it opens" })).toBeVisible();

  // The join page shows General's hours and that it opens again tomorrow.
  const patient = await (await browser.newContext()).newPage();
  await patient.goto("/c/demo");
  await hydrated(patient);
  const hours = patient.getByRole("region", { name: "Opening hours" });
  await expect(hours).toContainText("General");
  await expect(hours).toContainText("Closed now. Opens again tomorrow at 9:00 am.");
  await hours.getByText("Every week").click();
  await expect(hours.getByRole("row", { name: /Monday/ })).toContainText("9:00 am – 1:00 pm, 2:00 pm – 5:00 pm");
  if (test.info().project.name === "desktop") {
    await hours.screenshot({ path: "../docs/screenshots/join-opening-hours.png", animations: "disabled" });
  }

  // Joining General is refused with that time; nothing is issued.
  await patient.getByLabel("General").check();
  await patient.getByLabel("Your name").fill("Late Lata");
  await patient.getByLabel("Mobile number").fill(freshPhone());
  await patient.getByRole("button", { name: "Get my token" }).click();
  await expect(patient.getByRole("alert")).toContainText("General is closed now. It opens again tomorrow at 9:00 am.");
  expect(new URL(patient.url()).pathname).toBe("/c/demo");

  // Dental has no hours: it takes the patient.
  await patient.getByLabel("Dental").check();
  await patient.getByRole("button", { name: "Get my token" }).click();
  await patient.waitForURL(/\/t\/[0-9A-Za-z]{22}$/);

  // In Hindi, the page says the same.
  await patient.goto("/c/demo?lang=hi");
  await hydrated(patient);
  await expect(patient.getByRole("region", { name: "खुलने का समय" })).toContainText("अभी बंद है। फिर खुलेगा: कल 9:00 am");
});
