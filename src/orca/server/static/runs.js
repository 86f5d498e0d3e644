// /runs: the orchestrator's runs, newest first (`orca runs --json`'s shape).
import { api, el, status, fmtMs, fmtCost, guard, tableKeys } from "/static/orca.js";

const tbody = document.querySelector("#runs tbody");

async function load() {
  const d = await api("/runs/summary?limit=200");
  tbody.replaceChildren(...d.runs.map((r) => el("tr", { "data-run": r.id },
    el("td", {}, status(r.status)),
    el("td", {}, el("a", { href: `/runs/${encodeURIComponent(r.id)}`, class: "mono" }, r.id)),
    el("td", {}, r.workflow),
    el("td", { class: "num" }, `${r.tasks} (${r.completed} done, ${r.expired} expired, ${r.dead_lettered} dead)`),
    el("td", { class: "num" }, r.attempts),
    el("td", { class: "num" }, fmtMs(r.duration_ms)),
    el("td", { class: "num" }, `${r.input_tokens}/${r.output_tokens}`),
    el("td", { class: "num" }, fmtCost(r.cost_usd)))));
  document.getElementById("empty").hidden = d.runs.length > 0;
  document.getElementById("main").dataset.loaded = "true";
}
tableKeys(tbody);
guard(load);
