// DOM helpers. Every value from the registry is set as text (textContent) or as an
// attribute, never as markup: a registered instance chooses its id, metadata and URLs.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/**
 * Creates an element. `attrs`: `class`, `text` (textContent), `on<event>` listeners, and
 * attributes (`true` for a bare attribute; null, undefined and false are left out).
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** Sets text only when it changed, so the DOM is touched as little as possible. */
export function setText(node, text) {
  const t = text === undefined || text === null ? "" : String(text);
  if (node.textContent !== t) node.textContent = t;
}

/** Sets (or, for null/undefined, removes) an attribute only when it changed. */
export function setAttr(node, name, value) {
  if (value === null || value === undefined) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, value);
  }
}

/** Replaces a node's children when `sig` differs from the last one rendered into it. */
export function renderOnce(node, sig, build) {
  if (node.dataset.sig === sig) return false;
  node.dataset.sig = sig;
  node.replaceChildren(...build());
  return true;
}

/** Copies text to the clipboard (or selects it where the clipboard API is not allowed). */
export async function copy(text, node) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return false;
  }
}
