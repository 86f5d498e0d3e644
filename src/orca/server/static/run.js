// /runs/{id}: a run's tasks with attempts, leases, retries, dead letters and expiries; usage
// and budget per agent; policy interventions. Live: the run's ledger entries arrive as SSE
// (/api/v1/runs/{id}/events) and each one refreshes the run document (`orca runs show`).
import { api, el, svg, status, fmtMs, fmtCost, fmtTime, guard, tableKeys, tip, fill } from "/static/orca.js";

const main = document.getElementById("main");
const ref = main.dataset.run;
const events = document.querySelector("#events ol");
const policy = document.querySelector("#policy ul");
const live = document.getElementById("live");
let runBudget = null; // the run's budget as run.started recorded it (args.budget), if any
const interventions = [];

function attemptText(a) {
  const end = a.ended_ms ? ` → ${a.outcome} after ${fmtMs(a.ended_ms - a.claimed_ms)}` : " (lease held)";
  return `#${a.attempt} by ${a.agent}${end}${a.heartbeats ? `, ${a.heartbeats} heartbeats` : ""}`;
}

function gauge(label, used, limit, unit, scale) {
  const ratio = limit ? used / limit : scale ? used / scale : 0;
  const w = Math.min(1, ratio) * 200;
  const g = svg("svg", { viewBox: "0 0 202 14", role: "img", "aria-label": `${label}: ${used} of ${limit ?? "no limit"} ${unit}` },
    svg("rect", { class: "track", x: 1, y: 1, width: 200, height: 12 }),
    svg("rect", { class: `fill${limit && ratio >= 1 ? " over" : ""}`, x: 1, y: 1, width: Math.max(0, w), height: 12 }));
  tip(g, limit ? `${used} / ${limit} ${unit} (${Math.round(ratio * 100)}%)` : `${used} ${unit} used, no budget set`);
  return el("div", { class: "gauge" }, el("span", {}, label), g,
    el("span", {}, limit ? `${used} / ${limit} ${unit} (${Math.round(ratio * 100)}%)${ratio >= 1 ? " ✖ over" : ratio >= 0.8 ? " ⚠ near" : ""}` : `${used} ${unit} (no budget set)`));
}

