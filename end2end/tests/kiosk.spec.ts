// Printed tickets and the reception kiosk: a walk-in without a smartphone gets an 80 mm
// ticket from the desk, and a tablet at reception, opened with the clinic's kiosk code,
// issues tokens by touch and clears itself for the next patient.
import { expect, test, desk, demoPassword, hydrated, refusal, signIn } from "./helpers";
import type { Page } from "@playwright/test";

/** Records `window.print()` instead of opening the dialog, in every frame. */
async function recordPrints(page: Page) {
  await page.context().addInitScript(() => {
    (window as unknown as { printed: number }).printed = 0;
    window.print = () => void ((window as unknown as { printed: number }).printed += 1);
  });
}

test("the desk prints an 80 mm ticket for a walk-in", async ({ browser }) => {
  const receptionist = await desk(browser);
  const name = `Gopal ${Date.now()}`;
  await receptionist.getByLabel("Name").fill(name);
  await receptionist.getByLabel("Messages in").selectOption("hi");
  await receptionist.getByRole("button", { name: "Add" }).click();
  const row = receptionist.getByTestId("token-row").filter({ hasText: name });
  const token = (await row.locator(".token-label").textContent())!;

  // "Ticket" opens the ticket page, which prints itself.
  const ticketLink = row.getByRole("link", { name: "Ticket" });
  const href = (await ticketLink.getAttribute("href"))!;
  expect(href).toMatch(/^\/t\/[0-9A-Za-z]{22}\/ticket\?print=1$/);
  const ticket = await (await browser.newContext({ viewport: { width: 800, height: 900 } })).newPage();
  await recordPrints(ticket);
  await ticket.goto(href);
  await hydrated(ticket);
  await expect.poll(() => ticket.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);

  // Clinic, token, queue, wait, a QR code of the tracker, when it was printed: in the
  // walk-in's language (Hindi).
  const slip = ticket.getByTestId("ticket");
  await expect(slip).toContainText("Demo Clinic");
  await expect(ticket.getByTestId("ticket-token")).toHaveText(token);
  await expect(slip).toContainText("General");
  await expect(slip).toContainText("आपका टोकन");
  await expect(ticket.getByTestId("ticket-wait")).toContainText("आपसे पहले");
  await expect(ticket.getByTestId("ticket-qr").locator("svg")).toBeVisible();
  await expect(slip).toContainText(/\/t\/[0-9A-Za-z]{22}/);

  // On paper it is 80 mm wide (302 CSS pixels at 96 per inch), whatever the screen.
  await ticket.emulateMedia({ media: "print" });
  const box = (await slip.boundingBox())!;
  expect(Math.abs(box.width - (80 / 25.4) * 96)).toBeLessThan(2);
  await expect(ticket.getByRole("button", { name: "Print" })).toBeHidden();
  if (test.info().project.name === "desktop") {
    await slip.screenshot({ path: "../docs/screenshots/ticket-80mm.png", animations: "disabled" });
  }
});

test("the kiosk issues tokens only with its code, by touch, and clears itself for the next patient", async ({ browser, baseURL, request, browserErrors }) => {
  // The tablet's wrong code below is refused, as it must be.
  browserErrors.expect(refusal(403, "/api/kiosk"));
  // The owner sets the kiosk code.
  const owner = await signIn(browser, "owner@demo.test", demoPassword, /\/desk$/);
  await owner.goto("/clinic");
  await hydrated(owner);
  const settings = owner.getByTestId("kiosk-settings");
  await settings.getByLabel(/Kiosk code/).fill("48291357");
  await settings.getByRole("button", { name: "Save kiosk code" }).click();
  await expect(settings.getByRole("status")).toContainText("Kiosk code saved");

  // From outside, without the code (or with a wrong one), nothing is issued.
  for (const code of ["", "12345678"]) {
    const refused = await request.post(`${baseURL}/api/kiosk/join`, {
      form: { slug: "demo", code, queue_id: "1", name: "Mass print", phone: "", language: "en" },
    });
    expect(refused.status()).toBe(403);
  }

  // The tablet at reception: staff type the code once.
  const kiosk = await (await browser.newContext({ viewport: { width: 820, height: 1180 }, hasTouch: true })).newPage();
  await kiosk.clock.install();
  await kiosk.goto("/c/demo/kiosk");
  await hydrated(kiosk);
  await kiosk.getByLabel("Kiosk code").fill("00000000");
  await kiosk.getByRole("button", { name: "Open the kiosk" }).click();
  await expect(kiosk.getByRole("alert")).toContainText("kiosk is locked");
  await kiosk.getByLabel("Kiosk code").fill("48291357");
  await kiosk.getByRole("button", { name: "Open the kiosk" }).click();

  // A walk-in chooses Dental, types a name, taps the number on the keypad.
  await kiosk.getByRole("button", { name: "Dental" }).tap();
  await expect(kiosk.getByRole("button", { name: "Dental" })).toHaveAttribute("aria-pressed", "true");
  await kiosk.getByLabel("Your name").fill("Farah");
  const keypad = kiosk.getByRole("group", { name: "Number keypad" });
  for (const digit of "98765432109") await keypad.getByRole("button", { name: digit, exact: true }).tap();
  await keypad.getByRole("button", { name: "Delete the last digit" }).tap();
  await expect(kiosk.getByLabel("Mobile number (optional)")).toHaveValue("9876543210");
  await kiosk.getByRole("button", { name: "Get my token" }).tap();

  // The token, its queue and a QR code of the tracker.
  await expect(kiosk.getByTestId("kiosk-token")).toHaveText(/^D-\d+$/);
  await expect(kiosk.getByRole("status")).toContainText("Dental");
  await expect(kiosk.locator(".kiosk-qr svg")).toBeVisible();

  // Untouched, it clears itself for the next patient: an empty form again.
  await kiosk.clock.runFor(31_000);
  await expect(kiosk.getByRole("button", { name: "Get my token" })).toBeVisible();
  await expect(kiosk.getByLabel("Your name")).toHaveValue("");
  await expect(kiosk.getByLabel("Mobile number (optional)")).toHaveValue("");

  // The tablet keeps its code across a reload; the desk sees the walk-in.
  await kiosk.reload();
  await hydrated(kiosk);
  await expect(kiosk.getByRole("button", { name: "Get my token" })).toBeVisible();
  const dental = await desk(browser, "desk@demo.test", "Dental");
  await expect(dental.getByTestId("waiting")).toContainText("Farah");
});
