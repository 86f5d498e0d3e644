// /traces/{id}: findings on top, then the timeline — a virtualised waterfall.
// Only the rows in view (plus a margin) are in the DOM, so a 10,000-span trace
// scrolls as lightly as a 10-span one; rows arrive in slices from
// /api/v1/traces/{id}/timeline and the first slice paints before the rest arrive.
import { api, el, svg, status, fmtDur, fmtCost, short, guard, keys } from "/static/orca.js";
import { renderSpan } from "/static/spanview.js";

const ROW = 22;
const MARGIN = 12;
const FIRST = 300; // = FIRST_ROWS in _pages.py (the head prefetches exactly this slice)
const SLICE = 5000;
const main = document.getElementById("main");
const traceRef = main.dataset.trace;
const box = document.getElementById("timeline");
const panel = document.getElementById("panel");
const panelBody = document.getElementById("panel-body");

let doc = null;
let rows = [];
let groups = [];
let links = [];
const expanded = new Set();
let visible = [];
let sel = -1;
const hl = new Set();
let previous = null;
let total = 1;

const spacer = el("div", { class: "tl-spacer" });
const win = el("div", {});
const linkLayer = svg("svg", { class: "links", preserveAspectRatio: "none", "aria-hidden": "true" });
spacer.append(win, linkLayer);
box.append(spacer);

function rebuild() {
  visible = [];
  const seen = new Set();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r.group !== null && !expanded.has(r.group)) {
      if (!seen.has(r.group)) { seen.add(r.group); visible.push({ fold: r.group, depth: r.depth }); }
      continue;
    }
    visible.push({ row: i });
  }
  spacer.style.height = `${visible.length * ROW}px`;
  paint();
}

function bars(r, y) {
  // y: the row's top inside the window's one SVG (a single SVG per window, not one per row).
  const x = (r.offset_ns / total) * 1000;
  const open = r.duration_ns === null;
  const w = open ? Math.max(2, 1000 - x) : Math.max(2, (r.duration_ns / total) * 1000);
  const out = [svg("rect", { class: `bar ${r.status}`, x, y: y + 5, width: w, height: 12 })];
  if (open || r.status === "crashed") out.push(svg("rect", { x: Math.min(996, x + w - 4), y: y + 2, width: 4, height: 18, fill: "#8a4b00" }));
  return out;
}

function rowEl(item, pos) {
  const top = `${pos * ROW}px`;
  if (item.fold !== undefined) {
    const g = groups[item.fold];
    const d = el("div", { class: "row fold", style: `top:${top}`, role: "row", "data-fold": g.id,
      onclick: () => { expanded.add(g.id); rebuild(); } },
      el("span", { class: "lab", style: `padding-left:${6 + item.depth * 12}px` },
        `▸ … ${g.hidden} more ${g.name} spans (Σ${g.duration}) — click or Enter to expand`),
      el("span", {}));
    return d;
  }
  const r = rows[item.row];
  const gov = r.ledger.map((e) => el("span", { class: `gov${e.alarm ? " alarm" : ""}`, title: `ledger entry #${e.id}` },
    `⛓#${e.id} ${e.alarm ? "✖ " : ""}${e.kind}${e.actor ? " by " + e.actor : ""}`));
  const nlinks = links.filter((l) => l.from === r.span || l.to === r.span).length;
  const classes = ["row", r.status];
  if (hl.has(r.span)) classes.push("hl");
  if (pos === sel) classes.push("sel");
  return el("div", { class: classes.join(" "), style: `top:${top}`, role: "row", "data-span": r.span,
    "aria-selected": pos === sel ? "true" : "false", onclick: () => { select(pos); open(); } },
    el("span", { class: "lab", style: `padding-left:${6 + r.depth * 12}px` },
      status(r.status), el("span", { class: "mono" }, short(r.span, 8)), " ", r.text,
      nlinks ? el("span", { class: "mark", title: "causally linked" }, ` ↗${nlinks}`) : null,
      r.status === "crashed" ? el("span", { class: "mark" }, " ☠ crash") : null,
      r.duration_ns === null && r.status !== "crashed" ? el("span", { class: "mark" }, " ◌ never closed") : null,
      gov),
    el("span", {}));
}

let drawn = "";
const live = new Map(); // window position -> its row element
function paint(force = true) {
  // A scroll inside the drawn margin changes nothing: only redraw when the window moves a
  // quarter margin or more (or when rows, folds, selection or highlights changed: force).
  const first = Math.max(0, Math.floor(box.scrollTop / ROW) - MARGIN);
  const last = Math.min(visible.length, Math.ceil((box.scrollTop + box.clientHeight) / ROW) + MARGIN);
  const key = `${Math.floor(first / (MARGIN / 4))}:${Math.floor(last / (MARGIN / 4))}:${visible.length}`;
  if (!force && key === drawn) return;
  drawn = key;
  // Rows still in the window are kept; only those scrolled in are built (a forced paint —
  // new rows, a fold opened, the selection moved — rebuilds the window).
  if (force) { live.clear(); win.replaceChildren(); }
  for (const [p, e] of live) if (p < first || p >= last) { e.remove(); live.delete(p); }
  const fresh = document.createDocumentFragment();
  const marks = [];
  const where = new Map();
  for (let p = first; p < last; p++) {
    if (!live.has(p)) { const e = rowEl(visible[p], p); live.set(p, e); fresh.append(e); }
    if (visible[p].row !== undefined) {
      where.set(rows[visible[p].row].span, p);
      marks.push(...bars(rows[visible[p].row], (p - first) * ROW));
    }
  }
  win.append(fresh);
  const paths = [];
  for (const l of links) {
    const a = where.get(l.from);
    const b = where.get(l.to);
    if (a === undefined || b === undefined) continue;
    const ra = rows[visible[a].row];
    const rb = rows[visible[b].row];
    const xa = (ra.offset_ns / total) * 1000;
    const xb = (rb.offset_ns / total) * 1000;
    const ya = (a - first) * ROW + 11;
    const yb = (b - first) * ROW + 11;
    paths.push(svg("path", { d: `M${xa} ${ya} C${xa - 40} ${ya}, ${xb - 40} ${yb}, ${xb} ${yb}`, "vector-effect": "non-scaling-stroke" },
      svg("title", {}, `${l.reason || "link"}: ${short(l.from, 8)} → ${short(l.to, 8)}`)));
  }
  const h = Math.max(1, (last - first) * ROW);
  linkLayer.setAttribute("viewBox", `0 0 1000 ${h}`);
  linkLayer.setAttribute("height", `${h}`);
  linkLayer.style.top = `${first * ROW}px`;
  linkLayer.replaceChildren(...marks, ...paths);
}

