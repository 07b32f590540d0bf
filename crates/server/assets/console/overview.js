// The overview (`/`) and an application's page (`/apps/APP`): filters, applications with
// their counts, the dense instance table, replicas, remote regions, recent events and general
// information.
// Rows are keyed by application and instance id, so nothing jumps and open rows stay open.

import { $, copy, el, renderOnce, setAttr, setText } from "./dom.js";
import { actionButtons } from "./actions.js";
import { address, ago, clock, iso, statusLabel } from "./format.js";
import { STATUSES, isProblem, key, matches, sortApps, sortInstances } from "./model.js";
import { appHref, instanceHref } from "./view.js";

/** Most instance rows one application shows on the overview; its own page shows all. */
const ROWS_PER_APP = 100;

export class Overview {
  constructor(live, actions, navigate) {
    this.live = live;
    this.actions = actions;
    this.navigate = navigate;
    this.expanded = new Set();
    this.apps = new Map(); // name → { row, detail, toggle, body, rows: Map(id → row), more }
  }

  /** The applications whose leases the page needs: those with instance rows on screen. */
  visibleApps() {
    return [...this.apps.values()].filter((e) => e.open).map((e) => e.name);
  }

  render(view) {
    const single = view.page === "app";
    $("app-heading").hidden = !single;
    if (single) setText($("app-title"), view.app);
    $("h-apps").hidden = single;
    this.renderApps(view);
    if (!single) {
      this.renderReplicas();
      this.renderRegions();
      this.renderEvents();
      this.renderInfo();
    }
    for (const id of ["replicas-section", "lower"]) $(id).hidden = single;
    if (single) $("regions").hidden = true;
  }

  renderApps(view) {
    const live = this.live;
    const expired = expiredSet(live.summary);
    const leases = leaseMap(live.summary);
    const filters = { status: view.status, q: view.q };
    const filtering = !!(view.status || view.q);
    let apps = [...live.mirror.apps.entries()].map(([name, m]) => ({ name, all: [...m.values()] }));
    if (view.page === "app") apps = apps.filter((a) => a.name === view.app);
    let shownInstances = 0;
    const shown = [];
    for (const app of apps) {
      app.instances = app.all.filter((i) => matches(i, filters, expired));
      if (filtering && app.instances.length === 0) continue;
      shownInstances += app.instances.length;
      shown.push(app);
    }
    const body = $("apps-body");
    const seen = new Set();
    let position = 0;
    for (const app of sortApps(shown, view.sort, expired)) {
      seen.add(app.name);
      const entry = this.apps.get(app.name) || this.createApp(app.name);
      entry.open = view.page === "app" || filtering || this.expanded.has(app.name);
      this.updateApp(entry, app, view, expired, leases);
      for (const node of [entry.row, entry.detail]) {
        if (body.children[position] !== node) body.insertBefore(node, body.children[position] || null);
        position += 1;
      }
    }
    for (const [name, entry] of this.apps) {
      if (!seen.has(name)) {
        entry.row.remove();
        entry.detail.remove();
        entry.open = false;
        if (!live.mirror.apps.has(name)) this.apps.delete(name);
      }
    }
    const total = [...live.mirror.apps.values()].reduce((n, m) => n + m.size, 0);
    $("apps-empty").hidden = shown.length > 0 || !live.loaded;
    setText($("apps-empty"), view.page === "app" ? `${view.app} has no instances registered now.`
      : filtering ? "No instance matches these filters." : "No instances registered.");
    setText($("shown"), filtering
      ? `${shownInstances} of ${total} instances in ${shown.length} applications`
      : `${live.mirror.apps.size} applications, ${total} instances`);
  }

