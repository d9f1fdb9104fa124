// The waiting-room TV follows the desk, and says so when it loses the network.
import { expect, test, desk, hydrated, join } from "./helpers";

test("the display board follows NEXT and shows when it is reconnecting", async ({ browser, page, browserErrors }) => {
  // The board's polls fail in the console while the network is cut: that is the story.
  browserErrors.expect(/ERR_INTERNET_DISCONNECTED/);
  await page.goto("/c/demo/display");
  await hydrated(page);
  const dental = page.getByTestId("board-queue").filter({ hasText: "Dental" });
  await expect(dental).toBeVisible();

  const receptionist = await desk(browser, "desk@demo.test", "Dental");
  await join(await (await browser.newContext()).newPage(), `Zoya ${Date.now()}`, "en", "Dental");
  await expect(receptionist.getByTestId("count-waiting")).not.toHaveText("0");
  const before = await receptionist.getByTestId("desk-serving").textContent();
  await receptionist.getByRole("button", { name: "NEXT" }).click();
  await expect(receptionist.getByTestId("desk-serving")).not.toHaveText(before!);
  const serving = (await receptionist.getByTestId("desk-serving").textContent())!;
  await expect(dental.getByTestId("board-serving")).toHaveText(serving, { timeout: 12_000 });

  await page.route("**/api/display/**", (route) => route.abort("internetdisconnected"));
  await expect(page.getByTestId("board-reconnecting")).toBeVisible({ timeout: 12_000 });
  await expect(dental.getByTestId("board-serving")).toHaveText(serving);
  await page.unroute("**/api/display/**");
  await expect(page.getByTestId("board-reconnecting")).toBeHidden({ timeout: 12_000 });
});
