// Pure formatting: durations, times and ordering. No DOM, so `node --test` runs it.

/** A duration in words: `42 s`, `5 min`, `3 h 20 min`, `2 d 4 h`. */
export function span(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** `12 s ago`, or `never` for a missing time. */
export function ago(ms, now) {
  return ms ? `${span(now - ms)} ago` : "never";
}

/** `in 80 s`, or `expired 3 min ago`. */
export function until(ms, now) {
  const d = ms - now;
  return d >= 0 ? `in ${span(d)}` : `expired ${span(-d)} ago`;
}

/** RFC 3339 in UTC without milliseconds, or "" for a missing time. */
export function iso(ms) {
  return ms ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z") : "";
}

/** Local wall-clock time, `HH:MM:SS`. */
export function clock(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Natural order: `orders-2` before `orders-10`, case-insensitive. */
export function naturalCompare(a, b) {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** `ip:port` (or the host when there is no IP), the secure port when only that is enabled. */
export function address(inst) {
  const host = inst.ipAddr || inst.hostName || "?";
  const shown = host.includes(":") ? `[${host}]` : host;
  if (inst.port !== null) return `${shown}:${inst.port}`;
  if (inst.securePort !== null) return `${shown}:${inst.securePort}`;
  return shown;
}

/** Whether a URL may become a link: http(s) only, never `javascript:` or `data:`. */
export function isHttp(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url.trim());
}

/** `OUT_OF_SERVICE` → `OUT OF SERVICE`. */
export const statusLabel = (s) => String(s).replace(/_/g, " ");
