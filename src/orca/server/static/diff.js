// /diff?a=&b=: two spans' bodies — the byte view around the first differing byte (two
// bounded slices) beside the semantic (JSON-aware) view — and what it means when they disagree:
// bytes differ but JSON is equal is the cache-bust case (the provider's prefix cache misses).
import { api, el, short, guard, keys, fill } from "/static/orca.js";

const CONTEXT = 240;
const main = document.getElementById("main");
const form = document.getElementById("pick");

async function window_(span, which, offset) {
  const start = Math.max(0, offset - CONTEXT);
  return api(`/spans/${encodeURIComponent(span)}/body?which=${which}&offset=${start}&length=${2 * CONTEXT}`);
}

function marked(slice, offset) {
  const cut = Math.max(0, Math.min(slice.text.length, offset - slice.offset));
  return el("pre", { class: "mono" }, slice.text.slice(0, cut), el("mark", {}, slice.text.slice(cut)));
}

async function load(a, b, which) {
  const d = await api(`/diff?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}&body=${which}`);
  const bd = d[`${which}_body`] || {};
  const bytes = bd.bytes || {};
  const sem = bd.semantic || {};
  const verdict = document.getElementById("verdict");
  const disagree = bytes.identical === false && sem.equal === true;
  verdict.textContent = `${disagree ? "⚠ the two views disagree: " : ""}${bd.verdict || "no body to compare"}`;
  verdict.className = `verdict ${disagree ? "st-warn" : ""}`;
  document.getElementById("attrs").replaceChildren(
    el("h2", {}, `Attributes that differ (${d.attrs.length})`),
    el("table", { class: "grid" }, el("thead", {}, el("tr", {}, el("th", {}, "attribute"), el("th", {}, `A ${short(d.a, 8)}`), el("th", {}, `B ${short(d.b, 8)}`))),
      el("tbody", {}, d.attrs.map((c) => el("tr", {}, el("td", { class: "mono" }, c.key), el("td", { class: "mono" }, String(c.a ?? "—")), el("td", { class: "mono" }, String(c.b ?? "—")))))));
  const byteBox = document.getElementById("bytes");
  if (bytes.identical) {
    byteBox.replaceChildren(el("p", {}, `✓ identical (${bytes.len_a} bytes)`));
  } else if (bytes.offset !== undefined && bytes.offset !== null) {
    const [sa, sb] = await Promise.all([window_(d.a, which, bytes.offset), window_(d.b, which, bytes.offset)]);
    fill(byteBox,
      el("p", {}, `✖ first differing byte at offset ${bytes.offset} (A ${bytes.len_a} bytes, B ${bytes.len_b} bytes); the differing part is marked`),
      el("h3", {}, `A ${short(d.a, 16)}`), marked(sa, bytes.offset),
      el("h3", {}, `B ${short(d.b, 16)}`), marked(sb, bytes.offset));
  } else {
    byteBox.replaceChildren(el("p", { class: "muted" }, "no byte comparison (a body is missing)"));
  }
  const semBox = document.getElementById("semantic");
  fill(semBox,
    el("p", {}, sem.equal ? `✓ equal as ${sem.kind || "data"}` : `✖ different as ${sem.kind || "data"}`),
    sem.key_order_changed && sem.key_order_changed.length
      ? el("p", {}, "key order changed in: ", el("code", {}, sem.key_order_changed.join(", "))) : null,
    sem.diff && sem.diff.length
      ? el("pre", { class: "mono" }, sem.diff.map((line) => {
          const s = String(line);
          return s.startsWith("-") ? el("del", { class: "d" }, s + "\n") : s.startsWith("+") ? el("ins", { class: "d" }, s + "\n") : s + "\n";
        })) : null,
    sem.omitted_lines ? el("p", { class: "muted" }, `${sem.omitted_lines} more lines left out`) : null);
  main.dataset.loaded = "true";
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const f = new FormData(form);
  const p = new URLSearchParams({ a: f.get("a").trim(), b: f.get("b").trim() });
  history.replaceState(null, "", `/diff?${p}`);
  guard(() => load(f.get("a").trim(), f.get("b").trim(), f.get("body")));
});
keys({});
if (main.dataset.a && main.dataset.b) guard(() => load(main.dataset.a, main.dataset.b, "request"));
else main.dataset.loaded = "true";
