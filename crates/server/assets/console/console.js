// The registry console: polls the console document every second and updates the page in
// place. Rows are keyed by application and instance id, so nothing jumps and expanded rows stay
// expanded. Every value from the registry is set as text (textContent), never as markup: a
// registered instance chooses its id, metadata and URLs.
"use strict";

(() => {
  const API = document.body.dataset.api;
  const EUREKA = document.body.dataset.eureka;
  const POLL_MS = 1000;
  const HIDDEN_POLL_MS = 5000;
  const STATUSES = ["UP", "DOWN", "STARTING", "OUT_OF_SERVICE", "UNKNOWN"];

  const $ = (id) => document.getElementById(id);
  const state = {
    doc: null,
    skew: 0, // server time − local time, so relative times follow the server's clock
    expanded: new Set(), // application names the operator opened
    apps: new Map(), // name → { row, detail, body, rows: Map(id → row) }
    events: 100,
    failures: 0,
    busy: false,
  };

  // ------------------------------------------------------------------ small helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c) node.append(c);
    return node;
  }

  /** Sets text only when it changed, so the DOM is touched as little as possible. */
  function setText(node, text) {
    const t = text === undefined || text === null ? "" : String(text);
    if (node.textContent !== t) node.textContent = t;
  }

  function setAttr(node, name, value) {
    if (value === null || value === undefined) {
      if (node.hasAttribute(name)) node.removeAttribute(name);
    } else if (node.getAttribute(name) !== String(value)) {
      node.setAttribute(name, value);
    }
  }

  const serverNow = () => Date.now() + state.skew;

  function iso(ms) {
    return ms ? new Date(ms).toISOString().replace(".000Z", "Z") : "";
  }

  function clock(ms) {
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }

  function span(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 90) return `${s} s`;
    const m = Math.round(s / 60);
    if (m < 90) return `${m} min`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h} h ${m % 60} min`;
    return `${Math.floor(h / 24)} d ${h % 24} h`;
  }

  const ago = (ms) => (ms ? `${span(serverNow() - ms)} ago` : "never");
  function until(ms) {
    const d = ms - serverNow();
    return d >= 0 ? `in ${span(d)}` : `expired ${span(-d)} ago`;
  }

  function isHttp(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url.trim());
  }

  function hostPort(i) {
    const ports = [];
    if (i.port !== null && i.port !== undefined) ports.push(i.port);
    if (i.securePort !== null && i.securePort !== undefined) ports.push(`${i.securePort} (TLS)`);
    return `${i.hostName}:${ports.join(", ") || "–"}`;
  }

  function toast(message, bad) {
    const t = $("toast");
    t.textContent = message;
    t.classList.toggle("bad", !!bad);
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, 5000);
  }

  // ------------------------------------------------------------------ polling

  async function poll() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 5000);
    try {
      const r = await fetch(`${API}?events=${state.events}`, { cache: "no-store", signal: ctl.signal });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const doc = await r.json();
      state.skew = doc.now - Date.now();
      state.doc = doc;
      state.failures = 0;
      render(doc);
      live(true, `live · updated ${clock(doc.now).slice(11)}`);
    } catch (e) {
      state.failures += 1;
      live(false, `connection lost (${e.name === "AbortError" ? "timeout" : e.message}) · retrying`);
    } finally {
      clearTimeout(timer);
    }
  }

  function live(ok, text) {
    $("live-dot").classList.toggle("bad", !ok);
    setText($("live-text"), text);
  }

  async function loop() {
    await poll();
    const base = document.hidden ? HIDDEN_POLL_MS : POLL_MS;
    const backoff = Math.min(5000, base * 2 ** Math.min(state.failures, 3));
    setTimeout(loop, state.failures ? backoff : base);
  }

  // ------------------------------------------------------------------ rendering

  function render(doc) {
    const s = doc.system;
    setText($("env"), `${s.environment} · ${s.datacenter}`);
    const sys = {
      environment: s.environment,
      datacenter: s.datacenter,
      now: clock(doc.now).slice(11),
      uptime: span(s.uptimeMs),
      leaseExpirationEnabled: s.leaseExpirationEnabled ? "yes" : "no",
      renewThreshold: s.renewThreshold,
      renewsLastMin: s.renewsLastMin,
      counts: `${s.applications} / ${s.instances}`,
    };
    for (const dd of $("system").querySelectorAll("dd[data-k]")) setText(dd, sys[dd.dataset.k]);
    setAttr($("system").querySelector('[data-k="now"]'), "title", `${clock(doc.now)} (${iso(doc.now)})`);
    $("system").querySelector('[data-k="leaseExpirationEnabled"]').classList.toggle("warn-text", !s.leaseExpirationEnabled);
    renderBanners(doc);
    renderReplicas(doc.replicas);
    renderApps(doc.apps);
    renderEvents(doc);
    renderInfo(doc);
  }

  function renderBanners(doc) {
    const host = $("banners");
    const want = [];
    const sp = doc.selfPreservation;
    if (sp.active) {
      const b = el("div", { class: "banner warn", "data-key": "sp" },
        el("strong", { text: "Self-preservation is active. " }),
        el("span", { text: sp.explanation || "" }));
      if (sp.kept.length) {
        const list = el("ul", { class: "kept" });
        for (const k of sp.kept.slice(0, 20)) {
          list.append(el("li", { text: `${k.app} / ${k.id}: last renewal ${ago(k.lastRenewal)}, lease expired ${span(serverNow() - k.expiredAt)} ago` }));
        }
        if (sp.kept.length > 20) list.append(el("li", { text: `… and ${sp.kept.length - 20} more` }));
        b.append(list);
      }
      want.push(b);
    } else if (!doc.system.selfPreservationEnabled) {
      want.push(el("div", { class: "banner info", "data-key": "sp-off" },
        el("strong", { text: "Self-preservation is turned off. " }),
        el("span", { text: "Expired leases are evicted even when many renewals stop at once (eureka.server.enable-self-preservation=false)." })));
    }
    if (doc.system.ready === false) {
      want.push(el("div", { class: "banner info", "data-key": "sync" },
        el("strong", { text: "Starting: " }),
        el("span", { text: "copying the registry from a peer; readiness is 503 until it is done." })));
    }
    // Replace only when the content changed, so screen readers are not re-notified every second.
    const sig = want.map((b) => b.textContent).join("|");
    if (host.dataset.sig !== sig) {
      host.replaceChildren(...want);
      host.dataset.sig = sig;
    }
  }

  function renderReplicas(rep) {
    const peers = rep.peers.filter((p) => !p.isThisServer);
    $("replicas-empty").hidden = peers.length > 0;
    $("replicas").hidden = peers.length === 0;
    const body = $("replicas").tBodies[0];
    while (body.rows.length > peers.length) body.deleteRow(-1);
    peers.forEach((p, i) => {
      let row = body.rows[i];
      if (!row) {
        row = el("tr", {},
          el("td", { class: "mono", "data-label": "Peer" }),
          el("td", { "data-label": "Reachable" }),
          el("td", { class: "num", "data-label": "Queue" }),
          el("td", { "data-label": "Last success" }),
          el("td", { class: "err", "data-label": "Last error" }));
        body.append(row);
      }
      const c = row.cells;
      setText(c[0], p.url);
      const reach = p.reachable === true ? "yes" : p.reachable === false ? "no" : "not yet known";
      setText(c[1], reach);
      c[1].className = p.reachable === false ? "bad-text" : p.reachable === true ? "ok-text" : "muted";
      setText(c[2], p.queueDepth);
      setText(c[3], p.lastSuccessMs ? ago(p.lastSuccessMs) : "never");
      setAttr(c[3], "title", p.lastSuccessMs ? iso(p.lastSuccessMs) : null);
      setText(c[4], p.lastError ? `${ago(p.lastErrorMs)}: ${p.lastError}` : "none");
    });
  }

  function filters() {
    return {
      text: $("f-text").value.trim().toLowerCase(),
      app: $("f-app").value,
      status: $("f-status").value,
    };
  }

  function matches(inst, f) {
    if (f.status && inst.status !== f.status) return false;
    if (!f.text) return true;
    const hay = [inst.app, inst.id, inst.hostName, inst.ipAddr, inst.status, inst.zone || "", inst.vipAddress || "",
      ...Object.entries(inst.metadata || {}).map(([k, v]) => `${k}=${v}`)].join(" ").toLowerCase();
    return hay.includes(f.text);
  }

  function renderAppOptions(apps) {
    const sel = $("f-app");
    const names = apps.map((a) => a.name);
    const have = [...sel.options].slice(1).map((o) => o.value);
    if (names.join("\n") === have.join("\n")) return;
    const current = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    for (const n of names) sel.append(el("option", { value: n, text: n }));
    if (current && !names.includes(current)) sel.append(el("option", { value: current, text: `${current} (gone)` }));
    sel.value = current;
  }

  function renderApps(apps) {
    renderAppOptions(apps);
    const f = filters();
    const filtering = !!(f.text || f.status);
    const body = $("apps-body");
    const seen = new Set();
    let shownApps = 0;
    let shownInstances = 0;
    let position = 0;
    for (const app of apps) {
      if (f.app && app.name !== f.app) continue;
      const visible = app.instances.filter((i) => matches(i, f));
      if (filtering && visible.length === 0) continue;
      shownApps += 1;
      shownInstances += visible.length;
      seen.add(app.name);
      const entry = state.apps.get(app.name) || createApp(app.name);
      updateApp(entry, app, visible, filtering);
      // Keep DOM order equal to the document's order, moving only rows that are out of place.
      for (const node of [entry.row, entry.detail]) {
        if (body.children[position] !== node) body.insertBefore(node, body.children[position] || null);
        position += 1;
      }
    }
    for (const [name, entry] of state.apps) {
      if (!seen.has(name)) {
        entry.row.remove();
        entry.detail.remove();
        if (!apps.some((a) => a.name === name)) state.apps.delete(name);
      }
    }
    $("apps-empty").hidden = apps.length > 0;
    const total = apps.reduce((n, a) => n + a.instances.length, 0);
    setText($("shown"), f.text || f.status || f.app
      ? `showing ${shownInstances} of ${total} instances in ${shownApps} applications`
      : `${apps.length} applications, ${total} instances`);
  }

  function createApp(name) {
    const detailId = `app-${state.apps.size}-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const toggle = el("button", {
      type: "button", class: "expander", "aria-expanded": "false", "aria-controls": detailId,
      onclick: () => {
        if (state.expanded.has(name)) state.expanded.delete(name); else state.expanded.add(name);
        if (state.doc) renderApps(state.doc.apps);
      },
    }, el("span", { class: "chev", "aria-hidden": "true" }), el("span", { class: "app-name", text: name }));
    const row = el("tr", { class: "app-row", "data-app": name },
      el("th", { scope: "row", "data-label": "Application" }, toggle),
      el("td", { class: "counts", "data-label": "By status" }),
      el("td", { class: "num total", "data-label": "Total" }));
    const inner = el("table", { class: "instances" },
      el("thead", {}, el("tr", {},
        ...["Instance", "Host:port", "Status", "Zone", "Renewed", "Expires", "Registered", "Metadata", "Links", "Actions"]
          .map((h) => el("th", { scope: "col", text: h })))),
      el("tbody"));
    const detail = el("tr", { class: "detail", id: detailId, "data-app": name, hidden: true },
      el("td", { colspan: "3" }, el("div", { class: "table-wrap" }, inner)));
    const entry = { name, row, detail, toggle, body: inner.tBodies[0], rows: new Map() };
    state.apps.set(name, entry);
    return entry;
  }

  function updateApp(entry, app, visible, filtering) {
    const counts = entry.row.cells[1];
    const chips = STATUSES.filter((s) => app.counts[s]).map((s) => `${s}:${app.counts[s]}`).join(" ");
    if (counts.dataset.sig !== chips) {
      counts.dataset.sig = chips;
      counts.replaceChildren(...STATUSES.filter((s) => app.counts[s]).map((s) =>
        el("span", { class: `chip s-${s}`, text: `${s.replace(/_/g, " ")} ${app.counts[s]}` })));
    }
    setText(entry.row.cells[2], app.instances.length);
    const open = state.expanded.has(app.name) || filtering;
    setAttr(entry.toggle, "aria-expanded", String(open));
    entry.row.classList.toggle("open", open);
    entry.row.classList.toggle("has-problem", STATUSES.slice(1).some((s) => app.counts[s]));
    entry.detail.hidden = !open;
    if (!open) return;
    const seen = new Set();
    visible.forEach((inst, i) => {
      seen.add(inst.id);
      const row = entry.rows.get(inst.id) || createInstance(entry, inst);
      updateInstance(row, inst);
      if (entry.body.children[i] !== row) entry.body.insertBefore(row, entry.body.children[i] || null);
    });
    for (const [id, row] of entry.rows) {
      if (!seen.has(id)) { row.remove(); entry.rows.delete(id); }
    }
  }

  function createInstance(entry, inst) {
    const cell = (label, cls) => el("td", { "data-label": label, class: cls });
    const row = el("tr", { class: "inst", "data-id": inst.id },
      cell("Instance", "mono id"), cell("Host:port", "mono"), cell("Status"), cell("Zone"),
      cell("Last renewal", "num"), cell("Lease expires", "num"), cell("Registered", "num"),
      cell("Metadata", "meta"), cell("Links", "links"), cell("Actions", "actions"));
    entry.rows.set(inst.id, row);
    return row;
  }

  function updateInstance(row, inst) {
    const c = row.cells;
    setText(c[0], inst.id);
    setText(c[1], hostPort(inst));
    setAttr(c[1], "title", inst.ipAddr);
    // Status: a badge; non-UP stands out; an override or a failing health check is named.
    const downReason = (inst.health && inst.health.downReason) || "";
    const badgeSig = `${inst.status}|${inst.overriddenStatus || ""}|${downReason}`;
    if (c[2].dataset.sig !== badgeSig) {
      c[2].dataset.sig = badgeSig;
      const badge = el("span", { class: `badge s-${inst.status}`, text: inst.status.replace(/_/g, " ") });
      const note = inst.overriddenStatus
        ? [el("span", { class: "small muted", text: " override", title: `status override: ${inst.overriddenStatus}` })]
        : [];
      if (downReason) {
        note.push(el("span", { class: "small muted", text: ` ${downReason}`, title: `marked DOWN by ${inst.health.downBy || "a health check"}` }));
      }
      c[2].replaceChildren(badge, ...note);
    }
    row.classList.toggle("not-up", inst.status !== "UP");
    setText(c[3], inst.zone || "–");
    setText(c[4], ago(inst.lastRenewal));
    setAttr(c[4], "title", iso(inst.lastRenewal));
    setText(c[5], until(inst.expiresAt));
    setAttr(c[5], "title", iso(inst.expiresAt));
    c[5].classList.toggle("bad-text", !!inst.expired);
    setText(c[6], ago(inst.registeredAt));
    setAttr(c[6], "title", iso(inst.registeredAt));

    const metaSig = JSON.stringify(inst.metadata || {});
    if (c[7].dataset.sig !== metaSig) {
      c[7].dataset.sig = metaSig;
      const entries = Object.entries(inst.metadata || {});
      c[7].replaceChildren(...(entries.length
        ? entries.map(([k, v]) => el("span", { class: "kvchip", title: `${k}=${v}`, text: `${k}=${v}` }))
        : [el("span", { class: "muted", text: "–" })]));
    }
    const linkSig = `${inst.statusPageUrl}|${inst.healthCheckUrl}|${inst.homePageUrl}`;
    if (c[8].dataset.sig !== linkSig) {
      c[8].dataset.sig = linkSig;
      const links = [["status", inst.statusPageUrl], ["health", inst.healthCheckUrl], ["home", inst.homePageUrl]]
        .filter(([, u]) => isHttp(u))
        .map(([label, u]) => el("a", { href: u, target: "_blank", rel: "noopener noreferrer", title: u, text: label }));
      c[8].replaceChildren(...(links.length ? links : [el("span", { class: "muted", text: "–" })]));
    }
    const actSig = `${inst.status}|${inst.overriddenStatus || ""}`;
    if (c[9].dataset.sig !== actSig) {
      c[9].dataset.sig = actSig;
      c[9].replaceChildren(...actions(inst));
    }
  }

  function actions(inst) {
    const who = `${inst.app} / ${inst.id}`;
    const base = `${EUREKA}apps/${encodeURIComponent(inst.app)}/${encodeURIComponent(inst.id)}`;
    const btn = (label, cls, aria, question, method, url, done) => el("button", {
      type: "button", class: `act ${cls}`, "aria-label": `${aria} ${who}`, text: label,
      onclick: (ev) => act(ev.currentTarget, question, method, url, done),
    });
    const out = [];
    if (inst.status !== "OUT_OF_SERVICE") {
      out.push(btn("Take out of service", "", "Take out of service:",
        `Take ${who} out of service?\n\nClients stop sending it traffic (status override OUT_OF_SERVICE).`,
        "PUT", `${base}/status?value=OUT_OF_SERVICE`, `${who} taken out of service`));
    } else {
      out.push(btn("Back in service", "", "Put back in service:",
        `Put ${who} back in service?\n\nSets the status override to UP.`,
        "PUT", `${base}/status?value=UP`, `${who} back in service`));
    }
    if (inst.overriddenStatus) {
      out.push(btn("Remove override", "", "Remove the status override of",
        `Remove the status override of ${who}?\n\nIts status becomes UNKNOWN until its next heartbeat, when it registers again with the status it reports itself.`,
        "DELETE", `${base}/status`, `override of ${who} removed`));
    }
    out.push(btn("Cancel lease", "danger", "Cancel the lease of",
      `Cancel the lease of ${who}?\n\nIt disappears from the registry. A running instance registers again on its next heartbeat.`,
      "DELETE", base, `lease of ${who} cancelled`));
    return out;
  }

  async function act(button, question, method, url, done) {
    if (!window.confirm(question)) return;
    button.disabled = true;
    try {
      const r = await fetch(url, { method, headers: { Accept: "application/json" } });
      if (!r.ok) {
        const text = (await r.text()).slice(0, 200);
        toast(`Failed (HTTP ${r.status})${text ? `: ${text}` : ""}`, true);
      } else {
        toast(done);
      }
    } catch (e) {
      toast(`Failed: ${e.message}`, true);
    } finally {
      button.disabled = false;
      poll();
    }
  }

  function renderEvents(doc) {
    const body = $("events").tBodies[0];
    const events = doc.events;
    while (body.rows.length > events.length) body.deleteRow(-1);
    events.forEach((e, i) => {
      let row = body.rows[i];
      if (!row) {
        row = el("tr", {}, el("td", { class: "num", "data-label": "Time" }), el("td", { "data-label": "Event" }),
          el("td", { class: "mono", "data-label": "Instance" }));
        body.append(row);
      }
      setText(row.cells[0], clock(e.at).slice(11));
      setAttr(row.cells[0], "title", iso(e.at));
      setText(row.cells[1], e.kind.toLowerCase());
      row.cells[1].className = `kind k-${e.kind}`;
      setText(row.cells[2], `${e.app} (${e.id})`);
    });
    setText($("events-note"), events.length
      ? `Newest first: ${events.length} of ${doc.eventsTotal} kept since start-up (the last 1000 registrations and the last 1000 cancellations or evictions).`
      : "No registrations or cancellations since start-up.");
  }

  function renderInfo(doc) {
    const i = doc.info;
    const rows = [
      ["Version", `eureka-rs ${i.version}`],
      ["Node", `${i.node.id} (${i.node.ipAddr})`],
      ["CPUs", i.cpus],
      ["Memory in use", i.memoryUsage],
      ["Machine memory", i.memoryTotal],
      ["Registry version", doc.version],
      ["Status overrides", doc.system.statusOverrides],
      ["Expected renews / min", Math.round(doc.system.expectedRenewsPerMin)],
      ...i.config,
    ];
    const dl = $("info");
    const sig = rows.map((r) => r.join("=")).join("\n");
    if (dl.dataset.sig === sig) return;
    dl.dataset.sig = sig;
    dl.replaceChildren(...rows.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { class: "mono", text: String(v) }))));
  }

  // ------------------------------------------------------------------ wiring

  $("filters").addEventListener("submit", (e) => e.preventDefault());
  for (const id of ["f-text", "f-app", "f-status"]) {
    $(id).addEventListener("input", () => state.doc && renderApps(state.doc.apps));
  }
  $("events-more").addEventListener("click", (e) => {
    const more = state.events !== 1000;
    state.events = more ? 1000 : 100;
    e.currentTarget.setAttribute("aria-pressed", String(more));
    e.currentTarget.textContent = more ? "Show the last 100" : "Show the last 1000";
    poll();
  });
  // Relative times keep moving between polls without re-fetching.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  loop();
})();
