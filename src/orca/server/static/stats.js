// /stats: p50/p95 latency, error rate, tokens and cost by name/model/component/tool
// (/api/v1/stats) and over time (bucketed from the newest traces, /api/v1/traces), plus the
// tool cost/benefit table (/api/v1/stats/tools) — as SVG charts, the exact number on hover.
import { api, el, svg, fmtDur, fmtCost, guard, tip, keys } from "/static/orca.js";

const form = document.getElementById("filters");
const charts = document.getElementById("charts");
const BUCKETS = 24;

function hbars(title, items, fmt) {
  const W = 420, H = 18, L = 150;
  const max = Math.max(1e-12, ...items.map((i) => i.value));
  const s = svg("svg", { viewBox: `0 0 ${W} ${Math.max(1, items.length) * H + 4}`, role: "img", "aria-label": title });
  items.forEach((it, n) => {
    const y = n * H + 2;
    const w = ((W - L - 70) * it.value) / max;
    s.append(svg("text", { x: 0, y: y + 12 }, it.label.length > 24 ? it.label.slice(0, 23) + "…" : it.label));
    const r = svg("rect", { class: "b", x: L, y: y + 2, width: Math.max(1, w), height: H - 5, tabindex: 0 });
    tip(r, `${it.label}: ${fmt(it.value)}`);
    s.append(r, svg("text", { x: L + w + 4, y: y + 12 }, fmt(it.value)));
  });
  return el("figure", { class: "chart" }, el("h3", {}, title),
    items.length ? s : el("p", { class: "muted" }, "no data yet"));
}

function columns(title, buckets, fmt) {
  const W = 420, H = 120, B = 16;
  const max = Math.max(1e-12, ...buckets.map((b) => b.value));
  const bw = W / Math.max(1, buckets.length);
  const s = svg("svg", { viewBox: `0 0 ${W} ${H + B}`, role: "img", "aria-label": title });
  buckets.forEach((b, n) => {
    const h = (H * b.value) / max;
    const r = svg("rect", { class: "b", x: n * bw + 1, y: H - h, width: Math.max(1, bw - 2), height: Math.max(0.5, h), tabindex: 0 });
    tip(r, `${b.label}: ${fmt(b.value)}`);
    s.append(r);
  });
  if (buckets.length) {
    s.append(svg("text", { x: 0, y: H + 12 }, buckets[0].label), svg("text", { x: W, y: H + 12, "text-anchor": "end" }, buckets[buckets.length - 1].label));
  }
  return el("figure", { class: "chart" }, el("h3", {}, title), buckets.length ? s : el("p", { class: "muted" }, "no data yet"));
}

function overTime(traces) {
  if (!traces.length) return [];
  const t0 = Math.min(...traces.map((t) => t.start_ns));
  const t1 = Math.max(...traces.map((t) => t.start_ns)) + 1;
  const step = (t1 - t0) / BUCKETS;
  const b = Array.from({ length: BUCKETS }, (_, i) => ({
    label: new Date((t0 + i * step) / 1e6).toISOString().slice(5, 16).replace("T", " "),
    n: 0, errors: 0, tokens: 0, cost: 0, durs: [],
  }));
  for (const t of traces) {
    const k = Math.min(BUCKETS - 1, Math.floor((t.start_ns - t0) / step));
    b[k].n += 1; b[k].errors += t.status === "ok" ? 0 : 1;
    b[k].tokens += t.input_tokens + t.output_tokens; b[k].cost += t.cost_usd;
    if (t.duration_ns !== null) b[k].durs.push(t.duration_ns);
  }
  return b;
}

const pct = (v) => `${(v * 100).toFixed(1)}%`;
const num = (v) => Math.round(v).toLocaleString();

async function load() {
  const f = new FormData(form);
  const q = new URLSearchParams({ by: f.get("by") });
  if (f.get("since").trim()) q.set("since", f.get("since").trim());
  const since = f.get("since").trim() ? `&since=${encodeURIComponent(f.get("since").trim())}` : "";
  const [st, tr, tools] = await Promise.all([
    api(`/stats?${q}`), api(`/traces?limit=1000${since}`), api(`/stats/tools${since ? "?" + since.slice(1) : ""}`)]);
  const g = st.groups.slice(0, 20);
  const by = st.by;
  const buckets = overTime(tr.traces);
  const median = (xs) => { if (!xs.length) return 0; const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  charts.replaceChildren(
    hbars(`p50 latency by ${by}`, g.map((x) => ({ label: x.key || "—", value: x.p50_ns || 0 })), fmtDur),
    hbars(`p95 latency by ${by}`, g.map((x) => ({ label: x.key || "—", value: x.p95_ns || 0 })), fmtDur),
    hbars(`error rate by ${by}`, g.map((x) => ({ label: x.key || "—", value: x.error_rate || 0 })), pct),
    hbars(`tokens by ${by}`, g.map((x) => ({ label: x.key || "—", value: (x.input_tokens || 0) + (x.output_tokens || 0) })), num),
    hbars(`cost by ${by}`, g.map((x) => ({ label: x.key || "—", value: x.cost_usd || 0 })), fmtCost),
    columns(`traces over time (newest ${tr.traces.length})`, buckets.map((b) => ({ label: b.label, value: b.n })), num),
    columns("error rate over time", buckets.map((b) => ({ label: b.label, value: b.n ? b.errors / b.n : 0 })), pct),
    columns("median trace latency over time", buckets.map((b) => ({ label: b.label, value: median(b.durs) })), fmtDur),
    columns("tokens over time", buckets.map((b) => ({ label: b.label, value: b.tokens })), num),
    columns("cost over time", buckets.map((b) => ({ label: b.label, value: b.cost })), fmtCost));
  document.querySelector("#tools tbody").replaceChildren(...(tools.tools.length ? tools.tools.map((t) => el("tr", {},
    el("td", { class: "mono" }, t.tool),
    el("td", { class: "num" }, `${t.uses} used / ${t.requests} offered`),
    el("td", { class: "num" }, `${t.total_chars.toLocaleString()} chars of definitions`),
    el("td", {}, t.uses === 0 ? "✖ never used: its definition is pure overhead"
      : `${t.success_rate === null ? "—" : pct(t.success_rate)} success · ${num(t.chars_per_use)} chars per use`)))
    : [el("tr", {}, el("td", { colspan: 4, class: "muted" }, "no tool definitions recorded"))]));
  document.getElementById("main").dataset.loaded = "true";
}
form.addEventListener("submit", (ev) => { ev.preventDefault(); guard(load); });
keys({});
guard(load);
