// The registry as the page holds it, and what the page derives from it: counts, filters,
// orders and the address of a view. No DOM, so `node --test` runs it.

import { naturalCompare } from "./format.js";

/** Every status, in the order the page shows them. */
export const STATUSES = ["UP", "DOWN", "OUT_OF_SERVICE", "STARTING", "UNKNOWN"];
/** "Problems first": the lower, the sooner. */
const RANK = { DOWN: 0, OUT_OF_SERVICE: 1, STARTING: 2, UNKNOWN: 3, UP: 9 };
/** Metadata keys that name an instance's version, in order of preference. */
const VERSION_KEYS = ["version", "app.version", "app-version", "build.version", "build-version", "git.commit.id.abbrev"];

/** The key of an instance in maps and sets. */
export const key = (app, id) => `${app}\u0000${id}`;

const arrayOf = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const num = (v) => (v === undefined || v === null || v === "" ? null : Number(v) || null);

/** One Eureka JSON instance (`GET apps`, the change stream) in the page's shape. */
export function normalize(raw) {
  const port = (p) => (p && String(p["@enabled"]) === "true" ? Number(p.$) : null);
  const metadata = {};
  for (const [k, v] of Object.entries(raw.metadata || {})) if (k !== "@class") metadata[k] = String(v);
  const dcZone = raw.dataCenterInfo && raw.dataCenterInfo.metadata && raw.dataCenterInfo.metadata["availability-zone"];
  const lease = raw.leaseInfo || {};
  const versionKey = VERSION_KEYS.find((k) => metadata[k]);
  const overridden = raw.overriddenStatus || raw.overriddenstatus;
  return {
    id: raw.instanceId || raw.hostName,
    app: raw.app,
    hostName: raw.hostName || "",
    ipAddr: raw.ipAddr || "",
    port: port(raw.port),
    securePort: port(raw.securePort),
    status: raw.status || "UNKNOWN",
    overriddenStatus: overridden && overridden !== "UNKNOWN" ? overridden : null,
    zone: metadata.zone || dcZone || null,
    version: versionKey ? metadata[versionKey] : null,
    vipAddress: raw.vipAddress || null,
    secureVipAddress: raw.secureVipAddress || null,
    registeredAt: num(lease.registrationTimestamp),
    serviceUpAt: num(lease.serviceUpTimestamp),
    lastUpdated: num(raw.lastUpdatedTimestamp),
    renewalIntervalSecs: num(lease.renewalIntervalInSecs),
    durationSecs: num(lease.durationInSecs),
    metadata,
    statusPageUrl: raw.statusPageUrl || null,
    healthCheckUrl: raw.healthCheckUrl || null,
    homePageUrl: raw.homePageUrl || null,
    raw,
  };
}

/** The registry: application name → (instance id → instance), and the version it is at. */
export class Mirror {
  constructor() {
    this.apps = new Map();
    this.version = 0;
  }

  /** Replaces everything with a Eureka `applications` document at `version`. */
  replace(doc, version) {
    this.apps = new Map();
    const root = (doc && doc.applications) || {};
    for (const app of arrayOf(root.application)) {
      const instances = new Map();
      for (const raw of arrayOf(app.instance)) {
        const inst = normalize(raw);
        instances.set(inst.id, inst);
      }
      if (instances.size) this.apps.set(app.name, instances);
    }
    this.version = version || 0;
  }

  /** Applies one `change` event: `{action, app, version, instance}`. */
  apply(change) {
    const inst = normalize(change.instance);
    const app = change.app || inst.app;
    if (change.action === "DELETED") {
      const instances = this.apps.get(app);
      if (instances) {
        instances.delete(inst.id);
        if (!instances.size) this.apps.delete(app);
      }
    } else {
      if (!this.apps.has(app)) this.apps.set(app, new Map());
      this.apps.get(app).set(inst.id, inst);
    }
    this.version = Math.max(this.version, change.version || 0);
  }

  /** One instance, or undefined. */
  instance(app, id) {
    const instances = this.apps.get(app);
    return instances && instances.get(id);
  }

  /** Every instance. */
  *all() {
    for (const instances of this.apps.values()) yield* instances.values();
  }
}

/** Instances by status and the expired ones, over the whole registry. */
export function totals(mirror, expiredByApp) {
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  let instances = 0;
  for (const inst of mirror.all()) {
    byStatus[inst.status in byStatus ? inst.status : "UNKNOWN"] += 1;
    instances += 1;
  }
  const expired = Object.values(expiredByApp || {}).reduce((a, b) => a + b, 0);
  return { byStatus, instances, applications: mirror.apps.size, expired };
}

