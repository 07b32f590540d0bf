// Operator actions: an in-page dialog that names the instance and the consequence and takes
// an optional reason, the Eureka API call (with `reason=`), and a toast whose Undo reverts
// exactly what was done.

import { $, el, setText } from "./dom.js";
import { address } from "./format.js";

const UNDO_MS = 12000;

/** The actions offered for an instance, as `{id, label, danger}`. */
export function actionsFor(inst) {
  const out = [];
  if (inst.overriddenStatus === "OUT_OF_SERVICE" || inst.status === "OUT_OF_SERVICE") {
    if (inst.overriddenStatus) out.push({ id: "in", label: "Back in service" });
  } else {
    out.push({ id: "out", label: "Take out of service" });
    out.push({ id: "drain", label: "Drain" });
  }
  if (inst.overriddenStatus && inst.overriddenStatus !== "OUT_OF_SERVICE") {
    out.push({ id: "clear", label: "Remove override" });
  }
  out.push({ id: "cancel", label: "Cancel lease", danger: true });
  return out;
}

/** What each action says before it is confirmed. */
function describe(action, inst) {
  const to = inst.overriddenStatus;
  switch (action) {
    case "out":
      return ["Take out of service", "Sets the status override OUT_OF_SERVICE: clients stop sending it traffic at their next registry fetch (at once for change-stream clients). The process keeps running and renewing."];
    case "drain":
      return ["Drain", "Sets OUT_OF_SERVICE like “Take out of service”, then waits up to 30 s until every client of this node that follows the change stream or names itself has seen it, and shows who has not."];
    case "in":
      return ["Back in service", `Removes the ${to} override. The instance reports its own status again: its next heartbeat re-registers it (within its renewal interval, usually 30 s).`];
    case "clear":
      return ["Remove override", `Removes the ${to} override; the instance reports its own status at its next heartbeat.`];
    default:
      return ["Cancel lease", "Removes it from the registry now. Clients stop calling it; a process that is still running registers again at its next heartbeat."];
  }
}

/** The API call of an action on `inst` (and what undoes it), as `{method, path, undo}`. */
export function plan(action, inst) {
  const path = `apps/${encodeURIComponent(inst.app)}/${encodeURIComponent(inst.id)}`;
  const restore = inst.overriddenStatus
    ? { method: "PUT", path: `${path}/status?value=${inst.overriddenStatus}` }
    : { method: "DELETE", path: `${path}/status?value=${inst.status}` };
  switch (action) {
    case "out":
      return { method: "PUT", path: `${path}/status?value=OUT_OF_SERVICE`, undo: restore };
    case "drain":
      return { method: "POST", path: `${path}/drain?wait=30`, undo: restore };
    case "in":
    case "clear":
      return { method: "DELETE", path: `${path}/status`, undo: restore };
    default:
      return {
        method: "DELETE",
        path,
        undo: { method: "POST", path: `apps/${encodeURIComponent(inst.app)}`, body: { instance: inst.raw } },
      };
  }
}

export class Actions {
  /** `eureka`: the API's path; `after()` runs after every call (to refresh the page). */
  constructor(eureka, after) {
    this.eureka = eureka;
    this.after = after;
    this.dialog = $("confirm");
    this.form = $("confirm-form");
    this.dialog.addEventListener("close", () => this.closed());
    $("toast-close").addEventListener("click", () => this.hideToast());
  }

  /** Opens the dialog for `action` on `inst`. */
  ask(action, inst) {
    const [title, consequence] = describe(action, inst);
    this.pending = { action, inst };
    setText($("confirm-title"), `${title}: ${inst.app} / ${inst.id}?`);
    setText($("confirm-what"), `${inst.app} / ${inst.id} at ${address(inst)} (${inst.status}${inst.overriddenStatus ? `, override ${inst.overriddenStatus}` : ""})`);
    setText($("confirm-consequence"), consequence);
    $("confirm-reason").value = "";
    const ok = $("confirm-ok");
    setText(ok, title);
    ok.classList.toggle("danger", action === "cancel");
    this.dialog.returnValue = "";
    this.dialog.showModal();
    $("confirm-reason").focus();
  }