function select(pos) {
  if (!visible.length) return;
  sel = Math.max(0, Math.min(visible.length - 1, pos));
  const top = sel * ROW;
  if (top < box.scrollTop) box.scrollTop = top;
  else if (top + ROW > box.scrollTop + box.clientHeight) box.scrollTop = top + ROW - box.clientHeight;
  paint();
}

async function openSpan(spanId) {
  panel.hidden = false;
  await guard(() => renderSpan(panelBody, spanId, { onSpan: (id) => reveal(id, true), previous }));
  previous = spanId;
  history.replaceState(null, "", `#${spanId}`);
}

function open() {
  const item = visible[sel];
  if (!item) return;
  if (item.fold !== undefined) { expanded.add(item.fold); rebuild(); return; }
  openSpan(rows[item.row].span);
}

function reveal(spanId, andOpen) {
  const i = rows.findIndex((r) => r.span === spanId);
  if (i < 0) { if (andOpen) openSpan(spanId); return; }
  if (rows[i].group !== null && !expanded.has(rows[i].group)) { expanded.add(rows[i].group); rebuild(); }
  const pos = visible.findIndex((v) => v.row === i);
  select(pos);
  if (andOpen) openSpan(spanId);
}

function close() { panel.hidden = true; box.focus(); }

function summary(t) {
  const p = document.getElementById("summary");
  p.replaceChildren(status(t.status), ` ${t.root_name || "(no root)"} · ${t.span_count} spans · ${t.error_count} errors · ${fmtDur(t.duration_ns)} · ${t.input_tokens}/${t.output_tokens} tokens · ${fmtCost(t.cost_usd)}`);
  document.getElementById("trace-id").textContent = t.trace_id;
  document.getElementById("axis").textContent = `0 → ${fmtDur(total)}`;
}

async function loadFindings(traceId) {
  const ul = document.querySelector("#findings ul");
  const d = await api(`/checks?trace=${encodeURIComponent(traceId)}`);
  const found = d.checks.filter((c) => !c.passed);
  if (!found.length) { ul.replaceChildren(el("li", {}, status("ok"), " every check passed")); return; }
  ul.replaceChildren(...found.flatMap((c) => c.findings.map((f) => {
    f.span_ids.forEach((s) => hl.add(s));
    return el("li", { class: "finding", "data-check": c.name },
      el("strong", {}, `✖ ${c.name}`), `: ${f.message}`,
      f.span_ids.map((s) => el("button", { type: "button", "data-open": s, onclick: () => reveal(s, true) }, `open ${short(s, 8)}`)),
      f.span_ids.length === 2
        ? el("a", { class: "difflink", href: `/diff?a=${f.span_ids[0]}&b=${f.span_ids[1]}` }, " diff these two") : null);
  })));
  paint();
}

async function load() {
  doc = (window.__first && (await window.__first)) || (await api(`/traces/${encodeURIComponent(traceRef)}/timeline?limit=${FIRST}`));
  rows = doc.rows; groups = doc.groups; links = doc.links;
  total = Math.max(1, doc.end_ns - doc.start_ns);
  summary(doc.trace);
  if (doc.actions.length) {
    document.getElementById("summary").append(el("div", {}, "Governed actions of this trace: ",
      doc.actions.map((e) => el("span", { class: `gov${e.alarm ? " alarm" : ""}` }, `⛓#${e.id} ${e.alarm ? "✖ " : ""}${e.kind}${e.actor ? " by " + e.actor : ""}`))));
  }
  if (!rows.length) box.append(el("p", { class: "muted" }, "This trace has no spans yet."));
  rebuild();
  // User Timing mark at the first frame after the first rows are in: bench/ui.py reads it.
  requestAnimationFrame(() => performance.mark("orca:first-rows"));
  const traceId = doc.trace.trace_id;
  const findings = guard(() => loadFindings(traceId));
  for (let off = rows.length; off < doc.total; off += SLICE) {
    const more = await api(`/traces/${encodeURIComponent(traceId)}/timeline?offset=${off}&limit=${SLICE}`);
    rows = rows.concat(more.rows);
    rebuild();
  }
  main.dataset.loaded = "true";
  await findings;
  if (location.hash.length > 1) reveal(location.hash.slice(1), true);
}

let ticking = false;
box.addEventListener("scroll", () => {
  if (ticking) return;
  ticking = true;
  requestAnimationFrame(() => { ticking = false; paint(false); });
});
document.getElementById("close").addEventListener("click", close);
keys({ onJ: () => select(sel + 1), onK: () => select(sel - 1), onEnter: open, onEscape: close });
guard(load).then(() => { main.dataset.loaded = main.dataset.loaded || "error"; });
