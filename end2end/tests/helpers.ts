// What several end-to-end stories share: a fresh `qline` server (and database) for every
// test, fresh phone numbers, waiting for hydration, joining the demo clinic, and signing
// in as its staff.
import { test as base, expect, type Browser, type Page } from "@playwright/test";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";

/** The UltraMsg instance and token the stand-in provider accepts. */
export const standIn = { instance: "instance1150", token: "ultramsg-good-token" };

let standInUrl: Promise<string> | undefined;

/**
 * A stand-in for UltraMsg's API on loopback, shared by the test servers: the instance
 * status call answers "authenticated" for the good token and UltraMsg's error otherwise.
 */
function startStandIn(): Promise<string> {
  standInUrl ??= new Promise((resolve) => {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      res.setHeader("content-type", "application/json");
      if (url.pathname === `/${standIn.instance}/instance/status` && url.searchParams.get("token") === standIn.token) {
        res.end(JSON.stringify({ status: { accountStatus: { status: "authenticated", substatus: "connected" } } }));
      } else {
        res.end(JSON.stringify({ error: "Wrong token. Please provide token as a GET parameter." }));
      }
    });
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
    });
    server.unref();
  });
  return standInUrl;
}

/** The demo logins' password, given to every test's server. */
export const demoPassword = "demo-password-e2e";

/**
 * Every test gets its own server on a free port with a new SQLite database seeded with
 * the demo clinic, so no test sees another's patients. `QLINE_BASE_URL` points the
 * tests at a running server instead. The demo clinic starts without past days unless a
 * test asks for them (`test.use({ demoHistoryDays: 28 })`).
 */
export const test = base.extend<{ baseURL: string; demoHistoryDays: number }>({
  demoHistoryDays: [0, { option: true }],
  baseURL: async ({ demoHistoryDays }, use) => {
    if (process.env.QLINE_BASE_URL) {
      await use(process.env.QLINE_BASE_URL);
      return;
    }
    const dir = mkdtempSync(joinPath(tmpdir(), "qline-e2e-"));
    const ultramsg = await startStandIn();
    const server = spawn("./target/debug/qline", ["serve", "--addr", "127.0.0.1:0", "--seed-demo"], {
      cwd: "..",
      env: {
        ...process.env,
        QLINE_DATABASE_URL: `sqlite://${dir}/qline.db`,
        QLINE_DEMO_PASSWORD: demoPassword,
        QLINE_DEMO_HISTORY_DAYS: String(demoHistoryDays),
        QLINE_SECRET_KEY_FILE: `${dir}/secret.key`,
        QLINE_ULTRAMSG_BASE_URL: ultramsg,
        QLINE_LOG: "warn",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let seen = "";
      server.stdout!.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        const found = /serving on (http:\/\/[\d.:]+)/.exec(seen);
        if (found) resolve(found[1]);
      });
      server.on("exit", (code) => reject(new Error(`qline exited with ${code} before serving:\n${seen}`)));
    });
    await use(url);
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  },
});
export { expect };

/** A valid Indian mobile number (the 98 series) no other test uses. */
export function freshPhone(): string {
  return "98" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0");
}

export async function hydrated(page: Page) {
  await page.locator("body[data-hydrated]").waitFor();
}

/** Joins a demo clinic queue and returns the tracker URL. */
export async function join(page: Page, name: string, language = "en", queue = "General"): Promise<string> {
  await page.goto("/c/demo");
  await hydrated(page);
  await page.getByLabel(queue).check();
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Mobile number").fill(freshPhone());
  await page.getByRole("combobox", { name: "Language" }).selectOption(language);
  await page.getByRole("button", { name: "Get my token" }).click();
  await page.waitForURL(/\/t\/[0-9A-Za-z]{22}$/);
  await hydrated(page);
  return page.url();
}

/**
 * A new browser context signed in as `email`, once it has landed where sign-in sends
 * that account. `sized` gives it this project's viewport (for screenshots).
 */
export async function signIn(browser: Browser, email: string, password: string, lands: RegExp, sized = false): Promise<Page> {
  const options = sized ? { viewport: test.info().project.use.viewport } : {};
  const page = await (await browser.newContext(options)).newPage();
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(lands);
  await hydrated(page);
  return page;
}

/** A new browser context signed in at the desk as `email`, showing `queue`. */
export async function desk(browser: Browser, email = "desk@demo.test", queue = "General"): Promise<Page> {
  const page = await signIn(browser, email, demoPassword, /\/desk$/);
  await page.getByRole("navigation", { name: "Queues" }).getByRole("button", { name: queue }).click();
  await expect(page.getByRole("navigation", { name: "Queues" }).getByRole("button", { name: queue })).toHaveAttribute("aria-pressed", "true");
  return page;
}
