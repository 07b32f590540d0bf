// Unit tests of the console's pure modules (no DOM): node's own test runner, no dependency.
//
//   node --test harness/console-e2e/unit.test.mjs
//
// Run by crates/testkit/tests/console_browser.rs (feature `browser`), so CI runs them with
// the browser test.

import { test } from "node:test";
import assert from "node:assert/strict";

import { address, ago, isHttp, naturalCompare, span, until } from "../../crates/server/assets/console/format.js";
import {
  Mirror, isProblem, key, matches, normalize, parseView, renewLevel, sortApps, sortInstances, totals, viewUrl,
} from "../../crates/server/assets/console/model.js";

const raw = (app, id, status, extra = {}) => ({
  instanceId: id, app, hostName: `${id}.local`, ipAddr: "10.0.0.1", status,
  overriddenStatus: "UNKNOWN", port: { $: 8080, "@enabled": "true" }, securePort: { $: 443, "@enabled": "false" },
  leaseInfo: { registrationTimestamp: 1000, renewalIntervalInSecs: 30, durationInSecs: 90 },
  metadata: { zone: "a", "@class": "java.util.Collections$EmptyMap", version: "1.2" },
  ...extra,
});

test("durations and times read like a person says them", () => {
  assert.equal(span(42_000), "42 s");
  assert.equal(span(5 * 60_000), "5 min");
  assert.equal(span(200 * 60_000), "3 h 20 min");
  assert.equal(ago(0, 5), "never");
  assert.equal(ago(1_000, 13_000), "12 s ago");
  assert.equal(until(100_000, 20_000), "in 80 s");
  assert.equal(until(0, 180_000).startsWith("expired 3 min"), true);
});

test("natural order puts orders-2 before orders-10", () => {
  const ids = ["orders-10", "orders-2", "Orders-1", "orders-11"];
  assert.deepEqual(ids.sort(naturalCompare), ["Orders-1", "orders-2", "orders-10", "orders-11"]);
});

test("an instance is normalised from Eureka JSON; only http links pass", () => {
  const i = normalize(raw("ORDERS", "o1", "UP", { overriddenStatus: "OUT_OF_SERVICE", statusPageUrl: "javascript:alert(1)" }));
  assert.equal(i.port, 8080);
  assert.equal(i.securePort, null);
  assert.equal(i.overriddenStatus, "OUT_OF_SERVICE");
  assert.equal(i.version, "1.2");
  assert.deepEqual(Object.keys(i.metadata), ["zone", "version"]);
  assert.equal(address(i), "10.0.0.1:8080");
  assert.equal(isHttp(i.statusPageUrl), false);
  assert.equal(isHttp(" https://x/"), true);
  assert.equal(address({ ...i, ipAddr: "fe80::1" }), "[fe80::1]:8080");
});

test("the mirror follows snapshots and changes", () => {
  const m = new Mirror();
  m.replace({ applications: { application: [{ name: "ORDERS", instance: [raw("ORDERS", "o1", "UP"), raw("ORDERS", "o2", "DOWN")] }] } }, 7);
  assert.equal(m.version, 7);
  m.apply({ action: "ADDED", app: "BILLING", version: 8, instance: raw("BILLING", "b1", "STARTING") });
  m.apply({ action: "MODIFIED", app: "ORDERS", version: 9, instance: raw("ORDERS", "o2", "UP") });
  m.apply({ action: "DELETED", app: "BILLING", version: 10, instance: raw("BILLING", "b1", "STARTING") });
  assert.equal(m.version, 10);
  assert.deepEqual([...m.apps.keys()], ["ORDERS"], "an emptied application goes");
  assert.equal(m.instance("ORDERS", "o2").status, "UP");
  const t = totals(m, { ORDERS: 1 });
  assert.deepEqual([t.instances, t.applications, t.byStatus.UP, t.byStatus.DOWN, t.expired], [2, 1, 2, 0, 1]);
});

