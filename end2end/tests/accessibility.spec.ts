// Every page, public and staff, audited with axe-core against WCAG 2.1 A and AA, as a
// patient, a receptionist, an owner and the operator reach it. A finding fails the story
// and names the rule, the element and how to fix it.
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { demoPassword, demoToday, desk, expect, hydrated, join, openHours, setOpeningHours, signIn, test } from "./helpers";

async function audit(page: Page) {
  await hydrated(page);
  const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const found = violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    where: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
  }));
  expect(found, `accessibility findings on ${new URL(page.url()).pathname}`).toEqual([]);
}

test("the patient's pages: front page, join, tracker, waiting-room display", async ({ page }) => {
  for (const path of ["/", "/c/demo", "/c/demo/display", "/c/demo/find"]) {
    await page.goto(path);
    await audit(page);
  }
  await join(page, "Kavya Nair");
  await audit(page);
  await join(page, "Kavya Nair", "hi");
  await audit(page);
});

test("the staff's pages: login, desk, account, clinic settings, poster, analytics", async ({ browser, page }) => {
  await page.goto("/login");
  await audit(page);
  const staff = await desk(browser, "owner@demo.test");
  await audit(staff);
  for (const path of ["/account", "/clinic", "/clinic/poster", "/clinic/analytics"]) {
    await staff.goto(path);
    await audit(staff);
  }
});

test("opening hours: the queue's hours form and the join page that shows them", async ({ browser, page }) => {
  const owner = await signIn(browser, "owner@demo.test", demoPassword, /\/desk$/);
  await owner.goto("/clinic");
  await hydrated(owner);
  const general = await setOpeningHours(owner, "General", "09:00-13:00, 14:00-17:00", demoToday());
  await openHours(general);
  await audit(owner);
  for (const lang of ["en", "hi"]) {
    await page.goto(`/c/demo?lang=${lang}`);
    await page.locator(".opening-hours summary").click();
    await audit(page);
  }
});

test("the operator's console: clinics, a clinic, its analytics, the audit log", async ({ browser }) => {
  const admin = await signIn(browser, "admin@demo.test", demoPassword, /\/admin$/);
  await audit(admin);
  for (const path of ["/admin/c/demo", "/admin/c/demo/analytics", "/admin/audit"]) {
    await admin.goto(path);
    await audit(admin);
  }
});

test("the tracker and the board read at 200 % zoom without sideways scrolling", async ({ browser }) => {
  // A phone at 200 % is about 206 CSS pixels wide; a 1280-pixel screen (a small TV for
  // the board) 640.
  const screens = [
    { width: 206, height: 400, pages: ["tracker"] },
    { width: 640, height: 400, pages: ["tracker", "board"] },
  ];
  for (const { width, height, pages } of screens) {
    const page = await (await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 2 })).newPage();
    const urls = { tracker: await join(page, "Lakshmi Menon"), board: "/c/demo/display" };
    for (const name of pages) {
      await page.goto(urls[name as keyof typeof urls]);
      await hydrated(page);
      // The elements that reach past the screen's right edge, to say what to fix.
      const wide = await page.evaluate(() => {
        const edge = document.documentElement.clientWidth;
        return [...document.querySelectorAll("body *")]
          .filter((e) => e.getBoundingClientRect().right > edge + 0.5)
          .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} (${Math.round(e.getBoundingClientRect().right - edge)} px)`);
      });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect({ overflow, wide }, `sideways scroll on the ${name} at ${width} px`).toEqual({ overflow: 0, wide: [] });
    }
  }
});

test("the desk's move panel, a printed ticket and the reception kiosk", async ({ browser }) => {
  const owner = await desk(browser, "owner@demo.test");
  await owner.getByLabel("Name").fill("Ramesh Iyer");
  await owner.getByRole("button", { name: "Add" }).click();
  const row = owner.getByTestId("token-row").filter({ hasText: "Ramesh Iyer" });
  await row.getByRole("button", { name: "Move" }).click();
  await expect(owner.getByTestId("move-panel")).toBeVisible();
  await audit(owner);
  const ticket = (await row.getByRole("link", { name: "Ticket" }).getAttribute("href"))!.replace("?print=1", "");
  await owner.goto(ticket);
  await audit(owner);

  await owner.goto("/clinic");
  await hydrated(owner);
  await owner.getByTestId("kiosk-settings").getByLabel(/Kiosk code/).fill("246813");
  await owner.getByRole("button", { name: "Save kiosk code" }).click();
  await expect(owner.getByTestId("kiosk-settings").getByRole("status")).toContainText("saved");
  const kiosk = await (await browser.newContext()).newPage();
  await kiosk.goto("/c/demo/kiosk");
  await expect(kiosk.getByLabel("Kiosk code")).toBeVisible();
  await audit(kiosk);
  await kiosk.getByLabel("Kiosk code").fill("246813");
  await kiosk.getByRole("button", { name: "Open the kiosk" }).click();
  await kiosk.getByRole("button", { name: "General" }).click();
  await audit(kiosk);
  await kiosk.getByLabel("Your name").fill("Sunita");
  await kiosk.getByRole("button", { name: "Get my token" }).click();
  await expect(kiosk.getByTestId("kiosk-token")).toBeVisible();
  await audit(kiosk);
});
