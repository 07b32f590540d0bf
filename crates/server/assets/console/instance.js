// An instance's page (`/apps/APP/ID`): every field, metadata, the live lease, health-check
// results when the server checks instances, and its history with who changed it and why.

import { $, copy, el, renderOnce, setText } from "./dom.js";
import { actionButtons } from "./actions.js";
import { address, ago, isHttp, iso, until } from "./format.js";
import { statusCell, eventLabel, whoAndWhy, expiredSet } from "./overview.js";
import { appHref } from "./view.js";
import { key } from "./model.js";

/** How often the page re-reads the instance's detail (live lease, history). */
const DETAIL_MS = 5000;

export class InstancePage {
  constructor(live, actions, detailUrl) {
    this.live = live;
    this.actions = actions;
    this.detailUrl = detailUrl;
    this.detail = null;
    this.for = null;
    this.fetchedAt = 0;
  }

  render(view, what) {
    const forKey = key(view.app, view.id);
    if (this.for !== forKey) {
      this.for = forKey;
      this.detail = null;
      this.fetchedAt = 0;
    }
    if (what.has("view") || Date.now() - this.fetchedAt > DETAIL_MS) this.load(view);
    const inst = this.live.mirror.instance(view.app, view.id);
    const now = this.live.now();
    renderOnce($("crumbs"), forKey, () => [
      el("a", { href: `${document.body.dataset.base}/`, text: "Overview" }), " / ",
      el("a", { href: appHref(view.app), text: view.app }), " / ",
      el("span", { class: "mono", text: view.id }),
    ]);
    setText($("ih-title"), view.id);
    const expired = expiredSet(this.live.summary).has(forKey);
    const d = this.detail && this.detail.instance;
    renderOnce($("ih-status"), inst ? `${inst.status}|${inst.overriddenStatus}|${expired}` : "gone",
      () => (inst ? statusCell(inst, expired) : [el("span", { class: "badge s-UNKNOWN", text: "NOT REGISTERED" })]));
    renderOnce($("ih-actions"), inst ? `${inst.status}|${inst.overriddenStatus}` : "gone",
      () => (inst ? actionButtons(this.actions, inst, false) : []));
    $("ih-gone").hidden = !!inst || !this.live.loaded;
    if (inst) {
      const addr = address(inst);
      renderOnce($("ih-where"), JSON.stringify([inst.raw, addr]), () => kv([
        ["Address", [el("span", { class: "mono", id: "ih-address", text: addr }), el("button", {
          type: "button", class: "copy", "aria-label": `Copy ${addr}`, title: "Copy",
          onclick: () => copy(addr, $("ih-address")),
        })]],
        ["Host name", inst.hostName], ["IP address", inst.ipAddr],
        ["Port", inst.port ?? "disabled"], ["Secure port", inst.securePort ?? "disabled"],
        ["VIP address", inst.vipAddress || "–"], ["Secure VIP", inst.secureVipAddress || "–"],
        ["Zone", inst.zone || "–"], ["Version", inst.version || "–"],
        ["Data center", (inst.raw.dataCenterInfo && inst.raw.dataCenterInfo.name) || "–"],
      ]));
      const lease = d ? [
        ["Registered", when(d.registeredAt, now)],
        ["Last renewal", when(d.lastRenewal, now)],
        ["Lease expires", `${until(d.expiresAt, now)} (${iso(d.expiresAt)})`],
      ] : [["Registered", when(inst.registeredAt, now)], ["Last renewal", "loading…"]];
      renderOnce($("ih-lease"), JSON.stringify([inst.status, inst.overriddenStatus, lease, this.detail && this.detail.owner]), () => kv([
        ["Status", inst.status],
        ["Status override", inst.overriddenStatus || "none"],
        ...(d && d.health && d.health.downReason ? [["DOWN because", d.health.downReason]] : []),
        ...lease,
        ["Up since", when(inst.serviceUpAt, now)],
        ["Renewal interval", inst.renewalIntervalSecs ? `${inst.renewalIntervalSecs} s` : "–"],
        ["Lease duration", inst.durationSecs ? `${inst.durationSecs} s` : "–"],
        ["Last updated", when(inst.lastUpdated, now)],
        ["Owner on this node", (this.detail && this.detail.owner) || "none (security off, or learned from a peer)"],
      ]));
      renderMetadata(inst);
      renderLinks(inst);
      renderOnce($("ih-raw"), JSON.stringify(inst.raw), () => [JSON.stringify(inst.raw, null, 2)]);
    }
    renderHealth(d && d.health, now);
    this.renderHistory();
    $("ih-body").hidden = !inst;
  }

  async load(view) {
    this.fetchedAt = Date.now();
    const params = new URLSearchParams({ app: view.app, id: view.id });
    try {
      const r = await fetch(`${this.detailUrl}?${params}`, { cache: "no-store" });
      if (!r.ok) return;
      const detail = await r.json();
      if (this.for === key(detail.app, detail.id)) {
        this.detail = detail;
        this.live.changed("detail");
      }
    } catch {
      // The connection state comes from the summary and the stream.
    }
  }

  renderHistory() {
    const history = (this.detail && this.detail.history) || [];
    const body = $("ih-history").tBodies[0];
    renderOnce(body, JSON.stringify(history), () => history.map((e) => el("tr", {},
      el("td", { class: "num", "data-label": "Time", title: iso(e.at), text: iso(e.at).replace("T", " ") }),
      el("td", { class: `kind k-${e.kind}`, "data-label": "Event", text: eventLabel(e) }),
      el("td", { class: "who", "data-label": "By, why", text: whoAndWhy(e) }))));
    $("ih-history-empty").hidden = history.length > 0 || !this.detail;
  }
}

function when(ms, now) {
  return ms ? `${ago(ms, now)} (${iso(ms)})` : "never";
}

/** A definition list from `[label, value or nodes]` pairs. */
function kv(rows) {
  return rows.map(([k, v]) => el("div", {}, el("dt", { text: k }),
    el("dd", {}, ...(Array.isArray(v) ? v : [String(v)]))));
}

function renderMetadata(inst) {
  const entries = Object.entries(inst.metadata);
  renderOnce($("ih-metadata"), JSON.stringify(entries), () => (entries.length
    ? kv(entries.map(([k, v]) => [k, [el("span", { class: "mono", text: v })]]))
    : [el("p", { class: "muted", text: "No metadata." })]));
}

function renderLinks(inst) {
  const links = [["Status page", inst.statusPageUrl], ["Health check", inst.healthCheckUrl], ["Home page", inst.homePageUrl]];
  renderOnce($("ih-links"), JSON.stringify(links), () => kv(links.map(([label, url]) => [label,
    isHttp(url) ? [el("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "mono", text: url })]
      : [url ? `${url} (not http: not linked)` : "–"]])));
}

/** Health-check results, when the server checks instances (`health` in the detail). */
function renderHealth(health, now) {
  $("ih-health-section").hidden = !health;
  if (!health) return;
  renderOnce($("ih-health"), JSON.stringify(health), () => kv([
    ["Mode", health.mode || "–"],
    ["Checked by", health.checkedBy || "–"],
    ["Last result", health.lastResult || "–"],
    ["Last checked", when(health.lastCheckedAt, now)],
    ["Last error", health.lastError || "none"],
    ["Consecutive failures", health.consecutiveFailures ?? 0],
    ["DOWN because", health.downReason || "–"],
    ["DOWN since", when(health.downSince, now)],
  ]));
}
