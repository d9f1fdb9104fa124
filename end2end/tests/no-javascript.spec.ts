// Forms work before the bundle loads and with JavaScript off: a plain form post that is
// refused comes back to the same page with the message next to the field and what was
// typed, never a bare error; one that is accepted goes where it should.
import { expect, test, demoPassword, freshPhone } from "./helpers";
import type { Browser, Locator, Page, Response } from "@playwright/test";

async function withoutJavaScript(browser: Browser) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  return { context, page: await context.newPage() };
}

/** Clicks a submit button and waits for the page the post lands on to load. */
async function submit(page: Page, button: Locator) {
  const landed = page.waitForEvent("load");
  await button.click();
  await landed;
}

/** Every document the browser was answered with while following a form post. */
function documents(page: Page): Response[] {
  const seen: Response[] = [];
  page.on("response", (r) => {
    if (r.request().resourceType() === "document") seen.push(r);
  });
  return seen;
}

test("without JavaScript, a refused join comes back to the join page with the message by the phone field and the values typed", async ({ browser }) => {
  const { context, page } = await withoutJavaScript(browser);
  await page.goto("/c/demo");
  const answers = documents(page);
  await page.getByLabel("Your name").fill("Kiran Joshi");
  await page.getByLabel("Mobile number").fill("12345");
  await submit(page, page.getByRole("button", { name: "Get my token" }));
  await expect(page).toHaveURL(/\/c\/demo$/);

  expect(answers.map((r) => r.status())).toEqual([302, 200]);
  const phone = page.getByLabel("Mobile number");
  await expect(phone).toHaveValue("12345");
  await expect(phone).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Your name")).toHaveValue("Kiran Joshi");
  await expect(page.locator("#phone-error")).toHaveText(/"12345" is not a valid phone number/);
  await expect(page.getByRole("alert")).toHaveCount(1);
  await expect(page.locator("body")).not.toContainText('{"Refused"');

  // The refusal is shown once: reloading shows a clean form.
  await page.reload();
  await expect(page.getByRole("alert")).toHaveCount(0);
  await expect(page.getByLabel("Mobile number")).toHaveValue("");

  // Corrected, the same form takes the token and lands on the tracker.
  await page.getByLabel("Your name").fill("Kiran Joshi");
  await page.getByLabel("Mobile number").fill(freshPhone());
  await submit(page, page.getByRole("button", { name: "Get my token" }));
  await expect(page).toHaveURL(/\/t\/[0-9A-Za-z]{22}$/);
  await expect(page.getByTestId("status")).toHaveText("Waiting");
  await context.close();
});

test("without JavaScript, a wrong password comes back to the login page with the email kept, and the right one signs in", async ({ browser }) => {
  const { context, page } = await withoutJavaScript(browser);
  await page.goto("/login");
  await page.getByLabel("Email").fill("desk@demo.test");
  await page.getByLabel("Password").fill("not-the-password");
  await submit(page, page.getByRole("button", { name: "Sign in" }));
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("alert")).toHaveText("That email and password do not match an active account.");
  await expect(page.getByLabel("Email")).toHaveValue("desk@demo.test");
  await expect(page.getByLabel("Password")).toHaveValue("");

  await page.getByLabel("Password").fill(demoPassword);
  await submit(page, page.getByRole("button", { name: "Sign in" }));
  await expect(page).toHaveURL(/\/desk$/);
  await expect(page.getByRole("heading", { name: "Desk", level: 1 })).toBeVisible();
  await context.close();
});

test("without JavaScript, the desk's walk-in form refuses a bad phone by its field, keeps the name, and adds a good walk-in", async ({ browser }) => {
  const { context, page } = await withoutJavaScript(browser);
  await page.goto("/login");
  await page.getByLabel("Email").fill("desk@demo.test");
  await page.getByLabel("Password").fill(demoPassword);
  await submit(page, page.getByRole("button", { name: "Sign in" }));
  await expect(page).toHaveURL(/\/desk$/);

  const form = page.locator("form").filter({ has: page.getByRole("button", { name: "Add" }) });
  await form.getByLabel("Name").fill("Lata Menon");
  await form.getByLabel("Mobile (optional)").fill("98");
  await form.getByLabel("Emergency: call next").check();
  await submit(page, form.getByRole("button", { name: "Add" }));
  await expect(page).toHaveURL(/\/desk$/);
  await expect(form.getByLabel("Mobile (optional)")).toHaveValue("98");
  await expect(form.getByLabel("Mobile (optional)")).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByLabel("Name")).toHaveValue("Lata Menon");
  await expect(form.getByLabel("Emergency: call next")).toBeChecked();
  await expect(form.locator("#phone-error")).toHaveText(/"98" is not a valid phone number/);

  await form.getByLabel("Mobile (optional)").fill("");
  await submit(page, form.getByRole("button", { name: "Add" }));
  await expect(page).toHaveURL(/\/desk$/);
  await expect(page.getByTestId("waiting").getByTestId("token-row").filter({ hasText: "Lata Menon" })).toContainText("priority");
  await expect(page.getByRole("alert")).toHaveCount(0);
  await context.close();
});
