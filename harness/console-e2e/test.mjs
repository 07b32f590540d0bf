// End-to-end test of the registry console in a real headless Chromium.
//
//   node test.mjs SERVER_URL OUTDIR
//
// SERVER_URL is the server's root (http://127.0.0.1:PORT); the console is expected at `/`.
// The caller starts the server and registers ORDERS/o1, ORDERS/o2, BILLING/b1 (b1 with a
// hostile metadata value) before running this. The script starts nothing but the browser:
//
// 1. the page shows the registered applications and instances;
// 2. an instance registered now appears within 2 s, without a reload;
// 3. "Take out of service" on ORDERS/o1 (confirm dialog accepted) changes the registry;
// 4. filtering by status shows only matching instances;
// 5. keyboard: Enter on an application's expander opens it;
// 6. nothing registered runs as script; no page errors or console errors (CSP included).
//
// Screenshots: OUTDIR/console.png (laptop) and OUTDIR/console-phone.png (phone width).
// Exit code 0 on success; 1 with a message naming the failed step otherwise.
// Chromium: CHROMIUM (default /usr/bin/chromium). playwright-core: from CONSOLE_E2E_MODULES
// (a node_modules folder, as scripts/prepare-browser installs it) or next to this file.

import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

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
const started = Date.now();
let step = "launch";
const log = (msg) => console.log(`[console-e2e +${Date.now() - started}ms] ${msg}`);
const fail = (msg) => { throw new Error(`${step}: ${msg}`); };

async function eureka(method, p, body) {
  const r = await fetch(`${base}/eureka/${p}`, {
    method,
    headers: { Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return r;
}

function instance(app, id, port) {
  return {
    instance: {
      instanceId: id, hostName: "127.0.0.1", app, ipAddr: "127.0.0.1", status: "UP",
      port: { $: port, "@enabled": "true" }, vipAddress: app.toLowerCase(),
      dataCenterInfo: { "@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", name: "MyOwn" },
      metadata: { zone: "zone-b", release: "canary-e2e" },
      statusPageUrl: `http://127.0.0.1:${port}/actuator/info`,
      healthCheckUrl: `http://127.0.0.1:${port}/actuator/health`,
    },
  };
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

const userDir = mkdtempSync(path.join(tmpdir(), "console-e2e-"));
mkdirSync(outdir, { recursive: true });
const problems = [];
let context;
try {
  context = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    viewport: { width: 1440, height: 1000 },
    timeout: 30000,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  page.setDefaultTimeout(5000);

  step = "load";
  await page.goto(`${base}/`);
  await page.locator('tr.app-row[data-app="ORDERS"]').waitFor();
  await page.locator('tr.app-row[data-app="BILLING"]').waitFor();
  await page.evaluate(() => { window.__noReload = true; });
  log("page shows ORDERS and BILLING");

  step = "expand";
  await page.locator('tr.app-row[data-app="ORDERS"] button.expander').click();
  for (const id of ["o1", "o2"]) await page.locator(`tr.detail[data-app="ORDERS"] tr.inst[data-id="${id}"]`).waitFor();
  log("ORDERS expands to o1 and o2");

  step = "keyboard";
  await page.locator('tr.app-row[data-app="BILLING"] button.expander').focus();
  await page.keyboard.press("Enter");
  await page.locator('tr.detail[data-app="BILLING"] tr.inst[data-id="b1"]').waitFor();
  if ((await page.locator('tr.app-row[data-app="BILLING"] button.expander').getAttribute("aria-expanded")) !== "true") {
    fail("aria-expanded is not true after Enter");
  }

  step = "hostile values stay text";
  const meta = await page.locator('tr.inst[data-id="b1"] td.meta').textContent();
  if (!meta.includes("<img")) fail(`metadata not shown literally: ${meta}`);
  if (await page.evaluate(() => window.__xss)) fail("a registered value ran as script");

  step = "live update";
  const t0 = Date.now();
  const reg = await eureka("POST", "apps/INVENTORY", instance("INVENTORY", "inv-1", 7070));
  if (reg.status !== 204) fail(`registering INVENTORY answered ${reg.status}`);
  await waitFor("INVENTORY in the page", () => page.locator('tr.app-row[data-app="INVENTORY"]').isVisible(), 2000);
  const appeared = Date.now() - t0;
  if (!(await page.evaluate(() => window.__noReload === true))) fail("the page reloaded");
  log(`a new instance appeared after ${appeared} ms without a reload`);

  step = "take out of service";
  page.once("dialog", (d) => {
    if (d.type() !== "confirm" || !d.message().includes("ORDERS / o1")) problems.push(`unexpected dialog: ${d.message()}`);
    d.accept();
  });
  await page.getByRole("button", { name: "Take out of service: ORDERS / o1" }).click();
  await waitFor("ORDERS/o1 OUT_OF_SERVICE in the registry", async () => {
    const r = await eureka("GET", "apps/ORDERS/o1");
    return r.ok && (await r.json()).instance.status === "OUT_OF_SERVICE";
  }, 3000);
  await waitFor("the badge to follow", async () =>
    (await page.locator('tr.inst[data-id="o1"] .badge').textContent()) === "OUT OF SERVICE", 3000);
  await page.getByRole("button", { name: "Put back in service: ORDERS / o1" }).waitFor();
  log("o1 taken out of service through the UI; the registry says OUT_OF_SERVICE");

  step = "filter by status";
  await page.locator("#f-status").selectOption("OUT_OF_SERVICE");
  const shown = await page.locator("tr.inst:visible").evaluateAll((rows) => rows.map((r) => r.dataset.id));
  if (shown.join(",") !== "o1") fail(`OUT_OF_SERVICE filter shows ${JSON.stringify(shown)}`);
  if (await page.locator('tr.app-row[data-app="BILLING"]').isVisible()) fail("BILLING is shown under OUT_OF_SERVICE");
  await page.locator("#f-status").selectOption("UP");
  const up = await page.locator("tr.inst:visible").evaluateAll((rows) => rows.map((r) => r.dataset.id).sort());
  if (up.join(",") !== "b1,inv-1,o2") fail(`UP filter shows ${JSON.stringify(up)}`);
  await page.locator("#f-status").selectOption("");
  await page.locator("#f-text").fill("canary-e2e");
  const text = await page.locator("tr.inst:visible").evaluateAll((rows) => rows.map((r) => r.dataset.id));
  if (text.join(",") !== "inv-1") fail(`text filter canary-e2e shows ${JSON.stringify(text)}`);
  await page.locator("#f-text").fill("");
  log("filters by status and text work");

  step = "screenshots";
  await page.locator('tr.app-row[data-app="INVENTORY"] button.expander').click();
  await page.waitForTimeout(1100); // one more poll, so the picture shows a settled page
  await page.screenshot({ path: path.join(outdir, "console.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(outdir, "console-phone.png"), fullPage: true });
  log(`screenshots in ${outdir}`);

  const real = problems.filter((p) => !p.includes("favicon"));
  if (real.length) { step = "page health"; fail(real.join("; ")); }
  console.log(JSON.stringify({ ok: true, appearedMs: appeared, tookMs: Date.now() - started }));
} catch (e) {
  console.error(`[console-e2e] FAILED ${e.message}`);
  for (const p of problems) console.error(`[console-e2e] ${p}`);
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDir, { recursive: true, force: true });
}
