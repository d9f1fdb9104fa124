// Pictures of every screen for docs/screenshots (linked from the README), taken on each
// run at desktop and phone sizes so they always show the current product.
import { demoPassword, expect, test, desk, hydrated, join, signIn } from "./helpers";

const shot = (name: string) => `../docs/screenshots/${name}-${test.info().project.name}.png`;

// Four weeks of past visits, so the analytics and the wait estimates have a history.
test.use({ demoHistoryDays: 28 });

test("screenshots of the join page, the tracker, the desk and the display board", async ({ browser, page }) => {
  await page.goto("/c/demo");
  await hydrated(page);
  await page.screenshot({ path: shot("join"), fullPage: true });

  // A different patient per viewport: both runs share the server's database.
  const name = test.info().project.name === "phone" ? "Kabir Shah" : "Meera Nair";
  await join(page, name);
  await expect(page.getByTestId("status")).toHaveText("Waiting");
  await page.screenshot({ path: shot("tracker-waiting"), fullPage: true });

  const receptionist = await desk(browser, "desk@demo.test", "General");
  await receptionist.setViewportSize(page.viewportSize()!);
  const row = receptionist.getByTestId("waiting").getByTestId("token-row").filter({ hasText: name });
  await expect(row).toHaveCount(1);
  await receptionist.screenshot({ path: shot("desk"), fullPage: true });

  await row.getByRole("button", { name: "Call" }).click();
  await expect(page.getByTestId("status")).toHaveText("It's your turn!", { timeout: 10_000 });
  await page.screenshot({ path: shot("tracker-your-turn"), fullPage: true });

  await receptionist.getByRole("button", { name: "SKIP", exact: true }).click();
  await expect(page.getByTestId("status")).toHaveText("You missed your turn", { timeout: 15_000 });
  await page.screenshot({ path: shot("tracker-missed"), fullPage: true });

  await page.goto("/c/demo/display");
  await hydrated(page);
  await page.screenshot({ path: shot("display"), fullPage: true });

  await page.goto("/c/demo?lang=hi");
  await hydrated(page);
  await page.screenshot({ path: shot("join-hindi"), fullPage: true });
});

test("screenshots of the tenant console, the clinic settings and the QR poster", async ({ browser }) => {
  const admin = await signIn(browser, "admin@demo.test", demoPassword, /\/admin$/, true);
  await expect(admin.getByTestId("clinics")).toContainText("Demo Clinic");
  await admin.screenshot({ path: shot("admin"), fullPage: true });

  const owner = await signIn(browser, "owner@demo.test", demoPassword, /\/desk$/, true);
  await owner.goto("/clinic");
  await hydrated(owner);
  await expect(owner.getByTestId("usage-chart")).toBeVisible();
  await owner.screenshot({ path: shot("clinic"), fullPage: true });
  await owner.goto("/clinic/analytics");
  await hydrated(owner);
  await expect(owner.getByTestId("chart-days")).toBeVisible();
  await owner.screenshot({ path: shot("analytics"), fullPage: true });
  if (test.info().project.name === "desktop") {
    await owner.goto("/clinic/poster");
    await expect(owner.getByTestId("poster-qr")).toBeVisible();
    await owner.screenshot({ path: shot("poster"), fullPage: true });
  }
});
