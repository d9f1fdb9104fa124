// Transfer: the doctor sends a patient on to the pharmacy. The desk moves the token to
// another queue of the clinic; the patient keeps their tracker link, which now shows the
// new queue and number, and the other desk sees where they came from and why. UNDO
// brings them back.
import { expect, test, desk, demoPassword, hydrated, join, signIn } from "./helpers";

test("a patient moved from General to Pharmacy keeps their link, and UNDO brings them back", async ({ browser }) => {
  // The owner opens a Pharmacy queue.
  const owner = await signIn(browser, "owner@demo.test", demoPassword, /\/desk$/);
  await owner.goto("/clinic");
  await hydrated(owner);
  await owner.getByLabel("Queue name").fill("Pharmacy");
  await owner.getByLabel("Token prefix").fill("P");
  await owner.getByRole("button", { name: "Add queue" }).click();
  await expect(owner.getByRole("listitem", { name: "Pharmacy", exact: true })).toHaveCount(1);

  // A patient joins General and follows their tracker.
  const tracker = await (await browser.newContext()).newPage();
  const link = await join(tracker, `Meena ${Date.now()}`);
  const token = (await tracker.getByTestId("token").textContent())!;
  await expect(tracker.getByText("Demo Clinic · General")).toBeVisible();

  // The receptionist moves her to Pharmacy with a note for the pharmacist.
  const receptionist = await desk(browser);
  const row = receptionist.getByTestId("token-row").filter({ hasText: token });
  await row.getByRole("button", { name: "Move" }).click();
  const panel = receptionist.getByRole("region", { name: `Move ${token} to another queue` });
  await panel.getByLabel("Move to").selectOption({ label: "Pharmacy" });
  await panel.getByLabel("Note for the next desk (optional)").fill("Paracetamol 500 mg");
  const moved = receptionist.waitForResponse((r) => r.url().endsWith("/api/desk/act"));
  await panel.getByRole("button", { name: "Move patient" }).click();
  expect((await moved).ok()).toBe(true);
  await expect(panel).toHaveCount(0);
  await expect(receptionist.getByTestId("waiting")).not.toContainText(token);

  // The same link now shows Pharmacy and her new number, and says where she came from.
  await expect(tracker.getByText("Demo Clinic · Pharmacy")).toBeVisible({ timeout: 10_000 });
  await expect(tracker.getByTestId("token")).toHaveText(/^P-\d+$/);
  const newToken = (await tracker.getByTestId("token").textContent())!;
  await expect(tracker.getByTestId("moved-from")).toHaveText(`Moved here from General ${token}`);
  expect(tracker.url()).toBe(link);
  await tracker.reload();
  await hydrated(tracker);
  await expect(tracker.getByTestId("token")).toHaveText(newToken);

  // The pharmacy's desk lists her with the note.
  const pharmacist = await desk(browser, "desk@demo.test", "Pharmacy");
  const arrived = pharmacist.getByTestId("token-row").filter({ hasText: newToken });
  await expect(arrived.getByTestId("moved-from")).toHaveText(`From General ${token}: Paracetamol 500 mg`);

  // UNDO on General brings her back under her old number; the link follows again.
  await receptionist.getByRole("button", { name: "UNDO" }).click();
  await expect(receptionist.getByTestId("waiting")).toContainText(token);
  await expect(tracker.getByTestId("token")).toHaveText(token, { timeout: 10_000 });
  await expect(tracker.getByText("Demo Clinic · General")).toBeVisible();
  await expect(tracker.getByTestId("moved-from")).toHaveCount(0);
  await expect(pharmacist.getByTestId("waiting")).not.toContainText(newToken, { timeout: 10_000 });
});
