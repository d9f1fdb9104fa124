// Every patient reached, in the browser: the tracker's "alert me" switch subscribes with
// Chromium's notification permission granted and the push reaches the (stand-in) push
// service, VAPID-signed and decryptable, when the desk presses NEXT; a patient's WhatsApp
// message appears in the desk's inbox within about 2 seconds, the desk's reply reaches the
// stand-in provider, and the reply box refuses once WhatsApp's 24-hour window has closed.
import { type Browser, type Page } from "@playwright/test";
import {
  demoPassword,
  desk,
  expect,
  freshPhone,
  hydrated,
  signIn,
  standIn,
  startPushService,
  test,
  ultramsgSent,
  usePushService,
} from "./helpers";

/** Joins the demo clinic's General queue with a known phone; answers the tracker URL. */
async function joinWith(page: Page, name: string, phone: string): Promise<string> {
  await page.goto("/c/demo");
  await hydrated(page);
  await page.getByLabel("General").check();
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Mobile number").fill(phone);
  await page.getByRole("button", { name: "Get my token" }).click();
  await page.waitForURL(/\/t\/[0-9A-Za-z]{22}$/);
  await hydrated(page);
  return page.url();
}

/** The owner connects the demo clinic to the stand-in UltraMsg; answers its webhook URL. */
async function connectUltraMsg(browser: Browser): Promise<string> {
  const owner = await signIn(browser, "owner@demo.test", demoPassword, /\/desk$/);
  await owner.goto("/clinic");
  await hydrated(owner);
  const panel = owner.getByTestId("whatsapp");
  await panel.getByLabel("Provider").selectOption("ULTRAMSG");
  await panel.getByLabel("UltraMsg instance id").fill(standIn.instance);
  await panel.getByLabel("UltraMsg token").fill(standIn.token);
  await panel.getByRole("button", { name: "Save WhatsApp" }).click();
  const webhook = panel.getByTestId("webhook-url");
  await expect(webhook).toContainText("/webhooks/whatsapp/ultramsg/demo?secret=");
  const url = (await webhook.textContent())!;
  await owner.context().close();
  return url;
}

/** The patient writes to the clinic, as UltraMsg's webhook reports it. */
async function patientWrites(page: Page, webhook: string, phone: string, body: string, secondsAgo = 0) {
  const answer = await page.request.post(webhook, {
    data: {
      event_type: "message_received",
      instanceId: standIn.instance,
      data: {
        id: `false_91${phone}@c.us_${Math.random().toString(36).slice(2)}`,
        from: `91${phone}@c.us`,
        to: "919800000000@c.us",
        body,
        type: "chat",
        fromMe: false,
        time: Math.floor(Date.now() / 1000) - secondsAgo,
      },
    },
  });
  expect(answer.status()).toBe(200);
}

test("alerts on: the tracker subscribes and NEXT reaches the push service, signed and encrypted", async ({ page, browser }) => {
  const pushService = await startPushService();
  const subscription = pushService.subscription();
  await usePushService(page, subscription);
  await joinWith(page, "Farah Khan", freshPhone());
  const alerts = page.getByTestId("alerts");
  await expect(alerts).toHaveText("Alert me on this phone");
  await alerts.click();
  await expect(alerts).toHaveText("Alerts on");
  await expect(alerts).toHaveAttribute("aria-pressed", "true");
  // The page subscribed with the server's VAPID key (a 65-byte P-256 point) and a
  // service worker of its own.
  expect(await page.evaluate(() => (window as unknown as { qlineServerKeyLength: number }).qlineServerKeyLength)).toBe(65);
  expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration("/"))?.active?.scriptURL)).toMatch(/\/sw\.js$/);

  const reception = await desk(browser);
  await reception.getByRole("button", { name: "NEXT" }).click();
  await expect(reception.getByTestId("desk-serving")).toHaveText("A-1");
  await expect.poll(() => pushService.received(subscription.id).length, { timeout: 5_000 }).toBe(1);
  const [push] = pushService.received(subscription.id);
  expect(push.vapidValid).toBe(true);
  expect(push.payload.title).toBe("Demo Clinic");
  expect(push.payload.body).toContain("it's your turn");
  expect(push.payload.url).toBe(new URL(page.url()).pathname);
  // The desk sees how the alert went.
  await expect(reception.getByTestId("serving-notices")).toContainText("turn: push");
  pushService.close();
});

test("a patient's WhatsApp message reaches the desk inbox live, and the desk replies", async ({ page, browser }) => {
  const webhook = await connectUltraMsg(browser);
  const phone = freshPhone();
  await joinWith(page, "Imran Sheikh", phone);
  const reception = await desk(browser);
  await expect(reception.getByTestId("waiting").getByTestId("token-row")).toHaveCount(1);

  const written = Date.now();
  await patientWrites(page, webhook, phone, "I'm running 10 minutes late, please keep my place");
  // The desk polls every 1.5 s: the message shows next to the token within about 2 s.
  const row = reception.getByTestId("waiting").getByTestId("token-row");
  await expect(row.getByTestId("chat-last")).toHaveText("I'm running 10 minutes late, please keep my place", { timeout: 2_500 });
  console.log(`desk inbox: the message showed ${Date.now() - written} ms after the webhook call`);

  const conversation = reception.getByTestId("conversation");
  await expect(conversation.getByTestId("reply-window")).toContainText("You can reply until");
  await conversation.getByTestId("reply").fill("No problem, we will keep your place.");
  await conversation.getByTestId("send-reply").click();
  await expect(conversation.getByTestId("chat-line")).toHaveCount(2);
  await expect
    .poll(() => ultramsgSent.some((m) => m.to === `+91${phone}` && m.body === "No problem, we will keep your place."), { timeout: 5_000 })
    .toBe(true);
});

test("the reply box refuses once the patient's 24-hour window has closed", async ({ page, browser }) => {
  const webhook = await connectUltraMsg(browser);
  const phone = freshPhone();
  await joinWith(page, "Lata Menon", phone);
  const reception = await desk(browser);
  // Written 23 h 59 min 54 s ago: the window closes in 6 seconds.
  await patientWrites(page, webhook, phone, "Is the doctor in today?", 24 * 3600 - 6);
  const conversation = reception.getByTestId("conversation");
  await expect(conversation.getByTestId("reply-window")).toContainText("You can reply until");
  await conversation.getByTestId("reply").fill("Yes, until 6 pm.");
  await expect(conversation.getByTestId("send-reply")).toBeEnabled();
  // The desk's clock runs on: once the window closes the box refuses.
  await expect(conversation.getByTestId("reply-window")).toContainText("window closed", { timeout: 10_000 });
  await expect(conversation.getByTestId("send-reply")).toBeDisabled();
  await expect(conversation.getByTestId("reply")).toBeDisabled();
  expect(ultramsgSent.some((m) => m.to === `+91${phone}`)).toBe(false);
});
