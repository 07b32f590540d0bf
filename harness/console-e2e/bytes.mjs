// Bytes on the wire per open console tab: opens the console in headless Chromium and counts
// what the page receives (headers and bodies as they crossed the wire, compressed where
// they were), by request kind, over a window after the page has loaded.
//
//   node bytes.mjs SERVER_URL [--instances N] [--seconds S] [--churn PER_SECOND]
//
// With --instances it first registers N instances in N/25 applications (Eureka JSON, as a
// Java client would); with --churn it changes one instance's status override that many times
// a second during the window (each change is a registry change the page must show). Prints
// one JSON object: the initial load, the window's bytes by kind and the rate per minute.
// Works against any version of the console (it only opens the page and counts).

import { createRequire } from "node:module";
import path from "node:path";

const args = process.argv.slice(2);
const server = args[0];
if (!server) {
  console.error("usage: node bytes.mjs SERVER_URL [--instances N] [--seconds S] [--churn PER_SECOND]");
  process.exit(2);
}
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const instances = flag("instances", 0);
const seconds = flag("seconds", 60);
const churn = flag("churn", 0);
const base = server.replace(/\/+$/, "");
const modules = process.env.CONSOLE_E2E_MODULES;
const require = createRequire(modules ? path.join(modules, "..", "index.js") : import.meta.url);
const { chromium } = require("playwright-core");

async function register(n) {
  const perApp = 25;
  const batch = [];
  for (let i = 0; i < n; i++) {
    const app = `APP-${String(Math.floor(i / perApp)).padStart(4, "0")}`;
    const id = `host-${i}.example.internal:${app.toLowerCase()}:${8000 + (i % 1000)}`;
    const body = {
      instance: {
        instanceId: id, hostName: `host-${i}.example.internal`, app, ipAddr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        status: "UP", port: { $: 8000 + (i % 1000), "@enabled": "true" }, vipAddress: app.toLowerCase(),
        dataCenterInfo: { "@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", name: "MyOwn" },
        metadata: { zone: `zone-${i % 3}`, version: `1.${i % 7}.0` },
        statusPageUrl: `http://host-${i}.example.internal:${8000 + (i % 1000)}/actuator/info`,
        healthCheckUrl: `http://host-${i}.example.internal:${8000 + (i % 1000)}/actuator/health`,
      },
    };
    batch.push(fetch(`${base}/eureka/apps/${app}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }));
    if (batch.length === 50) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  return { app: "APP-0000", id: `host-0.example.internal:app-0000:8000` };
}

const kind = (url) => {
  const p = new URL(url).pathname;
  if (p.includes("/watch")) return "stream";
  if (p.includes("/api/console/summary")) return "summary";
  if (p.includes("/api/console")) return "console-document";
  if (/\/eureka\/apps\/?$/.test(p)) return "registry";
  if (p.includes("/assets/")) return "assets";
  return "other";
};

const target = instances ? await register(instances) : null;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox", "--headless", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const cdp = await page.context().newCDPSession(page);
await cdp.send("Network.enable");
const requests = new Map(); // requestId → { kind, streamed, finished }
let counting = null; // null: initial load; else the window's totals
const load = {};
cdp.on("Network.requestWillBeSent", (e) => requests.set(e.requestId, { kind: kind(e.request.url), streamed: 0, finished: null, window: counting !== null }));
cdp.on("Network.dataReceived", (e) => {
  const r = requests.get(e.requestId);
  if (r) r.streamed += e.encodedDataLength;
});
cdp.on("Network.loadingFinished", (e) => {
  const r = requests.get(e.requestId);
  if (r) r.finished = e.encodedDataLength;
});

await page.goto(`${base}/`);
await page.waitForTimeout(8000); // the first registry read, summary and stream are in place
const snapshot = () => {
  const out = {};
  for (const r of requests.values()) out[r.kind] = (out[r.kind] || 0) + (r.finished ?? r.streamed);
  return out;
};
Object.assign(load, snapshot());
const before = new Map([...requests].map(([id, r]) => [id, r.finished ?? r.streamed]));
counting = {};
let changes = 0;
const end = Date.now() + seconds * 1000;
while (Date.now() < end) {
  if (churn && target) {
    const value = changes % 2 ? "UP" : "OUT_OF_SERVICE";
    await fetch(`${base}/eureka/apps/${target.app}/${encodeURIComponent(target.id)}/status?value=${value}`, { method: "PUT" });
    changes += 1;
    await new Promise((r) => setTimeout(r, 1000 / churn));
  } else {
    await new Promise((r) => setTimeout(r, 500));
  }
}
const window = {};
let requestsInWindow = 0;
for (const [id, r] of requests) {
  const now = r.finished ?? r.streamed;
  const bytes = now - (before.get(id) || 0);
  if (bytes > 0 || r.window) {
    window[r.kind] = (window[r.kind] || 0) + bytes;
    if (r.window) requestsInWindow += 1;
  }
}
const total = Object.values(window).reduce((a, b) => a + b, 0);
console.log(JSON.stringify({
  server: base, instances, seconds, changesPerSecond: churn, changes,
  initialLoadBytes: load, windowBytes: window, requestsInWindow,
  bytesPerMinute: Math.round(total * 60 / seconds),
}));
await browser.close();
