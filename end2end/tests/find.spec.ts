// "Find my token": a patient whose tracker tab is gone asks for the link by mobile
// number. It is sent to that number, never shown; the page answers a number that holds
// a token and one that does not alike, and a network that keeps asking is made to wait.
import { expect, test, freshPhone, hydrated, join, refusal } from "./helpers";

test("a lost link is sent to the patient's number, and the page says the same for any number", async ({ browser, page, browserErrors }) => {
  browserErrors.expect(refusal(429, "/api/find-token"));
  // A patient joins, then the QR scanner's browser is closed.
  const phone = freshPhone();
  await page.goto("/c/demo");
  await hydrated(page);
  await page.getByLabel("Your name").fill("Imran Sheikh");
  await page.getByLabel("Mobile number").fill(phone);
  await page.getByRole("button", { name: "Get my token" }).click();
  await page.waitForURL(/\/t\/[0-9A-Za-z]{22}$/);
  const tracker = page.url();

  // On another phone, the join page offers to send the link again.
  const other = await (await browser.newContext()).newPage();
  await other.goto("/c/demo");
  await hydrated(other);
  await other.getByRole("link", { name: /lost its page/ }).click();
  await expect(other.getByRole("heading", { name: "Find your token" })).toBeVisible();
  const answers: string[] = [];
  for (const number of [phone, freshPhone()]) {
    await other.getByLabel("Mobile number").fill(number);
    await other.getByRole("button", { name: "Send me my link" }).click();
    await expect(other.getByTestId("find-sent")).toBeVisible();
    answers.push((await other.locator("main").innerText()).replace(number, "NUMBER"));
    // The link itself is never on the page.
    expect(await other.content()).not.toContain(new URL(tracker).pathname);
  }
  expect(answers[0]).toBe(answers[1]);

  // In Hindi too.
  await other.goto("/c/demo/find?lang=hi");
  await expect(other.getByRole("heading", { name: "अपना टोकन खोजें" })).toBeVisible();

  // A network that keeps asking is told to wait, with the reason.
  for (let i = 0; i < 3; i++) {
    await other.getByLabel("मोबाइल नंबर").fill(freshPhone());
    await other.getByRole("button", { name: "मुझे मेरा लिंक भेजें" }).click();
    await expect(other.getByTestId("find-sent")).toBeVisible();
  }
  await other.getByLabel("मोबाइल नंबर").fill(freshPhone());
  await other.getByRole("button", { name: "मुझे मेरा लिंक भेजें" }).click();
  await expect(other.getByRole("alert")).toContainText("Too many requests from this network");
});
