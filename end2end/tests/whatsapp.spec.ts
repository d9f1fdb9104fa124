// WhatsApp from the patient's and the owner's side: the tracker's opt-in link carries
// the clinic's number and the message that links the token; the owner connects a
// provider and "Test connection" reports the stand-in provider's answer, good and bad;
// the template preview follows every keystroke.
import { type Browser, type Page } from "@playwright/test";
import { demoPassword, expect, hydrated, join, signIn, standIn, test } from "./helpers";

async function owner(browser: Browser): Promise<Page> {
  const page = await signIn(browser, "owner@demo.test", demoPassword, /\/desk$/);
  await page.goto("/clinic");
  await hydrated(page);
  return page;
}

test("the tracker's WhatsApp link opens a chat with the clinic, pre-written with the token", async ({ page }) => {
  const tracker = await join(page, "Nisha Rao");
  const publicId = tracker.split("/t/")[1];
  const link = page.getByTestId("whatsapp-opt-in");
  await expect(link).toHaveText("Get updates on WhatsApp");
  const href = new URL((await link.getAttribute("href"))!);
  expect(href.origin + href.pathname).toBe("https://wa.me/919800000000");
  const text = href.searchParams.get("text")!;
  expect(text).toContain("A-1");
  expect(text).toContain(`ref ${publicId}`);
});

test("the owner connects UltraMsg and Test connection reports the provider's answer", async ({ browser }) => {
  const page = await owner(browser);
  const panel = page.getByTestId("whatsapp");
  await panel.getByLabel("Provider").selectOption("ULTRAMSG");
  await panel.getByLabel("UltraMsg instance id").fill(standIn.instance);
  await panel.getByLabel("UltraMsg token").fill("a-wrong-token");
  await panel.getByRole("button", { name: "Save WhatsApp" }).click();
  await expect(panel.getByTestId("webhook-url")).toContainText("/webhooks/whatsapp/ultramsg/demo?secret=");
  await expect(panel.getByTestId("masked-secrets")).toContainText("UltraMsg token ••••••oken");
  await panel.getByRole("button", { name: "Test connection" }).click();
  await expect(panel.getByTestId("test-result")).toHaveText(/Not connected: UltraMsg: Wrong token/);

  await panel.getByLabel("UltraMsg token").fill(standIn.token);
  await panel.getByRole("button", { name: "Save WhatsApp" }).click();
  await expect(panel.getByTestId("masked-secrets")).toContainText("UltraMsg token ••••••oken");
  await panel.getByRole("button", { name: "Test connection" }).click();
  await expect(panel.getByTestId("test-result")).toHaveText(`Connected: UltraMsg instance ${standIn.instance} is authenticated (connected)`);
});

test("the template preview follows every keystroke and refuses unknown variables", async ({ browser }) => {
  const page = await owner(browser);
  const panel = page.getByTestId("templates");
  await panel.getByLabel("Message").selectOption({ label: "Your turn · WhatsApp · English" });
  const body = panel.getByTestId("template-body");
  const preview = panel.getByTestId("template-preview");
  await expect(preview).toContainText("it's your turn, Asha!");
  await body.fill("");
  await body.pressSequentially("Hello {name}, {token} to {queue}");
  await expect(preview).toHaveText("Hello Asha, A-12 to General");
  await body.pressSequentially(", {room}");
  await expect(preview).toHaveText("Hello Asha, A-12 to General, Room 2");
  await body.pressSequentially(" {doctor}");
  await expect(panel.getByRole("alert")).toContainText("Unknown variable {doctor}");
  await expect(panel.getByRole("button", { name: "Save template" })).toBeDisabled();
  await body.fill("Hello {name}, {token} to {queue} now");
  await panel.getByRole("button", { name: "Save template" }).click();
  await expect(panel.getByText("Template saved.")).toBeVisible();
  await expect(panel.getByLabel("Message")).toContainText("Your turn · WhatsApp · English (yours)");
});
