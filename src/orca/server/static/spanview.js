// The span panel: attributes, links both ways, logs, and bodies in a bounded viewer.
// A body is fetched in slices (HEAD_BYTES first, then SLICE_BYTES per "load more"):
// a page never asks for a whole 10 MB body at once.
import { api, el, status, fmtDur, fmtTime, short, fill } from "/static/orca.js";

export const HEAD_BYTES = 16384;
export const SLICE_BYTES = 65536;
const FOLD_DEPTH = 2;

function jsonTree(value, depth = 0, key = null) {
  const label = key === null ? "" : `${JSON.stringify(key)}: `;
  if (value === null || typeof value !== "object") {
    return el("div", { class: "mono" }, label + JSON.stringify(value));
  }
  const isArr = Array.isArray(value);
  const entries = isArr ? value.map((v, i) => [i, v]) : Object.entries(value);
  const d = el("details", { class: "json", open: depth < FOLD_DEPTH });
  d.append(el("summary", { class: "mono" }, `${label}${isArr ? "[" : "{"} ${entries.length} ${isArr ? "items ]" : "keys }"}`));
  for (const [k, v] of entries) d.append(jsonTree(v, depth + 1, isArr ? null : k));
  return d;
}

function bodyViewer(spanId, b) {
  const box = el("div", { class: "body", "data-body": b.which });
  const info = el("span", {});
  const pre = el("pre", { class: "mono" });
  const more = el("button", { type: "button", class: "more" }, "Load more");
  const asJson = el("div", {});
  box.append(el("div", { class: "bar-line" }, el("strong", {}, b.which), info, more), asJson, pre);
  if (b.missing) {
    info.textContent = `${b.bytes} bytes, not in the store (pruned?) — sha256 ${short(b.sha256, 16)}`;
    more.hidden = true;
    return box;
  }
  let text = b.text;
  let loaded = b.bytes - b.left_out;
  const paint = () => {
    const done = loaded >= b.bytes;
    info.textContent = `${loaded.toLocaleString()} of ${b.bytes.toLocaleString()} bytes${done ? "" : " (a slice)"}`;
    more.hidden = done;
    asJson.replaceChildren();
    pre.hidden = false;
    if (done) {
      try {
        asJson.append(jsonTree(JSON.parse(text)));
        pre.hidden = true;
        return;
      } catch (_) { /* not JSON: shown as text */ }
    }
    pre.textContent = text;
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    const s = await api(`/spans/${encodeURIComponent(spanId)}/body?which=${b.which}&offset=${loaded}&length=${SLICE_BYTES}`);
    text += s.text;
    loaded = s.end;
    more.disabled = false;
    paint();
  });
  paint();
  return box;
}

export async function renderSpan(target, spanId, { onSpan, previous } = {}) {
  const d = await api(`/spans/${encodeURIComponent(spanId)}?max_bytes=${HEAD_BYTES}`);
  const s = d.span;
  const link = (id, trace) => {
    const a = el("a", { href: trace ? `/traces/${trace}#${id}` : `/spans/${id}`, class: "mono" }, short(id, 16));
    if (onSpan && (!trace || trace === s.trace_id)) a.addEventListener("click", (ev) => { ev.preventDefault(); onSpan(id); });
    return a;
  };
  const diffIn = el("input", { name: "other", size: 18, value: previous && previous !== s.span_id ? previous : "", placeholder: "other span id", "aria-label": "Span to diff against" });
  const diffForm = el("form", { class: "filters", onsubmit: (ev) => {
    ev.preventDefault();
    if (diffIn.value.trim()) location.href = `/diff?a=${encodeURIComponent(s.span_id)}&b=${encodeURIComponent(diffIn.value.trim())}`;
  } }, diffIn, el("button", { type: "submit" }, "Diff against this span"));
  fill(target,
    el("h2", {}, status(s.synthetic ? "crashed" : s.status), " ", s.summary || s.name),
    el("p", { class: "summary" },
      el("a", { href: `/spans/${s.span_id}`, class: "mono" }, s.span_id), ` · ${s.component} · pid ${s.pid ?? "—"} · ${fmtTime(s.start_ns)} · ${fmtDur(s.duration_ns)}`,
      " · trace ", el("a", { href: `/traces/${s.trace_id}`, class: "mono" }, short(s.trace_id, 16)),
      s.parent_id ? [" · parent ", link(s.parent_id)] : null),
    diffForm,
    el("h3", {}, "Attributes"),
    el("dl", { class: "attrs" }, Object.entries(d.attrs).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))])),
    el("h3", {}, `Links (${d.links.length})`),
    d.links.length
      ? el("ul", {}, d.links.map((l) => el("li", {}, l.direction === "out" ? "→ to " : "← from ", link(l.span_id, l.trace_id), l.reason ? ` (${l.reason})` : "")))
      : el("p", { class: "muted" }, "none"),
    el("h3", {}, `Logs (${d.logs.length})`),
    d.logs.length
      ? el("ol", { class: "events" }, d.logs.map((l) => el("li", {}, `${fmtTime(l.ts_ns)} ${l.level} ${l.msg}`)))
      : el("p", { class: "muted" }, "none"),
    el("h3", {}, "Bodies"),
    d.bodies.length ? d.bodies.map((b) => bodyViewer(s.span_id, b)) : el("p", { class: "muted" }, "none recorded"),
  );
  return d;
}