  async closed() {
    const pending = this.pending;
    this.pending = null;
    if (!pending || this.dialog.returnValue !== "ok") return;
    const reason = $("confirm-reason").value.trim();
    const [title] = describe(pending.action, pending.inst);
    const who = `${pending.inst.app} / ${pending.inst.id}`;
    const step = plan(pending.action, pending.inst);
    const result = await this.call(step, reason);
    if (!result.ok) {
      this.toast(`${title} failed for ${who}: ${result.message}`, { bad: true });
    } else {
      let message = `${title}: ${who} done${reason ? ` (reason: ${reason})` : ""}.`;
      if (pending.action === "drain") message = `${who}: ${drainReport(result.body)}`;
      this.toast(message, { undo: () => this.undo(step.undo, title, who, reason) });
    }
    this.after();
  }

  async undo(step, title, who, reason) {
    const result = await this.call(step, `undo: ${reason || title}`);
    this.toast(result.ok ? `Undone: ${title} of ${who}.` : `Undo failed for ${who}: ${result.message}`, { bad: !result.ok });
    this.after();
  }

  /** Makes one call; `{ok, message, body}`. */
  async call(step, reason) {
    let url = `${this.eureka}${step.path}`;
    // A registration (the undo of a cancel) carries no reason: it is the instance's own call.
    if (reason && !step.body) url += `${url.includes("?") ? "&" : "?"}reason=${encodeURIComponent(reason)}`;
    const init = { method: step.method, headers: { Accept: "application/json" } };
    if (step.body) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(step.body);
    }
    try {
      const r = await fetch(url, init);
      const text = await r.text();
      if (!r.ok) return { ok: false, message: `HTTP ${r.status}${text ? `: ${text.slice(0, 200)}` : ""}` };
      return { ok: true, body: text };
    } catch (e) {
      return { ok: false, message: e.message };
    }
  }

  toast(message, { bad = false, undo = null } = {}) {
    const t = $("toast");
    setText($("toast-text"), message);
    t.classList.toggle("bad", bad);
    const button = $("toast-undo");
    button.hidden = !undo;
    button.onclick = undo ? () => { this.hideToast(); undo(); } : null;
    t.hidden = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.hideToast(), undo ? UNDO_MS : 6000);
  }

  hideToast() {
    $("toast").hidden = true;
  }
}

/** A drain's answer in words: who has seen it, who has not. */
export function drainReport(body) {
  try {
    const r = JSON.parse(body);
    const clients = r.clients.seen.length + r.clients.pending.length;
    const pending = [...r.watchers.pending, ...r.clients.pending];
    const seen = `out of service; seen by ${r.watchers.seen}/${r.watchers.total} watchers and ${r.clients.seen.length}/${clients} clients`;
    return r.complete ? `${seen}: safe to stop.` : `${seen}; not seen yet by ${pending.join(", ")}.`;
  } catch {
    return "out of service (drain report unreadable).";
  }
}

/** Short labels for the dense table. */
const SHORT = { out: "Out of service", in: "In service", clear: "Clear override", cancel: "Cancel" };

/** Buttons for the actions on `inst`, each opening the dialog; `compact` for table rows. */
export function actionButtons(actions, inst, compact) {
  return actionsFor(inst)
    .filter((a) => !compact || a.id !== "drain")
    .map((a) => el("button", {
      type: "button",
      class: `act${a.danger ? " danger" : ""}`,
      "aria-label": `${a.label}: ${inst.app} / ${inst.id}`,
      title: a.label,
      text: compact ? SHORT[a.id] || a.label : a.label,
      onclick: () => actions.ask(a.id, inst),
    }));
}
