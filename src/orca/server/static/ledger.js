// /ledger: entries (kind, actor, run), `verify` status, the latest signed checkpoint, and an
// inclusion proof for any entry verified here in the page: SHA-256 through WebCrypto and the
// RFC 9162 (section 2.1.3.2) audit-path walk, up to the checkpoint's root. The server's own
// "verified" flag is shown beside the page's result, never instead of it.
import { api, el, status, fmtTime, short, guard, tableKeys } from "/static/orca.js";

const PAGE = 100;
const tbody = document.querySelector("#entries tbody");
const more = document.getElementById("more");
const form = document.getElementById("filters");
let last = 0;

const hex2bytes = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
const bytes2hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
async function sha256(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { buf.set(p, o); o += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}
const leafHash = (entryHash) => sha256(Uint8Array.of(0), entryHash);
const nodeHash = (l, r) => sha256(Uint8Array.of(1), l, r);

// RFC 9162 2.1.3.2: verify that `leaf` is at `index` in a tree of `size` with root `root`.
export async function verifyInclusion(index, size, leaf, path, root) {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (!(fn & 1)) while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 && bytes2hex(r) === root;
}

async function prove(entry, cell) {
  cell.replaceChildren("checking…");
  const p = await api(`/ledger/proof/${entry.id}`);
  const leaf = await leafHash(hex2bytes(entry.hash));
  const sameLeaf = bytes2hex(leaf) === p.leaf_hash && p.entry_hash === entry.hash;
  const ok = sameLeaf && await verifyInclusion(p.leaf_index, p.tree_size, leaf, p.path.map(hex2bytes), p.checkpoint.root);
  cell.replaceChildren(el("span", { class: `st st-${ok ? "ok" : "error"}`, "data-proof": ok ? "verified" : "failed" },
    ok ? `✓ in checkpoint of ${p.tree_size} (verified in this page, ${p.path.length} hashes)` : "✖ proof does not verify"),
    el("span", { class: "muted" }, ` · server says ${p.verified ? "verified" : "NOT verified"}`));
}

function row(e) {
  const cell = el("td", {});
  cell.append(el("button", { type: "button", onclick: () => guard(() => prove(e, cell)) }, "prove"));
  return el("tr", { "data-entry": e.id },
    el("td", { class: "num" }, e.id),
    el("td", {}, e.kind, e.erased ? el("span", { class: "muted" }, " (payload erased)") : null),
    el("td", {}, e.actor || "—"),
    el("td", {}, e.run ? el("a", { href: `/runs/${encodeURIComponent(e.run)}`, class: "mono" }, short(e.run, 24)) : "—"),
    el("td", { class: "mono" }, fmtTime(e.ts)),
    el("td", { class: "mono", title: e.hash }, short(e.hash, 12)),
    cell);
}

async function page(reset) {
  if (reset) { last = 0; tbody.replaceChildren(); }
  const run = new FormData(form).get("run").trim();
  const q = new URLSearchParams({ after: String(last), limit: String(PAGE) });
  if (run) q.set("run", run);
  const list = await api(`/ledger/entries?${q}`);
  tbody.append(...list.map(row));
  if (list.length) last = list[list.length - 1].id;
  more.hidden = list.length < PAGE;
  document.getElementById("empty").hidden = tbody.children.length > 0;
}

async function load() {
  const v = await api("/ledger/verify");
  const vp = document.getElementById("verify");
  if (v.empty) vp.replaceChildren(status("ok"), " no ledger yet (nothing to verify)");
  else vp.replaceChildren(status(v.ok ? "ok" : "error"), v.ok
    ? ` verify: ${v.entries} entries, ${v.signatures} signatures, ${v.checkpoints} checkpoints — chain intact`
    : ` verify found ${v.problems.length + v.more_problems} problem(s): ${v.problems.slice(0, 3).map((p) => `${p.kind} at entry ${p.entry ?? "?"}: ${p.detail}`).join("; ")}`);
  if (v.checkpoints > 0) {
    const c = await api("/ledger/checkpoint");
    document.getElementById("checkpoint").replaceChildren(`Latest signed checkpoint: ${c.size} entries, root `, el("code", {}, short(c.root, 16)), `, key ${c.key}, ${fmtTime(c.ts)}`);
  } else {
    document.getElementById("checkpoint").textContent = "No checkpoint yet: one is signed as entries arrive.";
  }
  await page(true);
  document.getElementById("main").dataset.loaded = "true";
}

form.addEventListener("submit", (ev) => { ev.preventDefault(); guard(() => page(true)); });
more.addEventListener("click", () => guard(() => page(false)));
tableKeys(tbody);
guard(load);
