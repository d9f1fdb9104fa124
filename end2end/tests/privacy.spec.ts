// A patient's data at the clinic, as the owner handles an access request and then an
// erasure: found by the phone they joined with, handed over as JSON, erased after a
// confirmation, and gone for good; the clinic's retention is a setting the owner keeps.
import { readFileSync } from "node:fs";
import { demoPassword, desk, expect, freshPhone, hydrated, refusal, signIn, test } from "./helpers";

test("the owner finds a patient's data by phone, hands it over as JSON and erases it", async ({ browser, page, browserErrors }) => {
  // The patient joins with a phone of their own.
  const phone = freshPhone();
  await page.goto("/c/demo");
  await hydrated(page);
  await page.getByLabel("General").check();
  await page.getByLabel("Your name").fill("Kavya Menon");
  await page.getByLabel("Mobile number").fill(phone);
  await page.getByRole("button", { name: "Get my token" }).click();
  await page.waitForURL(/\/t\/[0-9A-Za-z]{22}$/);
  const reception = await desk(browser);
  await expect(reception.getByText("Kavya Menon")).toBeVisible();

  const owner = await signIn(browser, "owner@demo.test", demoPassword, /\/desk$/);
  await owner.goto("/clinic");
  await hydrated(owner);
  await owner.getByLabel("Patient's phone").fill(phone);
  await owner.getByRole("button", { name: "Find data" }).click();
  const found = owner.getByTestId("patient-found");
  await expect(found.getByRole("status")).toContainText("1 visit,");
  await expect(found).toContainText("Kavya Menon");
  const download = owner.waitForEvent("download");
  await found.getByRole("link", { name: "Download as JSON" }).click();
  const file = await download;
  const exported = JSON.parse(readFileSync(await file.path(), "utf8"));
  expect(exported.phone).toBe("+91" + phone);
  expect(exported.record.visits[0].name).toBe("Kavya Menon");

  // Erasing needs the box ticked: the browser holds the form until it is.
  const erase = found.getByRole("button", { name: "Erase this patient's data" });
  await found.getByLabel("I understand this cannot be undone").check();
  await erase.click();
  await expect(owner.getByRole("status").filter({ hasText: "Erased:" })).toContainText("1 visit anonymised");

  // Nothing is left to find, and the desk keeps the token without the name.
  browserErrors.expect(refusal(404, "/api/clinic/patient"));
  await owner.getByLabel("Patient's phone").fill(phone);
  await owner.getByRole("button", { name: "Find data" }).click();
  await expect(owner.getByRole("alert")).toContainText("This clinic holds no data for +91" + phone);
  await reception.reload();
  await hydrated(reception);
  await expect(reception.getByTestId("waiting")).toBeVisible();
  await expect(reception.getByText("Kavya Menon")).toHaveCount(0);

  // Retention: a number of days within 1–3650, or empty for the platform's 90.
  browserErrors.expect(refusal(400, "/api/clinic/settings"));
  const keep = owner.getByLabel("Keep patients' data (days)");
  await expect(keep).toHaveAttribute("placeholder", "90");
  await keep.fill("0");
  await owner.getByRole("button", { name: "Save settings" }).click();
  await expect(owner.getByRole("alert").filter({ hasText: "from 1 to 3650" })).toBeVisible();
  await keep.fill("30");
  await owner.getByRole("button", { name: "Save settings" }).click();
  await expect(owner.getByRole("status").filter({ hasText: "Settings saved." })).toBeVisible();
  await expect(owner.getByTestId("patient-data")).toContainText("kept 30 days");
});
