// What every view shares: the header (this node, the connection), the summary cards and the
// banners that say what is wrong and what to do.

import { $, el, renderOnce, setAttr, setText } from "./dom.js";
import { clock, span, statusLabel } from "./format.js";
import { STATUSES, renewLevel, totals } from "./model.js";

/** The node's name and address in the header, and the page title. */
export function renderHeader(summary, title) {
  if (summary) {
    const n = summary.node;
    setText($("node"), `${n.hostName}:${n.port}`);
    setAttr($("node"), "title", `this node: ${n.id} (${n.ipAddr}:${n.port})`);
    setText($("env"), `${summary.system.environment} · ${summary.system.datacenter}`);
    document.title = `${title ? `${title} · ` : ""}${n.hostName}:${n.port} · Eureka`;
  }
}

/** The live indicator and the stale state of the whole page. */
export function renderConnection(state, now) {
  const dot = $("live-dot");
  dot.classList.toggle("bad", !state.ok && state.loaded);
  document.body.classList.toggle("stale", !state.ok && state.loaded);
  if (!state.loaded) setText($("live-text"), state.problem ? `cannot load: ${state.problem}` : "connecting…");
  else if (state.ok) setText($("live-text"), `live · ${clock(now)}`);
  else setText($("live-text"), `connection lost ${span(now - state.lostSince)} ago · retrying`);
}

/** The summary cards: instances by status, expired, peers, renewals, health checks. */
export function renderCards(live, filterHref) {
  const s = live.summary;
  const t = totals(live.mirror, s && s.expired);
  const cards = [];
  cards.push(card("total", "Instances", t.instances, `in ${t.applications} applications`, filterHref(""), ""));
  for (const status of STATUSES) {
    const n = t.byStatus[status];
    const tone = n === 0 || status === "UP" ? (status === "UP" && n ? "ok" : "quiet") : status === "STARTING" ? "info" : "bad";
    cards.push(card(status, statusLabel(status), n, null, filterHref(status), tone));
  }
  cards.push(card("expired", "Expired leases", s ? t.expired : "–", s && s.system.selfPreservationActive ? "kept by self-preservation" : "awaiting eviction", filterHref("EXPIRED"), t.expired ? "bad" : "quiet"));
  if (s) {
    const sys = s.system;
    const peersBad = sys.peersTotal > 0 && sys.peersReachable < sys.peersTotal;
    cards.push(card("peers", "Peers reachable", sys.peersTotal ? `${sys.peersReachable}/${sys.peersTotal}` : "–", sys.peersTotal ? null : "standalone", "#replicas", peersBad ? "bad" : sys.peersTotal ? "ok" : "quiet"));
    const level = renewLevel(sys);
    const percent = sys.renewPercent === null || sys.renewPercent === undefined ? "–" : `${sys.renewPercent} %`;
    const renewNote = sys.renewThreshold ? `${sys.renewsLastMin}/min, threshold ${sys.renewThreshold}` : "nothing expected yet";
    cards.push(card("renewals", "Renewals vs threshold", percent, renewNote, null, { ok: "ok", warn: "warn", bad: "bad", unknown: "quiet" }[level]));
    const hc = sys.healthChecks;
    if (hc && hc.enabled) {
      cards.push(card("health", "Health-check failures", hc.failing ?? 0, `${hc.markedDown ?? 0} marked DOWN`, filterHref("DOWN"), hc.failing ? "bad" : "quiet"));
    }
  }
  const host = $("cards");
  const sig = cards.map((c) => c.dataset.sig).join("|");
  renderOnce(host, sig, () => cards);
}

function card(id, label, value, note, href, tone) {
  const body = [el("span", { class: "card-value", text: String(value) }), el("span", { class: "card-label", text: label })];
  if (note) body.push(el("span", { class: "card-note", text: note }));
  const node = href
    ? el("a", { class: `card tone-${tone}`, href, "data-card": id }, ...body)
    : el("div", { class: `card tone-${tone}`, "data-card": id }, ...body);
  node.dataset.sig = `${id}:${value}:${note}:${tone}:${href}`;
  return node;
}