  createApp(name) {
    const detailId = `app-${this.apps.size}`;
    const toggle = el("button", {
      type: "button", class: "expander", "aria-expanded": "false", "aria-controls": detailId,
      "aria-label": `Show the instances of ${name}`,
      onclick: () => {
        if (this.expanded.has(name)) this.expanded.delete(name); else this.expanded.add(name);
        this.navigate(null);
      },
    }, el("span", { class: "chev", "aria-hidden": "true" }));
    const link = el("a", { class: "app-name", href: appHref(name), text: name });
    const row = el("tr", { class: "app-row", "data-app": name },
      el("th", { scope: "row", "data-label": "Application" }, el("span", { class: "app-cell" }, toggle, link)),
      el("td", { class: "counts", "data-label": "By status" }),
      el("td", { class: "num total", "data-label": "Total" }));
    const table = el("table", { class: "instances" },
      el("thead", {}, el("tr", {},
        ...["Instance", "Address", "Status", "Zone", "Version", "Age", "Last renewal", "Actions"]
          .map((h) => el("th", { scope: "col", text: h })))),
      el("tbody"));
    const more = el("p", { class: "more small", hidden: true });
    const detail = el("tr", { class: "detail", id: detailId, "data-app": name, hidden: true },
      el("td", { colspan: "3" }, table, more));
    const entry = { name, row, detail, toggle, link, body: table.tBodies[0], rows: new Map(), more, open: false };
    this.apps.set(name, entry);
    return entry;
  }

  updateApp(entry, app, view, expired, leases) {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    let expiredHere = 0;
    for (const i of app.all) {
      counts[i.status in counts ? i.status : "UNKNOWN"] += 1;
      if (expired.has(key(i.app, i.id))) expiredHere += 1;
    }
    const chips = STATUSES.filter((s) => counts[s]).map((s) => [`chip s-${s}`, `${statusLabel(s)} ${counts[s]}`]);
    if (expiredHere) chips.push(["chip expired", `EXPIRED ${expiredHere}`]);
    renderOnce(entry.row.cells[1], chips.map((c) => c.join("=")).join("|"),
      () => [el("div", { class: "chips" }, ...chips.map(([cls, text]) => el("span", { class: cls, text })))]);
    setText(entry.row.cells[2], app.all.length);
    const problem = app.all.some((i) => isProblem(i, expired));
    entry.row.classList.toggle("has-problem", problem);
    entry.row.classList.toggle("open", entry.open);
    setAttr(entry.toggle, "aria-expanded", String(entry.open));
    entry.toggle.hidden = view.page === "app";
    entry.detail.hidden = !entry.open;
    if (!entry.open) return;
    const limit = view.page === "app" ? Infinity : ROWS_PER_APP;
    const sorted = sortInstances(app.instances, view.sort, expired);
    const visible = sorted.slice(0, limit);
    const seen = new Set();
    visible.forEach((inst, i) => {
      seen.add(inst.id);
      const row = entry.rows.get(inst.id) || this.createInstance(entry, inst);
      this.updateInstance(row, inst, expired, leases);
      if (entry.body.children[i] !== row) entry.body.insertBefore(row, entry.body.children[i] || null);
    });
    for (const [id, row] of entry.rows) {
      if (!seen.has(id)) { row.remove(); entry.rows.delete(id); }
    }
    entry.more.hidden = sorted.length <= visible.length;
    if (!entry.more.hidden) {
      renderOnce(entry.more, String(sorted.length - visible.length), () => [
        el("span", { text: `${sorted.length - visible.length} more instances: ` }),
        el("a", { href: appHref(app.name), text: `open ${app.name}` }),
      ]);
    }
  }

  createInstance(entry, inst) {
    const cell = (label, cls) => el("td", { "data-label": label, class: cls });
    const row = el("tr", { class: "inst", "data-id": inst.id },
      cell("Instance", "id"), cell("Address", "addr"), cell("Status", "status"), cell("Zone", "zone"),
      cell("Version", "version"), cell("Age", "age"), cell("Last renewal", "renewal"), cell("Actions", "actions"));
    entry.rows.set(inst.id, row);
    return row;
  }

