// Shared helpers for ORCA's pages: fetch the JSON API, build elements, show status in words.
// Every page reads only /api/v1 — what a person sees is what an agent can fetch.

export async function api(path, init) {
  const r = await fetch("/api/v1" + path, init);
  let doc = null;
  try { doc = await r.json(); } catch (_) { doc = null; }
  if (!r.ok) {
    const msg = doc && doc.error ? doc.error.message : `HTTP ${r.status}`;
    const err = new Error(msg);
    err.code = doc && doc.error ? doc.error.code : String(r.status);
    throw err;
  }
  return doc;
}

export function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

const SVGNS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, v);
  for (const kid of kids.flat()) if (kid) e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return e;
}

// Status as a symbol and a word (never colour alone).
const MARKS = {
  ok: "✓", error: "✖", failed: "✖", crashed: "☠", unfinished: "◌", open: "◌", running: "◌",
  expired: "⌛", dead: "✖", "dead-letter": "✖", rejected: "✖", done: "✓", completed: "✓", ended: "✓",
};
export function status(s) {
  const word = s || "unknown";
  return el("span", { class: `st st-${word}` }, `${MARKS[word] || "•"} ${word}`);
}

export function fmtDur(ns) {
  if (ns === null || ns === undefined) return "—";
  const ms = ns / 1e6;
  if (ms < 1) return `${(ns / 1e3).toFixed(0)}µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)}ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(s < 10 ? 2 : 1)}s`;
  return `${(s / 60).toFixed(1)}m`;
}
export const fmtMs = (ms) => (ms === null || ms === undefined ? "—" : fmtDur(ms * 1e6));
export function fmtCost(usd) {
  if (!usd) return "$0";
  return usd < 0.01 ? `$${usd.toFixed(5)}` : `$${usd.toFixed(3)}`;
}
export function fmtTime(ns) {
  if (!ns) return "—";
  return new Date(ns / 1e6).toISOString().replace("T", " ").slice(0, 19);
}
export const short = (id, n = 12) => (id ? String(id).slice(0, n) : "—");

export function banner(msg) {
  const b = document.getElementById("banner");
  if (!msg) { b.hidden = true; return; }
  b.textContent = msg;
  b.hidden = false;
}

// Run an async loader; a failure becomes one readable line, never an uncaught error.
export async function guard(fn) {
  try { return await fn(); } catch (e) { banner(e.message || String(e)); return null; }
}

// Keyboard: "/" focuses the page's search box; Esc calls onEscape; j/k/Enter via listKeys.
export function keys({ onJ, onK, onEnter, onEscape } = {}) {
  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    const typing = t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
    if (ev.key === "Escape") { if (typing) t.blur(); if (onEscape) onEscape(); return; }
    if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "/") {
      const s = document.querySelector("[data-search]");
      if (s) { ev.preventDefault(); s.focus(); }
    } else if (ev.key === "j" && onJ) { ev.preventDefault(); onJ(); }
    else if (ev.key === "k" && onK) { ev.preventDefault(); onK(); }
    else if (ev.key === "Enter" && onEnter && !(t && (t.tagName === "BUTTON" || t.tagName === "A"))) {
      ev.preventDefault(); onEnter();
    }
  });
}

// j/k over the rows of a table body, Enter follows the row's link.
export function tableKeys(tbody) {
  let i = -1;
  const rows = () => Array.from(tbody.querySelectorAll("tr"));
  const pick = (n) => {
    const rs = rows();
    if (!rs.length) return;
    i = Math.max(0, Math.min(rs.length - 1, n));
    rs.forEach((r, k) => r.classList.toggle("sel", k === i));
    rs[i].scrollIntoView({ block: "nearest" });
  };
  keys({
    onJ: () => pick(i + 1),
    onK: () => pick(i - 1),
    onEnter: () => { const a = rows()[i] && rows()[i].querySelector("a"); if (a) a.click(); },
  });
}

// A tooltip for chart marks: the exact number on hover or focus.
let tipEl = null;
export function tip(target, text) {
  const show = (ev) => {
    if (!tipEl) { tipEl = el("div", { class: "tip", role: "tooltip" }); document.body.append(tipEl); }
    tipEl.textContent = text;
    const r = target.getBoundingClientRect();
    tipEl.style.left = `${(ev && ev.clientX) || r.left}px`;
    tipEl.style.top = `${r.top - 26}px`;
    tipEl.hidden = false;
  };
  const hide = () => { if (tipEl) tipEl.hidden = true; };
  target.addEventListener("mouseenter", show);
  target.addEventListener("focus", show);
  target.addEventListener("mouseleave", hide);
  target.addEventListener("blur", hide);
  target.append(svg("title", {}, text));
}

// replaceChildren that skips absent parts (null, false) and flattens lists.
export function fill(target, ...kids) {
  target.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
}
