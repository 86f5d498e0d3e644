// /spans/{id}: the span panel as a page of its own.
import { guard, keys } from "/static/orca.js";
import { renderSpan } from "/static/spanview.js";

const main = document.getElementById("main");
keys({});
guard(() => renderSpan(document.getElementById("panel-body"), main.dataset.span)).then(() => {
  main.dataset.loaded = "true";
});
