// The operator and a new clinic's owner run everything from the app: the operator opens
// a clinic, its owner signs in with the one-time password, chooses their own, adds a
// receptionist and a second queue and prints the QR poster (whose code decodes back to
// the join page); a suspension stops joining and the desk and marks the tracker, and
// reactivation brings all three back.
import { type Page } from "@playwright/test";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { demoPassword, expect, freshPhone, hydrated, refusal, signIn, test } from "./helpers";

/** Reads a one-time login shown on the page. */
async function oneTimeLogin(page: Page): Promise<{ email: string; password: string }> {
  const email = (await page.getByTestId("one-time-email").last().textContent())!.trim();
  const password = (await page.getByTestId("one-time-password").last().textContent())!.trim();
  expect(password).toMatch(/^\S{12,}$/);
  return { email, password };
}

test("the operator opens a clinic, its owner sets it up, and suspension stops and restores it", async ({ browser, baseURL, browserErrors }) => {
  // A whole story across four browser contexts: longer than one screen's test.
  test.setTimeout(90_000);
  const admin = await signIn(browser, "admin@demo.test", demoPassword, /\/admin$/);
  await expect(admin.getByTestId("health")).toContainText("sqlite");
  await expect(admin.getByTestId("clinics")).toContainText("Demo Clinic");

  // Open the clinic.
  await admin.getByLabel("Clinic name").fill("Sunrise Clinic");
  await admin.getByLabel("Short name (for its links)").fill("sunrise");
  await admin.getByLabel("Owner's email").fill("owner@sunrise.test");
  await admin.getByRole("button", { name: "Open clinic" }).click();
  await expect(admin.getByTestId("created-clinic")).toContainText("sunrise");
  const owner = await oneTimeLogin(admin);
  expect(owner.email).toBe("owner@sunrise.test");
  await expect(admin.getByTestId("clinics")).toContainText("Sunrise Clinic");

  // A duplicate is refused in words (and with a 409, which Chromium logs).
  browserErrors.expect(refusal(409, "/api/admin/clinic/create"));
  await admin.getByLabel("Clinic name").fill("Sunrise Again");
  await admin.getByLabel("Short name (for its links)").fill("sunrise");
  await admin.getByLabel("Owner's email").fill("other@sunrise.test");
  await admin.getByRole("button", { name: "Open clinic" }).click();
  await expect(admin.getByRole("alert")).toContainText('A clinic with the short name "sunrise" already exists');

  // The owner must choose their own password first, then lands on the clinic settings.
  const ownerPage = await signIn(browser, owner.email, owner.password, /\/account$/);
  await ownerPage.getByLabel("Current password").fill(owner.password);
  await ownerPage.getByLabel("New password (at least 10 characters)").fill("sunrise-owner-pass");
  await ownerPage.getByRole("button", { name: "Change password" }).click();
  await ownerPage.waitForURL(/\/clinic$/);
  await hydrated(ownerPage);
  await expect(ownerPage.getByRole("heading", { name: "Sunrise Clinic" })).toBeVisible();

  // A receptionist, with a one-time password of their own.
  await ownerPage.getByLabel("Email", { exact: true }).fill("desk@sunrise.test");
  await ownerPage.getByRole("button", { name: "Add staff" }).click();
  await expect(ownerPage.getByTestId("staff")).toContainText("desk@sunrise.test");
  const receptionist = await oneTimeLogin(ownerPage);
  expect(receptionist.email).toBe("desk@sunrise.test");

  // A second queue.
  await ownerPage.getByLabel("Queue name").fill("Dental");
  await ownerPage.getByLabel("Token prefix").fill("D");
  await ownerPage.getByRole("button", { name: "Add queue" }).click();
  await expect(ownerPage.getByTestId("queue-row")).toHaveCount(2);

  // The poster's QR code leads to the join page.
  const joinUrl = `${baseURL}/c/sunrise`;
  await expect(ownerPage.getByTestId("join-url")).toHaveText(joinUrl);
  const posterPage = await ownerPage.context().newPage();
  await posterPage.goto("/clinic/poster");
  await expect(posterPage.getByRole("heading", { name: "Sunrise Clinic" })).toBeVisible();
  await expect(posterPage.getByTestId("poster")).toContainText("भीड़ भरे प्रतीक्षा कक्ष से बचें");
  const png = PNG.sync.read(await posterPage.getByTestId("poster-qr").screenshot());
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  expect(decoded?.data).toBe(joinUrl);

  // Both queues are on the join page; a patient takes a token.
  const patient = await (await browser.newContext()).newPage();
  await patient.goto("/c/sunrise");
  await hydrated(patient);
  await expect(patient.getByLabel("Dental")).toBeVisible();
  await patient.getByLabel("General").check();
  await patient.getByLabel("Your name").fill("Ravi Kumar");
  await patient.getByLabel("Mobile number").fill(freshPhone());
  await patient.getByRole("button", { name: "Get my token" }).click();
  await patient.waitForURL(/\/t\/[0-9A-Za-z]{22}$/);
  await hydrated(patient);
  const tracker = patient.url();
  await expect(patient.getByTestId("status")).toHaveText("Waiting");

  const desk = ownerPage;
  await desk.goto("/desk");
  await hydrated(desk);
  await expect(desk.getByTestId("waiting")).toContainText("Ravi Kumar");

  // Suspend.
  await admin.goto("/admin/c/sunrise");
  await hydrated(admin);
  await admin.getByLabel("Reason (kept in the audit log, shown to the clinic)").fill("Unpaid invoice");
  await admin.getByRole("button", { name: "Suspend" }).click();
  await expect(admin.getByTestId("clinic-status")).toHaveText("Suspended");

  await patient.goto("/c/sunrise");
  await expect(patient.getByRole("alert")).toContainText("suspended");
  await expect(patient.getByRole("button", { name: "Get my token" })).toHaveCount(0);
  await desk.reload();
  await hydrated(desk);
  await expect(desk.getByTestId("desk-notice")).toContainText("suspended");
  await expect(desk.getByTestId("desk-notice")).toContainText("Unpaid invoice");
  await expect(desk.getByRole("button", { name: "NEXT" })).toBeDisabled();
  await patient.goto(tracker);
  await hydrated(patient);
  await expect(patient.getByRole("alert")).toContainText("suspended");

  // Reactivate: all three come back.
  await admin.getByLabel("Reason (kept in the audit log, shown to the clinic)").fill("Paid");
  await admin.getByRole("button", { name: "Reactivate" }).click();
  await expect(admin.getByTestId("clinic-status")).toHaveText("Active");
  await patient.goto("/c/sunrise");
  await hydrated(patient);
  await expect(patient.getByRole("button", { name: "Get my token" })).toBeVisible();
  await patient.goto(tracker);
  await hydrated(patient);
  await expect(patient.getByTestId("status")).toHaveText("Waiting");
  await expect(patient.getByRole("alert")).toHaveCount(0);
  await desk.reload();
  await hydrated(desk);
  await expect(desk.getByTestId("desk-notice")).toHaveCount(0);
  await desk.getByRole("button", { name: "NEXT" }).click();
  await expect(desk.getByTestId("desk-serving")).toHaveText("A-1");

  // Every one of these steps is in the audit log with the operator's address.
  await admin.goto("/admin/audit?action=SUSPEND");
  await hydrated(admin);
  await expect(admin.getByTestId("audit")).toContainText("SUSPEND_CLINIC");
  await expect(admin.getByTestId("audit")).toContainText("127.0.0.1");
  await expect(admin.getByTestId("audit")).not.toContainText("CREATE_CLINIC");
});
