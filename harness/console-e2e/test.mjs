// End-to-end test of the registry console in a real headless Chromium.
//
//   node test.mjs SERVER_URL OUTDIR
//
// SERVER_URL is the server's root (http://127.0.0.1:PORT); the console is expected at `/`.
// The caller starts the server and registers ORDERS/o1 and BILLING/b1 (b1 with a hostile
// metadata value); this script registers the rest through the Eureka API. It drives the
// server's owner through a control channel: a line `@@control CMD` on stdout is answered
// with a line `ok` on stdin once done (`self-preservation`: count a renewal minute now, so
// self-preservation engages; `stop`: stop the server).
//
// Each step names what it checks; the first failure ends the run with exit code 1:
// summary counts, "not UP" filter and sort order, the address keeping the view across a
// reload and back/forward, the instance page, the dialog with a reason that ends up in
// Recent events and the instance's history, Undo, "Back in service" removing the override,
// live updates from the change stream without re-reading the registry, no horizontal
// overflow at 390 px, the self-preservation state, the connection-lost state, keyboard use,
// and no registered value running as script (no page or console errors, CSP included).
//
// Screenshots (OUTDIR/screenshots/): overview, instance, self-preservation, each at
// 1400 and 390 px wide.
// Chromium: CHROMIUM (default /usr/bin/chromium). playwright-core: from CONSOLE_E2E_MODULES
// (a node_modules folder, as scripts/prepare-browser installs it) or next to this file.

import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";

const [server, outdir] = process.argv.slice(2);
if (!server || !outdir) {
  console.error("usage: node test.mjs SERVER_URL OUTDIR");
  process.exit(2);
}
const base = server.replace(/\/+$/, "");
const modules = process.env.CONSOLE_E2E_MODULES;
const require = createRequire(modules ? path.join(modules, "..", "index.js") : import.meta.url);
const { chromium } = require("playwright-core");

const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const WIDE = { width: 1400, height: 900 };
const PHONE = { width: 390, height: 844 };
const started = Date.now();
let step = "launch";
const log = (msg) => console.log(`[console-e2e +${Date.now() - started}ms] ${msg}`);
const fail = (msg) => { throw new Error(`${step}: ${msg}`); };

const replies = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
/** Asks the test's owner to do something to the server, and waits until it is done. */
async function control(command) {
  console.log(`@@control ${command}`);
  const { value } = await replies.next();
  if (value !== "ok") fail(`control ${command} answered ${value}`);
}