  updateInstance(row, inst, expired, leases) {
    const c = row.cells;
    const now = this.live.now();
    renderOnce(c[0], inst.id, () => [el("a", { class: "inst-link", href: instanceHref(inst.app, inst.id), text: inst.id })]);
    const addr = address(inst);
    renderOnce(c[1], addr, () => {
      const text = el("span", { class: "mono", text: addr, title: inst.hostName });
      return [el("span", {}, text, el("button", {
        type: "button", class: "copy", "aria-label": `Copy ${addr}`, title: "Copy",
        onclick: async (e) => { const ok = await copy(addr, text); e.currentTarget.classList.toggle("copied", ok); },
      }))];
    });
    const isExpired = expired.has(key(inst.app, inst.id));
    renderOnce(c[2], `${inst.status}|${inst.overriddenStatus}|${isExpired}`, () => [el("span", {}, ...statusCell(inst, isExpired))]);
    row.classList.toggle("not-up", isProblem(inst, expired));
    setText(c[3], inst.zone || "–");
    setText(c[4], inst.version || "–");
    setText(c[5], inst.registeredAt ? ago(inst.registeredAt, now).replace(" ago", "") : "–");
    setAttr(c[5], "title", inst.registeredAt ? `registered ${iso(inst.registeredAt)}` : null);
    const lease = leases.get(key(inst.app, inst.id));
    setText(c[6], lease ? ago(lease.lastRenewal, now) : "–");
    setAttr(c[6], "title", lease ? `${iso(lease.lastRenewal)}; lease expires ${iso(lease.expiresAt)}` : "live lease times load with the next refresh");
    c[6].classList.toggle("bad-text", !!(lease && lease.expired));
    renderOnce(c[7], `${inst.status}|${inst.overriddenStatus}`, () => [el("span", { class: "btns" }, ...actionButtons(this.actions, inst, true))]);
  }

  renderReplicas() {
    const peers = this.live.summary ? this.live.summary.replicas.peers.filter((p) => !p.isThisServer) : [];
    $("replicas-empty").hidden = peers.length > 0 || !this.live.summary;
    $("replicas").hidden = peers.length === 0;
    const body = $("replicas").tBodies[0];
    while (body.rows.length > peers.length) body.deleteRow(-1);
    const now = this.live.now();
    peers.forEach((p, i) => {
      let row = body.rows[i];
      if (!row) {
        row = el("tr", {},
          el("td", { class: "mono", "data-label": "Peer" }), el("td", { "data-label": "Reachable" }),
          el("td", { class: "num", "data-label": "Queue" }), el("td", { "data-label": "Last success" }),
          el("td", { class: "err", "data-label": "Last error" }));
        body.append(row);
      }
      const c = row.cells;
      setText(c[0], p.url);
      setText(c[1], p.reachable === true ? "yes" : p.reachable === false ? "no" : "not yet known");
      c[1].className = p.reachable === false ? "bad-text" : p.reachable === true ? "ok-text" : "muted";
      setText(c[2], p.queueDepth);
      setText(c[3], p.lastSuccessMs ? ago(p.lastSuccessMs, now) : "never");
      setText(c[4], p.lastError ? `${ago(p.lastErrorMs, now)}: ${p.lastError}` : "none");
    });
  }

  // Remote regions: their links, and the instances they serve, each marked with its region.
  // Read-only: actions apply to local instances only.
  renderRegions() {
    const regions = (this.live.summary && this.live.summary.remoteRegions) || [];
    $("regions").hidden = regions.length === 0;
    const now = this.live.now();
    const links = fillRows($("regions-table").tBodies[0], regions, [
      ["Region", "mono", (r) => r.name],
      ["Fetched from", "mono", (r) => r.url],
      ["Served", "", (r) => (r.served ? "yes" : r.expired ? "no: expired" : "not yet fetched")],
      ["Instances", "num", (r) => r.servedInstances],
      ["Last success", "", (r) => ago(r.lastSuccessMs, now)],
      ["Last error", "err", (r) => (r.lastError ? `${ago(r.lastErrorMs, now)}: ${r.lastError}` : "none")],
    ]);
    regions.forEach((r, i) => {
      links.rows[i].cells[2].className = r.served ? "ok-text" : "bad-text";
    });
    // The list comes with the summaries only while it is open (`remote=1`).
    if (!$("remote-details").open) return;
    fillRows($("remote-instances").tBodies[0], regions.flatMap((r) => r.instanceList || []), [
      ["Region", "mono", (i) => i.region],
      ["Application", "", (i) => i.app],
      ["Instance", "mono", (i) => i.id],
      ["Address", "mono", (i) => address(i)],
      ["Status", "", (i) => statusLabel(i.status)],
      ["Zone", "", (i) => i.zone || "–"],
    ]);
  }

