// Rooms: the owner names the rooms a queue is seen in, a desk chooses its room, and a
// call tells the patient's tracker, the desk and the waiting-room board (on screen and
// aloud, in English and Hindi) where to go.
import { expect, test, desk, demoPassword, hydrated, join, signIn } from "./helpers";

type Spoken = { text: string; lang: string };

/** What the board says for a call: the token letter by letter and digit by digit. */
function announcement(token: string, place: string): Spoken[] {
  const en = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
  const hi = ["शून्य", "एक", "दो", "तीन", "चार", "पाँच", "छह", "सात", "आठ", "नौ"];
  const read = (digits: string[]) =>
    [...token.replace(/[^0-9A-Za-z]/g, "")].map((c) => (/[0-9]/.test(c) ? digits[Number(c)] : c)).join(", ");
  return [
    { text: `Token ${read(en)}. Please go to ${place}.`, lang: "en-IN" },
    { text: `टोकन ${read(hi)}। कृपया ${place} में जाएँ।`, lang: "hi-IN" },
  ];
}

test("a desk in Room 2 calls a patient: the tracker, the desk and the board, aloud, say Room 2", async ({ browser, page }) => {
  // The board's voice is recorded instead of played (the test browser has no voices).
  await page.addInitScript(() => {
    const spoken: { text: string; lang: string }[] = [];
    (window as unknown as { spoken: typeof spoken }).spoken = spoken;
    window.speechSynthesis.speak = (u: SpeechSynthesisUtterance) => void spoken.push({ text: u.text, lang: u.lang });
  });

  // The owner says General is seen in two rooms.
  const owner = await signIn(browser, "owner@demo.test", demoPassword, /\/desk$/);
  await owner.goto("/clinic");
  await hydrated(owner);
  const general = owner.getByRole("listitem", { name: "General", exact: true });
  await general.getByLabel("Rooms").fill("Room 1, Room 2");
  const saved = owner.waitForResponse((r) => r.url().endsWith("/api/clinic/queue/save"));
  await general.getByRole("button", { name: "Save" }).click();
  expect((await saved).ok()).toBe(true);
  await owner.reload();
  await expect(general.getByLabel("Rooms")).toHaveValue("Room 1, Room 2");

  // The board in the waiting room, with its sound turned on by a tap.
  await page.goto("/c/demo/display");
  await hydrated(page);
  const sound = page.getByRole("button", { name: "Tap to turn sound on" });
  await sound.click();
  await expect(page.getByRole("button", { name: "Sound on" })).toHaveAttribute("aria-pressed", "true");

  // A receptionist opens the desk: it calls nobody before she says which room she is in.
  const receptionist = await desk(browser);
  const next = receptionist.getByRole("button", { name: "NEXT" });
  await expect(next).toBeDisabled();
  await receptionist.getByLabel("Your room").selectOption("Room 2");
  await expect(next).toBeEnabled();

  const tracker = await (await browser.newContext()).newPage();
  await join(tracker, `Ravi ${Date.now()}`);
  const token = (await tracker.getByTestId("token").textContent())!;

  // NEXT until our patient is called.
  await expect(receptionist.getByTestId("waiting")).toContainText(token);
  while ((await receptionist.getByTestId("desk-serving").textContent()) !== token) {
    await next.click();
    await expect(next).toBeEnabled();
  }
  await expect(receptionist.getByTestId("desk-serving-room")).toHaveText("→ Room 2");
  // The desk keeps its room for the shift: a reload still calls to Room 2.
  await receptionist.reload();
  await hydrated(receptionist);
  await expect(receptionist.getByLabel("Your room")).toHaveValue("Room 2");
  await expect(next).toBeEnabled();
  await expect(tracker.getByTestId("status")).toHaveText("It's your turn!", { timeout: 10_000 });
  await expect(tracker.getByTestId("room")).toHaveText("Go to Room 2");

  // The board lists the call first, and says it in English and in Hindi.
  const latest = page.getByTestId("board-call").first();
  await expect(latest).toContainText(token, { timeout: 12_000 });
  await expect(latest).toContainText("Room 2");
  await expect(page.getByTestId("board-queue").filter({ hasText: "General" }).getByTestId("board-room")).toHaveText("Go to Room 2");
  const said = () => page.evaluate(() => (window as unknown as { spoken: Spoken[] }).spoken);
  for (const words of announcement(token, "Room 2")) {
    await expect.poll(said).toContainEqual(words);
  }

  // The board remembers that its sound was on; after a reload one tap brings it back.
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Tap anywhere to resume sound" })).toBeVisible();
  await page.locator("body").click();
  await expect(page.getByRole("button", { name: "Sound on" })).toBeVisible();
});

test("the board announces calls it missed while offline once, when it is back", async ({ browser, page, browserErrors }) => {
  browserErrors.expect(/ERR_INTERNET_DISCONNECTED/);
  await page.addInitScript(() => {
    const spoken: { text: string; lang: string }[] = [];
    (window as unknown as { spoken: typeof spoken }).spoken = spoken;
    window.speechSynthesis.speak = (u: SpeechSynthesisUtterance) => void spoken.push({ text: u.text, lang: u.lang });
  });
  await page.goto("/c/demo/display?lang=hi");
  await hydrated(page);
  await page.getByRole("button", { name: "आवाज़ चालू करने के लिए टैप करें" }).click();

  const receptionist = await desk(browser, "desk@demo.test", "Dental");
  await join(await (await browser.newContext()).newPage(), `Meera ${Date.now()}`, "en", "Dental");
  await expect(receptionist.getByTestId("count-waiting")).not.toHaveText("0");

  // The network drops; the desk calls meanwhile.
  await page.route("**/api/display/**", (route) => route.abort("internetdisconnected"));
  await expect(page.getByTestId("board-reconnecting")).toBeVisible({ timeout: 12_000 });
  await receptionist.getByRole("button", { name: "NEXT" }).click();
  const serving = receptionist.getByTestId("desk-serving");
  await expect(serving).not.toHaveText("—");
  const token = (await serving.textContent())!;

  // Back online: the call is shown and said, Hindi first on a Hindi board, and only once.
  await page.unroute("**/api/display/**");
  await expect(page.getByTestId("board-reconnecting")).toBeHidden({ timeout: 12_000 });
  await expect(page.getByTestId("board-call").first()).toContainText(token);
  const [english, hindi] = announcement(token, "Dental chair 1");
  const said = () => page.evaluate(() => (window as unknown as { spoken: Spoken[] }).spoken);
  await expect.poll(said).toEqual([hindi, english]);
  // The next polls change nothing, so nothing is said again.
  await page.waitForResponse((r) => r.url().includes("/api/display/"));
  await page.waitForResponse((r) => r.url().includes("/api/display/"));
  expect(await said()).toEqual([hindi, english]);
});
