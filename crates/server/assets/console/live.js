// Where the page's data comes from, and whether it is current.
//
// Instances: `GET {eureka}apps` once (gzip, from the server's response cache), then the
// change stream `GET {eureka}watch?since=VERSION` (server-sent events): one small event per
// change, nothing while nothing changes. The rest (status, self-preservation, peers, expired
// leases, events, and live lease times of the applications on screen) is the console's
// summary, polled every few seconds. A failed poll or a broken stream marks the data stale
// until both work again.

import { Mirror } from "./model.js";

/** How often the summary is read while the page is visible, and while it is hidden. */
export const SUMMARY_MS = 5000;
const HIDDEN_SUMMARY_MS = 30000;
/** Longest wait between retries after failures. */
const MAX_BACKOFF_MS = 10000;

export class Live {
  /**
   * `eureka`: the Eureka API's path (`/eureka/`); `api`: the console's summary address.
   * `onChange(what)` is called (at most once per frame) with `registry` and/or `summary`;
   * `onConnection(state)` whenever the connection state changes.
   */
  constructor({ eureka, summaryUrl, onChange, onConnection }) {
    this.eureka = eureka;
    this.summaryUrl = summaryUrl;
    this.onChange = onChange;
    this.onConnection = onConnection;
    this.mirror = new Mirror();
    this.summary = null;
    this.skew = 0; // server time − local time
    this.events = 100;
    this.leasesFor = () => "";
    this.remoteWanted = () => false;
    this.stream = null;
    this.streamOk = false;
    this.summaryOk = false;
    this.loaded = false;
    this.failures = 0;
    this.lostSince = null;
    this.lastProblem = "";
    this.pending = new Set();
    this.summaryTimer = null;
    this.stats = { snapshots: 0, changes: 0, fullReads: 0, summaries: 0 };
  }

  /** The server's clock, as far as the last summary tells. */
  now() {
    return Date.now() + this.skew;
  }

  start() {
    this.loadRegistry();
    this.pollSummary();
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.refresh();
    });
  }

  /** Reads the summary now (after an action, or when the view needs other leases). */
  refresh() {
    clearTimeout(this.summaryTimer);
    this.pollSummary();
  }

  /** Whether the data on screen is current. */
  get connected() {
    return this.streamOk && this.summaryOk;
  }

  changed(what) {
    this.pending.add(what);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      const what = new Set(this.pending);
      this.pending.clear();
      this.onChange(what);
    });
  }

  connection() {
    const ok = this.connected;
    if (!ok && this.lostSince === null && this.loaded) this.lostSince = this.now();
    if (ok) this.lostSince = null;
    this.onConnection({ ok, loaded: this.loaded, lostSince: this.lostSince, problem: this.lastProblem });
  }

  async loadRegistry() {
    try {
      const r = await fetch(`${this.eureka}apps`, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!r.ok) throw new Error(await problem(r));
      const version = Number(r.headers.get("X-Eureka-Version")) || 0;
      this.mirror.replace(await r.json(), version);
      this.stats.fullReads += 1;
      this.loaded = true;
      this.changed("registry");
      this.follow(version);
    } catch (e) {
      this.streamOk = false;
      this.lastProblem = `reading ${this.eureka}apps: ${e.message}`;
      this.connection();
      setTimeout(() => this.loadRegistry(), this.backoff());
    }
  }

  /** Follows the change stream from `version`; the browser reconnects with Last-Event-ID. */
  follow(version) {
    if (this.stream) this.stream.close();
    const stream = new EventSource(`${this.eureka}watch?since=${version}`);
    this.stream = stream;
    stream.addEventListener("open", () => {
      this.streamOk = true;
      this.failures = 0;
      this.connection();
    });
    stream.addEventListener("snapshot", (e) => {
      this.mirror.replace(JSON.parse(e.data), Number(e.lastEventId));
      this.stats.snapshots += 1;
      this.changed("registry");
    });
    stream.addEventListener("change", (e) => {
      this.mirror.apply(JSON.parse(e.data));
      this.stats.changes += 1;
      this.changed("registry");
    });
    stream.addEventListener("error", () => {
      this.streamOk = false;
      this.lastProblem = "the change stream was interrupted";
      this.connection();
      if (stream.readyState === EventSource.CLOSED) {
        // Refused outright (e.g. 401/403): start over from a full read after a pause.
        stream.close();
        setTimeout(() => this.loadRegistry(), this.backoff());
      }
    });
  }

  backoff() {
    this.failures += 1;
    return Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures, 5));
  }

  async pollSummary() {
    const params = new URLSearchParams({ events: String(this.events) });
    const leases = this.leasesFor();
    if (leases) params.set("leases", leases);
    if (this.remoteWanted()) params.set("remote", "1");
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 5000);
    let next = document.hidden ? HIDDEN_SUMMARY_MS : SUMMARY_MS;
    try {
      const r = await fetch(`${this.summaryUrl}?${params}`, { cache: "no-store", signal: ctl.signal });
      if (!r.ok) throw new Error(await problem(r));
      const summary = await r.json();
      this.skew = summary.now - Date.now();
      this.summary = summary;
      this.stats.summaries += 1;
      this.summaryOk = true;
      this.changed("summary");
    } catch (e) {
      this.summaryOk = false;
      this.lastProblem = e.name === "AbortError" ? "the server did not answer within 5 s" : e.message;
      next = Math.min(next, this.backoff());
    } finally {
      clearTimeout(timer);
      this.connection();
      this.summaryTimer = setTimeout(() => this.pollSummary(), next);
    }
  }
}

/** What a failed answer says, in one line. */
async function problem(r) {
  const text = (await r.text().catch(() => "")).trim().slice(0, 200);
  return `HTTP ${r.status}${text ? `: ${text}` : ""}`;
}