test("filters: not UP includes expired leases; text finds metadata", () => {
  const up = normalize(raw("A", "a1", "UP"));
  const down = normalize(raw("A", "a2", "DOWN"));
  const expired = new Set([key("A", "a1")]);
  assert.equal(matches(up, { status: "NOT_UP" }, new Set()), false);
  assert.equal(matches(up, { status: "NOT_UP" }, expired), true);
  assert.equal(matches(up, { status: "EXPIRED" }, expired), true);
  assert.equal(matches(down, { status: "DOWN" }, expired), true);
  assert.equal(matches(down, { status: "UP" }, expired), false);
  assert.equal(matches(down, { q: "version=1.2" }, expired), true);
  assert.equal(isProblem(down, new Set()), true);
});

test("problems first, then natural names; newest first by age", () => {
  const list = [
    normalize(raw("A", "a10", "UP", { leaseInfo: { registrationTimestamp: 3 } })),
    normalize(raw("A", "a2", "UP", { leaseInfo: { registrationTimestamp: 1 } })),
    normalize(raw("A", "a3", "STARTING", { leaseInfo: { registrationTimestamp: 2 } })),
    normalize(raw("A", "a9", "DOWN", { leaseInfo: { registrationTimestamp: 0 } })),
  ];
  const ids = (l) => l.map((i) => i.id);
  assert.deepEqual(ids(sortInstances(list, "problems", new Set())), ["a9", "a3", "a2", "a10"]);
  assert.deepEqual(ids(sortInstances(list, "name", new Set())), ["a2", "a3", "a9", "a10"]);
  assert.deepEqual(ids(sortInstances(list, "age", new Set())), ["a10", "a3", "a2", "a9"]);
  const apps = [
    { name: "APP-10", instances: [list[0]] },
    { name: "APP-2", instances: [list[1]] },
    { name: "BILLING", instances: [list[2]] },
    { name: "ORDERS", instances: [list[3], list[0]] },
  ];
  assert.deepEqual(sortApps(apps, "problems", new Set()).map((a) => a.name), ["ORDERS", "BILLING", "APP-2", "APP-10"]);
  assert.deepEqual(sortApps(apps, "name", new Set()).map((a) => a.name), ["APP-2", "APP-10", "BILLING", "ORDERS"]);
});

test("a view round-trips through its address, under the root and a prefix", () => {
  for (const base of ["", "/ops/console"]) {
    const views = [
      { page: "overview", app: null, id: null, status: "NOT_UP", q: "zone a", sort: "name" },
      { page: "app", app: "ORDERS", id: null, status: "", q: "", sort: "problems" },
      { page: "instance", app: "ORDERS", id: "web-1:orders:8080/x", status: "", q: "", sort: "problems" },
    ];
    for (const v of views) {
      const url = new URL(viewUrl(v, base), "http://h");
      assert.deepEqual(parseView(url.pathname, url.search, base), v, `${base} ${url}`);
    }
  }
  assert.equal(viewUrl({ page: "overview", status: "", q: "", sort: "problems" }, ""), "/");
  assert.equal(parseView("/apps/orders", "?sort=bogus", "").sort, "problems");
});

test("renewals against the threshold", () => {
  assert.equal(renewLevel({ renewPercent: null }), "unknown");
  assert.equal(renewLevel({ renewPercent: 140 }), "ok");
  assert.equal(renewLevel({ renewPercent: 105 }), "warn");
  assert.equal(renewLevel({ renewPercent: 100 }), "bad");
  assert.equal(renewLevel({ renewPercent: 150, selfPreservationActive: true }), "bad");
});

test("a health check's mark reads as one in the events, with its reason", async () => {
  // overview.js only touches the DOM when it renders, so node can import its helpers.
  const { eventLabel, whoAndWhy } = await import("../../crates/server/assets/console/overview.js");
  const down = { kind: "MARKED_DOWN", status: null, reason: "health check: HTTP 503", peer: false };
  assert.equal(eventLabel(down), "marked DOWN by a health check");
  assert.equal(whoAndWhy(down), "health check: HTTP 503");
  assert.equal(eventLabel({ kind: "MARKED_UP", status: null }), "health check passes again");
});
