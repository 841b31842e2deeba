// The live page: GET /api/v1/stats, the request rate, error ratio and p50/p99 latency per route
// and per upstream over the server's window, refreshed every 5 s while the page is shown.
import { apiJSON } from "./api.js";
import { el, errorBox, seconds } from "./dom.js";

let timer = null;

function cells(f) {
  return [
    el("td", { class: "num", dataset: { field: "requests" } }, f.requests),
    el("td", { class: "num", dataset: { field: "rate" } }, `${f.ratePerSecond.toFixed(2)}/s`),
    el("td", { class: `num ${f.errors ? "bad" : ""}`, dataset: { field: "errors" } }, f.requests ? `${(f.errorRatio * 100).toFixed(1)}% (${f.errors})` : "–"),
    el("td", { class: "num", dataset: { field: "p50" } }, seconds(f.p50Seconds)),
    el("td", { class: "num", dataset: { field: "p99" } }, seconds(f.p99Seconds)),
    el("td", { class: "num", dataset: { field: "total" } }, f.total),
  ];
}

async function refresh() {
  const routes = document.querySelector("#live-routes tbody");
  const ups = document.querySelector("#live-upstreams tbody");
  try {
    const s = await apiJSON("/api/v1/stats");
    document.getElementById("live-window").textContent = `over the last ${Math.round(s.windowSeconds)} s · refreshed every 5 s`;
    routes.replaceChildren(...s.routes.map((f) => el("tr", { dataset: { route: f.route, cluster: f.cluster } },
      el("td", {}, f.route ? el("code", {}, f.route) : el("span", { class: "muted" }, "(no route matched)")),
      el("td", {}, f.cluster ? el("code", {}, f.cluster) : "–"), ...cells(f))));
    ups.replaceChildren(...s.upstreams.map((f) => el("tr", { dataset: { cluster: f.cluster } }, el("td", {}, el("code", {}, f.cluster)), ...cells(f))));
    if (!s.routes.length) routes.append(el("tr", {}, el("td", { colspan: 8, class: "notice" }, "No requests yet.")));
    routes.parentNode.dataset.loaded = String(Date.now());
  } catch (err) {
    routes.replaceChildren(el("tr", {}, el("td", { colspan: 8 }, errorBox(err))));
  }
}

/** show starts refreshing. */
export async function show() {
  stop();
  await refresh();
  timer = setInterval(refresh, 5000);
}

/** stop stops refreshing (another page is shown). */
export function stop() {
  if (timer) clearInterval(timer);
  timer = null;
}