  renderEvents() {
    const s = this.live.summary;
    if (!s) return;
    const body = $("events").tBodies[0];
    renderOnce(body, JSON.stringify(s.events), () => s.events.map((e) => el("tr", {},
      el("td", { class: "num", "data-label": "Time", title: iso(e.at), text: clock(e.at) }),
      el("td", { class: `kind k-${e.kind}`, "data-label": "Event", text: eventLabel(e) }),
      el("td", { "data-label": "Instance" }, el("a", { class: "mono", href: instanceHref(e.app, e.id), text: `${e.app} / ${e.id}` })),
      el("td", { class: "who", "data-label": "By, why", text: whoAndWhy(e) }))));
    setText($("events-note"), s.events.length
      ? `Newest first: ${s.events.length} of ${s.eventsTotal} kept since start-up (the last 1000 of each kind).`
      : "Nothing registered, cancelled or overridden since start-up.");
  }

  renderInfo() {
    const s = this.live.summary;
    if (!s) return;
    const i = s.info;
    const rows = [
      ["Version", `eureka-rs ${i.version}`],
      ["Node", `${i.node.id} (${i.node.ipAddr})`],
      ["CPUs", i.cpus],
      ["Memory in use", i.memoryUsage],
      ["Machine memory", i.memoryTotal],
      ["Registry version", s.version],
      ["Status overrides", s.system.statusOverrides],
      ["Expected renews / min", Math.round(s.system.expectedRenewsPerMin)],
      ...i.config,
    ];
    renderOnce($("info"), rows.map((r) => r.join("=")).join("\n"),
      () => rows.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { class: "mono", text: String(v) }))));
  }
}

/** A status badge, the override named, and "lease expired" when it is. */
export function statusCell(inst, isExpired) {
  const out = [el("span", { class: `badge s-${inst.status}`, text: statusLabel(inst.status) })];
  if (inst.overriddenStatus) out.push(el("span", { class: "note", text: "override", title: `status override ${inst.overriddenStatus}` }));
  if (isExpired) out.push(el("span", { class: "note bad-text", text: "lease expired" }));
  return out;
}

/** The event's name, with the status it set. */
export function eventLabel(e) {
  const name = { REGISTERED: "registered", CANCELLED: "cancelled", EVICTED: "evicted", OVERRIDE_SET: "override set", OVERRIDE_REMOVED: "override removed", MARKED_DOWN: "marked DOWN by a health check", MARKED_UP: "health check passes again" }[e.kind] || e.kind.toLowerCase();
  const status = e.status && statusLabel(e.status);
  return status && e.kind !== "REGISTERED" ? `${name} ${status}` : status && e.status !== "UP" ? `${name} (${status})` : name;
}

/** Who did it and why: `by ops: deploy 1.4` / `via drain` / `from a peer`. */
export function whoAndWhy(e) {
  const parts = [];
  if (e.user) parts.push(`by ${e.user}`);
  if (e.via) parts.push(`via ${e.via}`);
  if (e.peer) parts.push("from a peer");
  const who = parts.join(", ");
  if (e.reason) return who ? `${who}: ${e.reason}` : e.reason;
  return who || "–";
}

/** The instances whose lease has expired, as the last summary listed them. */
export function expiredSet(summary) {
  const set = new Set();
  if (!summary) return set;
  for (const l of summary.leases || []) if (l.expired) set.add(key(l.app, l.id));
  for (const l of summary.expiredLeases || []) set.add(key(l.app, l.id));
  return set;
}

function leaseMap(summary) {
  const map = new Map();
  for (const l of (summary && summary.leases) || []) map.set(key(l.app, l.id), l);
  return map;
}

/** Fills a table body with one row per item; `cells` are [label, class, value of an item]. */
function fillRows(body, items, cells) {
  while (body.rows.length > items.length) body.deleteRow(-1);
  items.forEach((item, i) => {
    let row = body.rows[i];
    if (!row) {
      row = el("tr", {}, ...cells.map(([label, cls]) => el("td", { "data-label": label, class: cls || null })));
      body.append(row);
    }
    cells.forEach(([, , value], k) => setText(row.cells[k], value(item)));
  });
  return body;
}