/** Banners for what is wrong, each with what to do; replaced only when their text changes. */
export function renderBanners(live, connection) {
  const s = live.summary;
  const want = [];
  if (connection.loaded && !connection.ok) {
    want.push(banner("bad", "connection", "Connection to this node lost.",
      `Since ${clock(connection.lostSince)} nothing on this page is current (${connection.problem || "no answer"}). It retries on its own; if it does not recover, check that the node is running and reachable.`));
  }
  if (s) {
    const sp = s.selfPreservation;
    const sys = s.system;
    if (sp.active && sys.renewThreshold === 0 && sys.renewsLastMin === 0) {
      want.push(banner("info", "sp-start", "Starting up: nothing is evicted yet.", sp.explanation || ""));
    } else if (sp.active) {
      const b = banner("warn", "sp", "Self-preservation is active: expired leases are kept.",
        `${sp.explanation || ""} What to do: check the network between the clients and this node first (a partition looks exactly like this). If many instances were stopped on purpose, renewals recover as the expected rate is recounted each minute; cancel leases that are really gone.`);
      if (sp.kept.length) {
        const list = el("ul", { class: "kept" });
        for (const k of sp.kept.slice(0, 10)) {
          list.append(el("li", {}, el("a", { href: instanceHref(k.app, k.id), text: `${k.app} / ${k.id}` }),
            el("span", { text: `: last renewal at ${clock(k.lastRenewal)}` })));
        }
        if (sp.keptTotal > 10) list.append(el("li", { text: `… and ${sp.keptTotal - 10} more (filter “Expired”)` }));
        b.append(list);
      }
      want.push(b);
    } else if (!sys.selfPreservationEnabled) {
      want.push(banner("info", "sp-off", "Self-preservation is turned off.",
        "Expired leases are evicted even when many renewals stop at once (eureka.server.enable-self-preservation=false)."));
    }
    if (sys.peersTotal > 0 && sys.peersReachable < sys.peersTotal) {
      const down = s.replicas.peers.filter((p) => !p.isThisServer && p.reachable === false).map((p) => p.url);
      want.push(banner("bad", "peers", `${sys.peersTotal - sys.peersReachable} of ${sys.peersTotal} peers unreachable.`,
        `${down.join(", ") || "Not reached yet"}: changes made here queue for them and registrations made there do not reach this node. Check those nodes and the network between them; Replicas below shows each peer's last error.`));
    }
    if (sys.ready === false) {
      want.push(banner("info", "sync", "Starting: copying the registry from a peer.", "Readiness (/health/ready) answers 503 until it is done."));
    }
    const hc = sys.healthChecks;
    if (hc && hc.enabled && hc.suspect) {
      want.push(banner("warn", "hc-suspect", "Health checks paused: this node suspects its own network.",
        `More than ${Math.round((hc.failingFraction ?? 0.5) * 100)} % of the instances it checks failed at once, so it marks none DOWN until that falls. Check this node's network.`));
    }
  }
  const host = $("banners");
  const sig = want.map((b) => b.dataset.key + b.textContent).join("|");
  renderOnce(host, sig, () => want);
}

function banner(level, keyName, title, text) {
  const node = el("div", { class: `banner ${level}`, role: level === "bad" ? "alert" : null },
    el("strong", { text: `${title} ` }), el("span", { text }));
  node.dataset.key = keyName;
  return node;
}

let base = "";
/** Sets the dashboard path the links are built under. */
export function setBase(path) {
  base = path;
}

/** The console address of an application. */
export const appHref = (app) => `${base}/apps/${encodeURIComponent(app)}`;
/** The console address of an instance. */
export const instanceHref = (app, id) => `${appHref(app)}/${encodeURIComponent(id)}`;
