// The registry console's entry module: reads the view from the address, wires the data
// sources to the views, and keeps the address in step with the filters, so a link, a reload
// or back/forward shows the same view.

import { $ } from "./dom.js";
import { Actions } from "./actions.js";
import { InstancePage } from "./instance.js";
import { Live } from "./live.js";
import { parseView, viewUrl } from "./model.js";
import { Overview } from "./overview.js";
import { renderBanners, renderCards, renderConnection, renderHeader, setBase } from "./view.js";

/** Applications named in a summary request before it asks for every lease instead. */
const MAX_LEASE_APPS = 30;

const base = document.body.dataset.base;
const eureka = document.body.dataset.eureka;
setBase(base);

let view = parseView(location.pathname, location.search, base);
let connection = { ok: false, loaded: false, lostSince: null, problem: "" };
let leasesAsked = "";

const live = new Live({
  eureka,
  summaryUrl: `${base}/api/console/summary`,
  onChange: render,
  onConnection: (state) => {
    connection = state;
    renderConnection(state, live.now());
    renderBanners(live, connection);
  },
});
const actions = new Actions(eureka, () => live.refresh());
const overview = new Overview(live, actions, navigate);
const instancePage = new InstancePage(live, actions, `${base}/api/console/instance`);

/** The applications whose live lease times the next summary should carry. */
live.leasesFor = () => {
  const apps = view.page === "instance" ? [view.app] : overview.visibleApps();
  return apps.length > MAX_LEASE_APPS ? "*" : apps.join(",");
};

/** Whether the next summary should carry the remote regions' instances (their list is open). */
live.remoteWanted = () => view.page === "overview" && $("remote-details").open;
$("remote-details").addEventListener("toggle", () => {
  if ($("remote-details").open) live.refresh();
});

function title() {
  return view.page === "instance" ? view.id : view.page === "app" ? view.app : "";
}

function render(what) {
  renderHeader(live.summary, title());
  renderCards(live, (status) => viewUrl({ ...view, page: view.page === "app" ? "app" : "overview", id: null, status }, base));
  renderBanners(live, connection);
  renderConnection(connection, live.now());
  const onInstance = view.page === "instance";
  $("view-overview").hidden = onInstance;
  $("view-instance").hidden = !onInstance;
  if (onInstance) instancePage.render(view, what);
  else overview.render(view);
  syncFilters();
  // Rows opened since the last summary need their lease times now, not in five seconds.
  const wanted = live.leasesFor();
  if (wanted !== leasesAsked) {
    leasesAsked = wanted;
    if (live.summary) live.refresh();
  }
}

/** Shows `next` (a view) or, with null, re-renders the current one. */
function navigate(next, { replace = false } = {}) {
  if (next) {
    const url = viewUrl(next, base);
    if (url !== location.pathname + location.search) {
      if (replace) history.replaceState(null, "", url);
      else history.pushState(null, "", url);
    }
    const page = view.page;
    view = parseView(location.pathname, location.search, base);
    if (view.page !== page) window.scrollTo(0, 0);
  }
  render(new Set(["view"]));
}

function syncFilters() {
  const q = $("f-q");
  if (document.activeElement !== q && q.value !== view.q) q.value = view.q;
  if ($("f-status").value !== view.status) $("f-status").value = view.status;
  if ($("f-sort").value !== view.sort) $("f-sort").value = view.sort;
}

// Links inside the console change the view without reloading the page.
document.addEventListener("click", (e) => {
  const a = e.target.closest("a[href]");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || a.target) return;
  const inside = url.pathname === `${base}/` || url.pathname === base || url.pathname.startsWith(`${base}/apps/`);
  if (!inside) return;
  e.preventDefault();
  const page = view.page;
  history.pushState(null, "", url.pathname + url.search + url.hash);
  view = parseView(location.pathname, location.search, base);
  render(new Set(["view"]));
  if (url.hash) document.getElementById(url.hash.slice(1))?.scrollIntoView();
  else if (view.page !== page) window.scrollTo(0, 0);
});
window.addEventListener("popstate", () => {
  view = parseView(location.pathname, location.search, base);
  render(new Set(["view"]));
});

$("filters").addEventListener("submit", (e) => e.preventDefault());
let typing;
$("f-q").addEventListener("input", () => {
  clearTimeout(typing);
  // Typing replaces the address (one history entry per search, not per key).
  typing = setTimeout(() => navigate({ ...view, q: $("f-q").value.trim() }, { replace: true }), 150);
});
$("f-status").addEventListener("change", () => navigate({ ...view, status: $("f-status").value }));
$("f-sort").addEventListener("change", () => navigate({ ...view, sort: $("f-sort").value }));
$("events-more").addEventListener("click", (e) => {
  const more = live.events !== 1000;
  live.events = more ? 1000 : 100;
  e.currentTarget.setAttribute("aria-pressed", String(more));
  e.currentTarget.textContent = more ? "Show the last 100" : "Show the last 1000";
  live.refresh();
});

// Relative times ("12 s ago") move on between updates.
setInterval(() => {
  if (!document.hidden && live.loaded) render(new Set(["tick"]));
}, 1000);

live.start();
