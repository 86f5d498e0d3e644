// /: traces newest first, filtered on the server (status, conversation, component, since) and paged there
// ("Load more" asks for the next page size, never the whole store); full-text search via
// /api/v1/search. New traces appear live from /api/v1/traces/events (SSE) without a reload.
import { api, el, status, fmtDur, fmtCost, fmtTime, short, guard, tableKeys, banner } from "/static/orca.js";

const PAGE = 50;
const form = document.getElementById("filters");
const tbody = document.querySelector("#traces tbody");
const more = document.getElementById("more");
const empty = document.getElementById("empty");
const hits = document.getElementById("hits");
const live = document.getElementById("live");
let limit = PAGE;

function params() {
  const f = new FormData(form);
  const p = new URLSearchParams();
  for (const k of ["status", "conversation", "component", "since"]) if (f.get(k)) p.set(k, f.get(k).trim());
  return p;
}

function row(t) {
  return el("tr", { "data-trace": t.trace_id },
    el("td", {}, status(t.status)),
    el("td", {}, el("a", { href: `/traces/${t.trace_id}`, class: "mono" }, short(t.trace_id, 16))),
    el("td", {}, t.root_name || "—", t.conversation_id ? el("span", { class: "muted" }, ` conv=${t.conversation_id}`) : null),
    el("td", { class: "mono" }, fmtTime(t.start_ns)),
    el("td", { class: "num" }, fmtDur(t.duration_ns)),
    el("td", { class: "num" }, t.span_count),
    el("td", { class: "num" }, t.error_count),
    el("td", { class: "num" }, `${t.input_tokens}/${t.output_tokens}`),
    el("td", { class: "num" }, fmtCost(t.cost_usd)));
}

async function load() {
  const p = params();
  p.set("limit", String(limit));
  const component = new FormData(form).get("component").trim();
  const first = window.__first;
  window.__first = null; // only the first load, with empty filters, matches the prefetch
  const d = (first && limit === PAGE && !p.has("status") && !p.has("conversation") && !p.has("since") && (await first)) || (await api(`/traces?${p}`));
  const list = component ? d.traces.filter((t) => (t.component || "") === component) : d.traces;
  tbody.replaceChildren(...list.map(row));
  if (!performance.getEntriesByName("orca:first-rows").length) {
    requestAnimationFrame(() => performance.mark("orca:first-rows")); // read by bench/ui.py
  }
  empty.hidden = list.length > 0;
  more.hidden = d.traces.length < limit || limit >= 1000;
  banner(null);
  document.getElementById("main").dataset.loaded = "true";
}

async function search(q) {
  const d = await api(`/search?q=${encodeURIComponent(q)}&limit=50`);
  hits.hidden = false;
  hits.querySelector("ol").replaceChildren(...(d.hits.length ? d.hits.map((h) => el("li", {},
    h.trace_id ? el("a", { href: `/traces/${h.trace_id}${h.span_id ? "#" + h.span_id : ""}`, class: "mono" }, short(h.trace_id, 16)) : "—",
    ` ${h.where}: `, h.snippet)) : [el("li", { class: "muted" }, "no match")]));
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  limit = PAGE;
  const q = new FormData(form).get("q").trim();
  guard(load);
  if (q) guard(() => search(q)); else hits.hidden = true;
});
more.addEventListener("click", () => { limit = Math.min(1000, limit + PAGE); guard(load); });
tableKeys(tbody);

function follow() {
  if (!window.EventSource) return;
  const es = new EventSource("/api/v1/traces/events");
  es.addEventListener("trace", () => { live.textContent = "new trace recorded"; guard(load); });
  es.onerror = () => { live.textContent = "live updates paused (reconnecting)"; };
  es.onopen = () => { live.textContent = "live"; };
  window.addEventListener("pagehide", () => es.close());
}
guard(load).then(follow);