async function eureka(method, p, body) {
  return fetch(`${base}/eureka/${p}`, {
    method,
    headers: { Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
}

async function instanceNow(app, id) {
  const r = await eureka("GET", `apps/${app}/${encodeURIComponent(id)}`);
  return r.ok ? (await r.json()).instance : null;
}

function instance(app, id, port, status, extra = {}) {
  return {
    instance: {
      instanceId: id, hostName: "127.0.0.1", app, ipAddr: "127.0.0.1", status,
      port: { $: port, "@enabled": "true" }, vipAddress: app.toLowerCase(),
      dataCenterInfo: { "@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", name: "MyOwn" },
      metadata: { zone: "zone-b", version: "2.0.1", release: "canary-e2e" },
      leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: extra.duration || 90 },
      statusPageUrl: `http://127.0.0.1:${port}/actuator/info`,
      healthCheckUrl: `http://127.0.0.1:${port}/actuator/health`,
    },
  };
}

async function register(app, id, port, status, extra) {
  const r = await eureka("POST", `apps/${app}`, instance(app, id, port, status, extra));
  if (r.status !== 204) fail(`registering ${app}/${id} answered ${r.status}`);
}

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const shots = path.join(outdir, "screenshots");
const userDir = mkdtempSync(path.join(tmpdir(), "console-e2e-"));
mkdirSync(shots, { recursive: true });
const problems = [];
let context;
try {
  context = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    viewport: WIDE,
    timeout: 30000,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  page.setDefaultTimeout(6000);
  const requests = [];
  page.on("request", (r) => requests.push(new URL(r.url()).pathname + new URL(r.url()).search));
  const ids = () => page.locator("tr.inst:visible").evaluateAll((rows) => rows.map((r) => r.dataset.id));
  const card = async (name) => (await page.locator(`[data-card="${name}"] .card-value`).textContent()).trim();
  const noOverflow = async (where) => {
    const extra = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (extra > 0) fail(`${where}: the page is ${extra} px wider than the screen`);
  };
  const shoot = async (name) => {
    if (await page.locator("#toast").isVisible()) await page.locator("#toast-close").click();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  };

  step = "fixtures";
  await register("ORDERS", "o2", 8082, "UP");
  await register("ORDERS", "o10", 8090, "DOWN");
  await register("BILLING", "b2", 9092, "STARTING");
  await register("SHIPPING", "s1", 7001, "UP", { duration: 1 });

  step = "summary counts";
  await page.goto(`${base}/`);
  await page.locator('tr.app-row[data-app="ORDERS"]').waitFor();
  await page.evaluate(() => { window.__noReload = true; });
  await waitFor("the summary cards", async () => (await card("total")) === "6", 4000);
  const counts = { UP: await card("UP"), DOWN: await card("DOWN"), STARTING: await card("STARTING"), OUT_OF_SERVICE: await card("OUT_OF_SERVICE"), UNKNOWN: await card("UNKNOWN") };
  if (JSON.stringify(counts) !== JSON.stringify({ UP: "4", DOWN: "1", STARTING: "1", OUT_OF_SERVICE: "0", UNKNOWN: "0" })) fail(`cards say ${JSON.stringify(counts)}`);
  await waitFor("SHIPPING/s1 counted as expired", async () => (await card("expired")) === "1", 8000);
  if (!(await page.locator("header").textContent()).includes(`:${new URL(base).port}`)) fail("the header does not name this node's port");
  if (!(await page.title()).includes(`:${new URL(base).port}`)) fail(`the title does not name the node: ${await page.title()}`);
  log(`cards: ${JSON.stringify(counts)}, 1 expired`);

  step = "not UP filter and problems first";
  await page.locator("#f-status").selectOption("NOT_UP");
  await page.waitForURL(/\?status=NOT_UP$/);
  await waitFor("only the instances that need attention", async () => JSON.stringify(await ids()) === JSON.stringify(["o10", "b2", "s1"]), 3000);
  const order = await page.locator("tr.app-row:visible").evaluateAll((rows) => rows.map((r) => r.dataset.app));
  if (order.join(",") !== "ORDERS,BILLING,SHIPPING") fail(`problems first puts the apps as ${order}`);
  log("not UP: o10 (DOWN), b2 (STARTING), s1 (lease expired); ORDERS, BILLING, SHIPPING");

  step = "reload and back/forward keep the view";
  await page.reload();
  await page.locator('tr.inst[data-id="o10"]').waitFor();
  if ((await page.locator("#f-status").inputValue()) !== "NOT_UP") fail("the reload lost the filter");
  if (JSON.stringify(await ids()) !== JSON.stringify(["o10", "b2", "s1"])) fail(`after reload: ${await ids()}`);
  await page.locator("#f-status").selectOption("DOWN");
  await page.waitForURL(/\?status=DOWN$/);
  await waitFor("DOWN only", async () => JSON.stringify(await ids()) === JSON.stringify(["o10"]), 3000);
  await page.goBack();
  await page.waitForURL(/\?status=NOT_UP$/);
  await waitFor("back to not UP", async () => (await ids()).length === 3, 3000);
  await page.goForward();
  await page.waitForURL(/\?status=DOWN$/);
  await waitFor("forward to DOWN", async () => JSON.stringify(await ids()) === JSON.stringify(["o10"]), 3000);
  log("?status= survives a reload, back and forward");

  step = "natural order";
  await page.goto(`${base}/apps/ORDERS?sort=name`);
  await page.locator('tr.inst[data-id="o10"]').waitFor();
  if ((await ids()).join(",") !== "o1,o2,o10") fail(`name order in ORDERS: ${await ids()}`);
  await page.evaluate(() => { window.__noReload = true; });

  step = "live updates from the change stream";
  requests.length = 0;
  const t0 = Date.now();
  await register("ORDERS", "o3", 8083, "UP");
  await page.locator('tr.inst[data-id="o3"]').waitFor({ timeout: 2000 });
  const appeared = Date.now() - t0;
  const rereads = requests.filter((r) => /\/eureka\/apps\/?(\?|$)/.test(r) || /\/api\/console(\?|$)/.test(r));
  if (rereads.length) fail(`the page re-read the registry: ${rereads}`);
  if (!(await page.evaluate(() => window.__noReload === true))) fail("the page reloaded");
  log(`ORDERS/o3 appeared after ${appeared} ms from the change stream (no re-read)`);

  step = "instance page";
  await page.locator('tr.inst[data-id="o1"] a.inst-link').click();
  await page.waitForURL(`${base}/apps/ORDERS/o1`);
  await page.locator("#ih-title", { hasText: "o1" }).waitFor();
  await waitFor("the live lease", async () => (await page.locator("#ih-lease").textContent()).includes("Lease expires"), 4000);
  const where = await page.locator("#ih-where").textContent();
  if (!where.includes("127.0.0.1:8081")) fail(`the address is missing: ${where}`);
  if (!(await page.locator("#ih-metadata").textContent()).includes("zone-a")) fail("metadata missing");
  await waitFor("its history", async () => (await page.locator("#ih-history").textContent()).includes("registered"), 4000);
  if (!(await page.title()).startsWith("o1 ·")) fail(`title ${await page.title()}`);
  await page.reload();
  await page.locator("#ih-title", { hasText: "o1" }).waitFor();
  await page.evaluate(() => { window.__noReload = true; });
  await shoot("instance-1400");
  log("/apps/ORDERS/o1 shows address, metadata, lease and history, and survives a reload");

  step = "dialog with a reason";
  await page.getByRole("button", { name: "Take out of service: ORDERS / o1" }).click();
  const dialog = page.locator("dialog#confirm");
  await dialog.waitFor();
  const asked = await dialog.textContent();
  if (!asked.includes("ORDERS / o1") || !asked.includes("127.0.0.1:8081") || !asked.includes("clients stop sending it traffic")) fail(`the dialog says: ${asked}`);
  await page.locator("#confirm-reason").fill("e2e maintenance window");
  await page.locator("#confirm-ok").click();
  await waitFor("ORDERS/o1 OUT_OF_SERVICE in the registry", async () => (await instanceNow("ORDERS", "o1"))?.status === "OUT_OF_SERVICE", 3000);
  await waitFor("the reason in the history", async () => (await page.locator("#ih-history").textContent()).includes("e2e maintenance window"), 7000);
  log("taken out of service through the dialog; the reason is in the instance's history");

  step = "undo";
  await page.locator("#toast-undo").click();
  await waitFor("o1 back to UP without an override", async () => {
    const i = await instanceNow("ORDERS", "o1");
    return i && i.status === "UP" && i.overriddenStatus === "UNKNOWN";
  }, 3000);
  log("Undo restored UP and removed the override");

  step = "back in service removes the override";
  await page.getByRole("button", { name: "Take out of service: ORDERS / o1" }).click();
  await page.locator("#confirm-ok").click();
  await waitFor("OUT_OF_SERVICE again", async () => (await instanceNow("ORDERS", "o1"))?.overriddenStatus === "OUT_OF_SERVICE", 3000);
  await page.getByRole("button", { name: "Back in service: ORDERS / o1" }).click();
  await page.locator("#confirm-ok").click();
  await waitFor("the override removed, not an UP override", async () => {
    const i = await instanceNow("ORDERS", "o1");
    return i && i.overriddenStatus === "UNKNOWN" && i.status === "UNKNOWN";
  }, 3000);
  log("Back in service: override removed (status UNKNOWN until the instance's next heartbeat)");

  step = "recent events";
  await page.locator("a.home").click();
  await page.waitForURL(`${base}/`);
  await waitFor("the override with its reason in Recent events", async () => {
    const text = await page.locator("#events").textContent();
    return text.includes("override set OUT OF SERVICE") && text.includes("e2e maintenance window") && text.includes("override removed");
  }, 7000);
  log("Recent events list the overrides with the reason");

  step = "keyboard and hostile values";
  await page.locator('tr.app-row[data-app="BILLING"] button.expander').focus();
  await page.keyboard.press("Enter");
  await page.locator('tr.detail[data-app="BILLING"] tr.inst[data-id="b1"]').waitFor();
  await page.locator('tr.inst[data-id="b1"] a.inst-link').click();
  await page.locator("#ih-metadata", { hasText: "<img" }).waitFor();
  if (await page.evaluate(() => window.__xss)) fail("a registered value ran as script");
  await page.goBack();

  step = "overview screenshot and phone layout";
  for (const app of ["ORDERS", "SHIPPING"]) {
    const toggle = page.locator(`tr.app-row[data-app="${app}"] button.expander`);
    if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
  }
  await page.locator('tr.inst[data-id="o10"]').waitFor();
  await page.waitForTimeout(300);
  await shoot("overview-1400");
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(300);
  await noOverflow("overview at 390 px");
  await shoot("overview-390");
  await page.goto(`${base}/apps/ORDERS/o10`);
  await page.locator("#ih-title", { hasText: "o10" }).waitFor();
  await waitFor("the lease", async () => (await page.locator("#ih-lease").textContent()).includes("Lease expires"), 4000);
  await noOverflow("instance page at 390 px");
  await shoot("instance-390");
  await page.getByRole("button", { name: "Cancel lease: ORDERS / o10" }).click();
  await noOverflow("dialog at 390 px");
  await page.keyboard.press("Escape");
  if ((await instanceNow("ORDERS", "o10")) === null) fail("Escape cancelled the lease");
  log("no horizontal overflow at 390 px (overview, instance page, dialog)");

  step = "self-preservation";
  await control("self-preservation");
  await page.setViewportSize(WIDE);
  await page.goto(`${base}/?status=NOT_UP`);
  await page.locator(".banner.warn", { hasText: "Self-preservation is active" }).waitFor({ timeout: 8000 });
  const banner = await page.locator(".banner.warn").textContent();
  if (!banner.includes("SHIPPING / s1") || !banner.includes("What to do")) fail(`the banner says: ${banner}`);
  if ((await card("renewals")) !== "0 %") fail(`renewals card: ${await card("renewals")}`);
  await shoot("self-preservation-1400");
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(300);
  await noOverflow("self-preservation at 390 px");
  await shoot("self-preservation-390");
  log("self-preservation banner names the kept lease and what to do; renewals 0 % of threshold");

  step = "connection lost";
  const beforeStop = problems.length;
  await control("stop");
  await page.locator(".banner.bad", { hasText: "Connection to this node lost" }).waitFor({ timeout: 12000 });
  if (!(await page.evaluate(() => document.body.classList.contains("stale")))) fail("stale data is not greyed");
  if (!(await page.locator("#live-text").textContent()).includes("connection lost")) fail("the header still says live");
  log("connection lost: banner, greyed data, header says so");

  // Once the server is gone, the browser reports its refused reconnections: expected.
  const refused = (p) => p.includes("ERR_CONNECTION_REFUSED") || p.includes("Failed to load resource");
  const real = problems.filter((p, i) => !(i >= beforeStop && refused(p)));
  if (real.length) { step = "page health"; fail(real.join("; ")); }
  console.log(JSON.stringify({ ok: true, appearedMs: appeared, tookMs: Date.now() - started }));
} catch (e) {
  console.error(`[console-e2e] FAILED ${e.message}`);
  for (const p of problems) console.error(`[console-e2e] ${p}`);
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDir, { recursive: true, force: true });
  process.exit();
}