/** Renewals against the threshold: `ok`, `warn` (close to it), `bad` (at or under it). */
export function renewLevel(system) {
  if (!system || system.renewPercent === null || system.renewPercent === undefined) return "unknown";
  if (system.selfPreservationActive || system.renewPercent <= 100) return "bad";
  return system.renewPercent < 110 ? "warn" : "ok";
}

/** Whether an instance needs attention: not UP, or its lease expired. */
export const isProblem = (inst, expired) => inst.status !== "UP" || expired.has(key(inst.app, inst.id));

/**
 * Whether an instance passes the filters: `status` is a status, `NOT_UP` (not UP or
 * expired), `EXPIRED`, or empty; `q` is text found in its app, id, address, status, zone,
 * version or metadata.
 */
export function matches(inst, filters, expired) {
  const f = filters.status;
  if (f === "NOT_UP" && !isProblem(inst, expired)) return false;
  if (f === "EXPIRED" && !expired.has(key(inst.app, inst.id))) return false;
  if (f && f !== "NOT_UP" && f !== "EXPIRED" && inst.status !== f) return false;
  const q = (filters.q || "").trim().toLowerCase();
  if (!q) return true;
  const hay = [inst.app, inst.id, inst.hostName, inst.ipAddr, inst.port, inst.securePort, inst.status,
    inst.overriddenStatus, inst.zone, inst.version, inst.vipAddress,
    ...Object.entries(inst.metadata).map(([k, v]) => `${k}=${v}`)].join(" ").toLowerCase();
  return hay.includes(q);
}

/** Orders instances: `problems` (worst status first, then expired, then id), `name`, `age`. */
export function sortInstances(list, sort, expired) {
  const byId = (a, b) => naturalCompare(a.id, b.id);
  const rank = (i) => Math.min(RANK[i.status] ?? 3, expired.has(key(i.app, i.id)) ? 4 : 9);
  const cmp = {
    name: byId,
    age: (a, b) => (b.registeredAt || 0) - (a.registeredAt || 0) || byId(a, b),
    problems: (a, b) => rank(a) - rank(b) || byId(a, b),
  }[sort] || byId;
  return [...list].sort(cmp);
}

/**
 * Orders applications given as `{name, instances}`: `problems` (those with the worst
 * instance first, then by how many need attention), `name` (natural), `age` (the newest
 * registration first).
 */
export function sortApps(apps, sort, expired) {
  const byName = (a, b) => naturalCompare(a.name, b.name);
  const worst = (app) => Math.min(9, ...app.instances.map((i) => Math.min(RANK[i.status] ?? 3, expired.has(key(i.app, i.id)) ? 4 : 9)));
  const problems = (app) => app.instances.filter((i) => isProblem(i, expired)).length;
  const newest = (app) => Math.max(0, ...app.instances.map((i) => i.registeredAt || 0));
  const cmp = {
    name: byName,
    age: (a, b) => newest(b) - newest(a) || byName(a, b),
    problems: (a, b) => worst(a) - worst(b) || problems(b) - problems(a) || byName(a, b),
  }[sort] || byName;
  return [...apps].sort(cmp);
}

/** Sort orders the page offers; the first is the default. */
export const SORTS = ["problems", "name", "age"];

/**
 * What an address shows. `base` is the dashboard path without its trailing '/':
 * `base/` the overview, `base/apps/APP` one application, `base/apps/APP/ID` one instance;
 * `?status=&q=&sort=` the filters.
 */
export function parseView(pathname, search, base) {
  const params = new URLSearchParams(search);
  const view = {
    page: "overview",
    app: null,
    id: null,
    status: (params.get("status") || "").toUpperCase(),
    q: params.get("q") || "",
    sort: SORTS.includes(params.get("sort")) ? params.get("sort") : SORTS[0],
  };
  const rest = pathname.startsWith(base) ? pathname.slice(base.length) : pathname;
  const parts = rest.split("/").filter(Boolean);
  if (parts[0] === "apps" && parts.length >= 2) {
    view.app = decodeURIComponent(parts[1]).toUpperCase();
    view.page = "app";
    if (parts.length >= 3) {
      view.id = decodeURIComponent(parts.slice(2).join("/"));
      view.page = "instance";
    }
  }
  return view;
}

/** The address of a view (the inverse of `parseView`); default filters are left out. */
export function viewUrl(view, base) {
  let path = `${base}/`;
  if (view.app) path += `apps/${encodeURIComponent(view.app)}`;
  if (view.app && view.id) path += `/${encodeURIComponent(view.id)}`;
  const params = new URLSearchParams();
  if (view.page !== "instance") {
    if (view.status) params.set("status", view.status);
    if (view.q) params.set("q", view.q);
    if (view.sort && view.sort !== SORTS[0]) params.set("sort", view.sort);
  }
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}
