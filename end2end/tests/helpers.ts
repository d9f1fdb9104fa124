// What several end-to-end stories share: a fresh `qline` server (the release build that
// `make run` serves) and database for every test, a watch on every page for errors,
// fresh phone numbers, waiting for hydration, joining the demo clinic, and signing in as
// its staff.
import { test as base, expect, type Browser, type BrowserContext, type CDPSession, type Locator, type Page } from "@playwright/test";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, randomUUID, verify, type ECDH } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";

/** The UltraMsg instance and token the stand-in provider accepts. */
export const standIn = { instance: "instance1150", token: "ultramsg-good-token" };

/** `{to, body}` of every message the stand-in UltraMsg took, in order. */
export const ultramsgSent: { to: string; body: string }[] = [];

let standInUrl: Promise<string> | undefined;

/**
 * A stand-in for UltraMsg's API on loopback, shared by the test servers: the instance
 * status call answers "authenticated" for the good token and UltraMsg's error otherwise;
 * sending with the good token is recorded in `ultramsgSent`.
 */
function startStandIn(): Promise<string> {
  standInUrl ??= new Promise((resolve) => {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      res.setHeader("content-type", "application/json");
      if (url.pathname === `/${standIn.instance}/messages/chat` && req.method === "POST") {
        let raw = "";
        req.on("data", (chunk) => (raw += chunk));
        req.on("end", () => {
          const form = new URLSearchParams(raw);
          if (form.get("token") !== standIn.token) {
            res.end(JSON.stringify({ error: "Wrong token. Please provide token as a GET parameter." }));
            return;
          }
          ultramsgSent.push({ to: form.get("to") ?? "", body: form.get("body") ?? "" });
          res.end(JSON.stringify({ sent: "true", message: "ok", id: ultramsgSent.length }));
        });
      } else if (url.pathname === `/${standIn.instance}/instance/status` && url.searchParams.get("token") === standIn.token) {
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

/** The server binary the stories run: the release build (`make release`), as `make run` serves it. */
export const serverBinary = process.env.QLINE_BINARY ?? "./target/release/qline";

/** Lets a story say which browser errors it expects (a network cut, a refusal's status). */
export type BrowserErrors = {
  /** Errors matching `pattern` are part of the story, not failures. */
  expect(pattern: RegExp): void;
  /** Every page error and console error seen so far, in order. */
  seen(): string[];
};

/**
 * The console error Chromium logs when the server refuses a request to `path` with
 * `status` (a refusal a story provokes on purpose: a wrong password, a queue that moved).
 */
export function refusal(status: number, path: string): RegExp {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`status of ${status} \\([^)]*\\) \\(http://[\\d.:]+${escaped}\\)$`);
}

/**
 * Every test gets its own server on a free port with a new SQLite database seeded with
 * the demo clinic, so no test sees another's patients. `QLINE_BASE_URL` points the
 * tests at a running server instead. The demo clinic starts without past days unless a
 * test asks for them (`test.use({ demoHistoryDays: 28 })`).
 *
 * Every page of every browser context a test opens is watched: an uncaught page error
 * or a console error fails the test (a bundle that does not hydrate throws on every
 * page) unless the story expected it with `browserErrors.expect(/…/)`. The contexts a
 * story opens are closed when it ends.
 */
export const test = base.extend<{ baseURL: string; demoHistoryDays: number; browserErrors: BrowserErrors }>({
  browserErrors: [
    async ({ browser, context }, use) => {
      const seen: string[] = [];
      const expected: RegExp[] = [];
      const watch = (watched: BrowserContext) => {
        watched.on("weberror", (e) => seen.push(`page error: ${e.error().message} (${e.page()?.url() ?? "no page"})`));
        watched.on("console", (m) => {
          if (m.type() === "error") seen.push(`console error: ${m.text()} (${m.location().url || m.page()?.url()})`);
        });
      };
      watch(context);
      const made: BrowserContext[] = [];
      const newContext = browser.newContext;
      browser.newContext = async (...args: Parameters<Browser["newContext"]>) => {
        const context = await newContext.apply(browser, args);
        watch(context);
        made.push(context);
        return context;
      };
      await use({ expect: (pattern) => expected.push(pattern), seen: () => [...seen] });
      browser.newContext = newContext;
      const unexpected = seen.filter((e) => !expected.some((p) => p.test(e)));
      // The browser outlives the story: a context left open would go on polling (the
      // desk every 1.5 s) through every later story and slow them all down.
      await Promise.all(made.map((context) => context.close()));
      expect(unexpected, "page errors and console errors in this story").toEqual([]);
    },
    { auto: true },
  ],
  demoHistoryDays: [0, { option: true }],
  baseURL: async ({ demoHistoryDays }, use) => {
    if (process.env.QLINE_BASE_URL) {
      await use(process.env.QLINE_BASE_URL);
      return;
    }
    const dir = mkdtempSync(joinPath(tmpdir(), "qline-e2e-"));
    const ultramsg = await startStandIn();
    const server = spawn(serverBinary, ["serve", "--addr", "127.0.0.1:0", "--seed-demo"], {
      cwd: "..",
      env: {
        ...process.env,
        QLINE_DATABASE_URL: `sqlite://${dir}/qline.db`,
        QLINE_DEMO_PASSWORD: demoPassword,
        QLINE_DEMO_HISTORY_DAYS: String(demoHistoryDays),
        QLINE_SECRET_KEY_FILE: `${dir}/secret.key`,
        QLINE_VAPID_KEY_FILE: `${dir}/vapid.json`,
        QLINE_PUSH_SERVICES: "127.0.0.1",
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

/** What the stand-in push service took for one subscription: the decrypted payload and
 * whether the VAPID signature held for this push service's origin. */
export type ReceivedPush = { payload: { title: string; body: string; url: string; tag: string }; vapidValid: boolean; subject: string };

/** A browser's push subscription on the stand-in push service, with its private key. */
export type StandInSubscription = { id: string; endpoint: string; p256dh: string; auth: string };

const b64url = (buf: Buffer) => buf.toString("base64url");

/** RFC 5869 HKDF with SHA-256, one block. */
function hkdf(salt: Buffer, ikm: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac("sha256", salt).update(ikm).digest();
  return createHmac("sha256", prk).update(Buffer.concat([info, Buffer.from([1])])).digest().subarray(0, length);
}

/** Decrypts an aes128gcm push body (RFC 8188, RFC 8291) as the browser would. */
function decryptPush(body: Buffer, ecdh: ECDH, auth: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const idlen = body[20];
  const senderKey = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  const shared = ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), ecdh.getPublicKey(), senderKey]);
  const ikm = hkdf(auth, shared, keyInfo, 32);
  const cek = hkdf(salt, ikm, Buffer.from("Content-Encoding: aes128gcm\0"), 16);
  const nonce = hkdf(salt, ikm, Buffer.from("Content-Encoding: nonce\0"), 12);
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Error("not the last record");
  return plain.subarray(0, end);
}

/** Checks `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292) for this audience. */
function vapid(header: string, audience: string): { valid: boolean; subject: string } {
  const found = /^vapid t=([^,]+),\s*k=(.+)$/.exec(header.trim());
  if (!found) return { valid: false, subject: "" };
  const [h, c, sig] = found[1].split(".");
  const key = Buffer.from(found[2], "base64url");
  const publicKey = createPublicKey({
    key: { kty: "EC", crv: "P-256", x: b64url(key.subarray(1, 33)), y: b64url(key.subarray(33, 65)) },
    format: "jwk",
  });
  const signed = verify("sha256", Buffer.from(`${h}.${c}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(sig, "base64url"));
  const claims = JSON.parse(Buffer.from(c, "base64url").toString());
  return { valid: signed && claims.aud === audience && claims.exp * 1000 > Date.now(), subject: claims.sub };
}

/**
 * A stand-in web push service on loopback (Debian's Chromium has no push service of its
 * own): each subscription it hands out has a real P-256 key pair, and every push it takes
 * is checked (VAPID) and decrypted as the browser would.
 */
export async function startPushService() {
  const keys = new Map<string, { ecdh: ECDH; auth: Buffer }>();
  const received = new Map<string, ReceivedPush[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const id = (req.url ?? "").replace(/^\/push\//, "");
      const key = keys.get(id);
      if (!key) {
        res.statusCode = 410;
        res.end("gone");
        return;
      }
      try {
        const check = vapid(String(req.headers.authorization ?? ""), origin);
        const payload = JSON.parse(decryptPush(Buffer.concat(chunks), key.ecdh, key.auth).toString());
        received.set(id, [...(received.get(id) ?? []), { payload, vapidValid: check.valid, subject: check.subject }]);
        res.statusCode = 201;
        res.end();
      } catch (e) {
        res.statusCode = 400;
        res.end(String(e));
      }
    });
  });
  const origin = await new Promise<string>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
    });
  });
  server.unref();
  return {
    subscription(): StandInSubscription {
      const id = randomUUID();
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const auth = randomBytes(16);
      keys.set(id, { ecdh, auth });
      return { id, endpoint: `${origin}/push/${id}`, p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) };
    },
    received: (id: string) => received.get(id) ?? [],
    close: () => server.close(),
  };
}

/**
 * Gives the page the stand-in's subscription where the browser's push service would
 * answer: `PushManager.subscribe` (which records the options it was called with) and
 * `getSubscription`. Everything else — the permission prompt, the service worker — is
 * Chromium's own.
 */
export async function usePushService(page: Page, subscription: StandInSubscription) {
  await page.context().grantPermissions(["notifications"]);
  await page.addInitScript((s) => {
    let current: unknown = null;
    const made = {
      endpoint: s.endpoint,
      expirationTime: null,
      toJSON: () => ({ endpoint: s.endpoint, expirationTime: null, keys: { p256dh: s.p256dh, auth: s.auth } }),
      unsubscribe: async () => true,
    };
    PushManager.prototype.subscribe = async function (options?: PushSubscriptionOptionsInit) {
      const key = options?.applicationServerKey as Uint8Array | undefined;
      (window as unknown as { qlineServerKeyLength: number }).qlineServerKeyLength = key ? key.byteLength : 0;
      current = made;
      return made as unknown as PushSubscription;
    };
    PushManager.prototype.getSubscription = async function () {
      return current as PushSubscription | null;
    };
  }, subscription);
}

/** Bytes on the wire per request of one page load, as Chromium counts them (headers and body as sent, compressed). */
export async function transfers(page: Page): Promise<{ session: CDPSession; done: () => Map<string, { bytes: number; cached: boolean }> }> {
  const session = await page.context().newCDPSession(page);
  await session.send("Network.enable");
  const urls = new Map<string, string>();
  const seen = new Map<string, { bytes: number; cached: boolean }>();
  session.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
  session.on("Network.requestServedFromCache", (e) => seen.set(urls.get(e.requestId) ?? e.requestId, { bytes: 0, cached: true }));
  session.on("Network.responseReceived", (e) => {
    if (e.response.fromDiskCache || e.response.fromPrefetchCache) seen.set(e.response.url, { bytes: 0, cached: true });
  });
  session.on("Network.loadingFinished", (e) => {
    const url = urls.get(e.requestId) ?? e.requestId;
    const earlier = seen.get(url);
    if (!earlier?.cached) seen.set(url, { bytes: e.encodedDataLength, cached: false });
  });
  return { session, done: () => seen };
}

/** The owner, on `/clinic`, gives `queue` the same spans every weekday and the closed dates. */
export async function setOpeningHours(owner: Page, queue: string, spans: string, closedOn: string): Promise<Locator> {
  const row = owner.getByRole("listitem", { name: queue, exact: true });
  await openHours(row);
  for (const day of ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]) {
    await row.getByLabel(day).fill(spans);
  }
  await row.getByLabel("Closed on (YYYY-MM-DD, commas)").fill(closedOn);
  await row.getByRole("button", { name: "Save hours" }).click();
  await expect(row.getByText("Opening hours", { exact: true })).toBeVisible();
  return row;
}

/** Today's date on the demo clinic's clock (Kolkata), as `YYYY-MM-DD`. */
export function demoToday(): string {
  return new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Kolkata" });
}

/** Opens a queue row's "Opening hours" fields, if they are not open already. */
export async function openHours(row: Locator): Promise<void> {
  const details = row.locator("details.queue-hours");
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) {
    await details.locator("summary").click();
  }
  await expect(details).toHaveAttribute("open", "");
}