function render(d) {
  const r = d.run;
  document.getElementById("run-id").textContent = r.id;
  document.getElementById("summary").replaceChildren(status(r.status), ` ${r.workflow} · ${r.tasks} tasks · ${r.attempts} attempts · ${fmtMs(r.duration_ms)} · ${r.input_tokens}/${r.output_tokens} tokens · ${fmtCost(r.cost_usd)} · `,
    el("a", { href: `/traces/${r.trace_id}` }, "open its trace"));
  const usage = new Map();
  for (const t of d.tasks) {
    const u = usage.get(t.recipient) || { tokens: 0, cost: 0 };
    if (t.usage) { u.tokens += (t.usage.input_tokens || 0) + (t.usage.output_tokens || 0); u.cost += t.usage.cost_usd || 0; }
    usage.set(t.recipient, u);
  }
  const gov = d.governance || {};
  // With limits: one gauge per limited scope and dimension. Without: total tokens and cost per
  // scope, each bar scaled to the largest of its dimension (and saying no budget is set).
  const rowsU = gov.usage || [];
  const limited = rowsU.filter((u) => u.limit !== null && u.limit !== undefined);
  const shown = limited.length ? limited : rowsU.filter((u) => u.dimension === "total_tokens" || u.dimension === "cost_usd");
  const peak = {};
  for (const u of shown) peak[u.dimension] = Math.max(peak[u.dimension] || 0, u.used + (u.reserved || 0));
  const scoped = shown.map((u) => gauge(
    `${u.scope.replace("agent:", "agent ")} ${u.dimension}`, u.used + (u.reserved || 0), u.limit,
    u.dimension + (u.reserved ? ` (${u.reserved} reserved)` : ""), peak[u.dimension] || 1));
  const top = Math.max(1, ...[...usage.values()].map((u) => u.tokens));
  const plain = [...usage.entries()].map(([agent, u]) => gauge(agent, u.tokens, null, "tokens", top));
  const limits = [];
  if (!scoped.length && runBudget && typeof runBudget === "object") {
    for (const [k, v] of Object.entries(runBudget)) {
      if (typeof v !== "number") continue;
      const used = k.includes("cost") ? r.cost_usd : k.includes("token") ? r.input_tokens + r.output_tokens : null;
      if (used !== null) limits.push(gauge(`run ${k}`, used, v, k.includes("cost") ? "USD" : "tokens"));
    }
  }
  const budgetLine = gov.budget ? el("p", { class: "summary" }, `Budget: ${JSON.stringify(gov.budget)}`) : null;
  fill(document.getElementById("budgets"), el("h2", {}, "Usage and budget per agent"), budgetLine,
    scoped.length ? scoped : limits.length ? limits : [el("p", { class: "muted" }, "This run has no budget; usage per agent:"), plain]);
  document.querySelector("#tasks tbody").replaceChildren(...d.tasks.map((t) => {
    const retries = Math.max(0, t.attempts.length - 1);
    const lease = t.attempts.filter((a) => a.outcome === "lease_expired").length;
    const redelivered = retries > 0;
    return el("tr", { "data-task": t.id, class: redelivered ? "redelivered" : null },
      el("td", {}, status(t.status)),
      el("td", { class: "mono" }, t.id, redelivered ? el("div", { class: "st st-warn" }, `↻ redelivered ×${retries}`) : null),
      el("td", {}, `${t.sender} → ${t.recipient}`),
      el("td", {}, t.attempts.length ? el("ol", {}, t.attempts.map((a) => el("li", {}, attemptText(a)))) : "none"),
      el("td", {}, `${lease} lease expiries, ${retries} retries`, el("br"), `expires ${fmtTime(t.expires_ms * 1e6)}`),
      el("td", {}, t.error ? `✖ ${typeof t.error === "string" ? t.error : JSON.stringify(t.error)}` : t.result !== null && t.result !== undefined ? `result: ${JSON.stringify(t.result).slice(0, 120)}` : ""));
  }));
  const dead = d.tasks.filter((t) => t.status === "expired" || t.status === "dead_lettered" || t.status === "dead-lettered");
  document.querySelector("#dead ul").replaceChildren(...(dead.length || d.dead_letters.length
    ? [...d.dead_letters.map((x) => el("li", {}, status("dead"), ` ${x.id || x.task || JSON.stringify(x)}`)),
       ...dead.map((t) => el("li", {}, status(t.status), ` ${t.id} → ${t.recipient}`))]
    : [el("li", { class: "muted" }, "none")]));
  const rej = d.rejections.map((x) => el("li", {}, status("rejected"), ` ${x.code || ""} ${x.envelope || x.id || ""} ${x.message || x.reason || ""}`));
  const govItems = (gov.interventions || []).map((x) => el("li", {},
    status(x.kind === "budget.warning" ? "warn" : "rejected"), ` #${x.entry} ${x.kind}`,
    ` — ${x.message || x.reason || x.rule || JSON.stringify(x).slice(0, 160)}`));
  const live_ = govItems.length ? [] : interventions;
  policy.replaceChildren(...(rej.length + govItems.length + live_.length ? [...rej, ...govItems, ...live_] : [el("li", { class: "muted" }, "none")]));
  main.dataset.loaded = "true";
}

let pending = null;
function refresh() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; guard(async () => render(await api(`/runs/${encodeURIComponent(ref)}/show`))); }, 150);
}

function follow(runId) {
  const es = new EventSource(`/api/v1/runs/${encodeURIComponent(runId)}/events`);
  live.textContent = "live: following the run's events";
  const onEntry = (ev) => {
    const e = JSON.parse(ev.data);
    events.append(el("li", {}, `#${e.id} ${e.kind}${e.actor ? " by " + e.actor : ""}`));
    if (e.kind === "run.started" && e.args && e.args.budget) runBudget = e.args.budget;
    if (e.kind.startsWith("policy.") || e.kind.startsWith("budget.")) {
      interventions.push(el("li", {}, status(e.kind.endsWith("exceeded") || e.kind.endsWith("denied") ? "rejected" : "warn"), ` #${e.id} ${e.kind} — ${(e.result && e.result.message) || JSON.stringify(e.result || e.meta || {}).slice(0, 200)}`));
    }
    refresh();
  };
  for (const k of ["run.started", "run.ended", "envelope.accepted", "envelope.rejected", "task.claimed", "task.completed", "task.failed", "task.expired", "task.dead_lettered", "task.heartbeat", "task.lease_expired", "task.cancelled", "policy.decision", "policy.denied", "budget.warning", "budget.exceeded"]) {
    es.addEventListener(k, onEntry);
  }
  es.onmessage = onEntry;
  es.addEventListener("end", () => { es.close(); live.textContent = "run ended: every event received"; });
  es.onerror = () => { live.textContent = "live updates paused (reconnecting)"; };
  window.addEventListener("pagehide", () => es.close());
}

guard(async () => {
  const d = await api(`/runs/${encodeURIComponent(ref)}/show`);
  render(d);
  follow(d.run.id);
});
tableKeys(document.querySelector("#tasks tbody"));
