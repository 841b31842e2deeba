// The routes page: GET /api/v1/routes grouped by the service each route calls, with the
// diagnostics of GET /api/v1/diagnostics next to the service they concern.
import { apiJSON } from "./api.js";
import { el, errorBox, duration } from "./dom.js";

let state = null;

/** pathOf renders a route's match: an exact path, a template, or a prefix followed by "*". */
export function pathOf(m) {
  return m.path || m.pathTemplate || `${m.pathPrefix}*`;
}

/** targetOf renders what a route calls. */
function targetOf(r) {
  if (r.grpc) return `${r.grpc.service}/${r.grpc.method}`;
  if (r.dubbo) {
    const types = (r.dubbo.params || []).map((p) => p.type).join(", ");
    return `${r.dubbo.method}(${types}) → ${r.dubbo.returns}`;
  }
  return r.prefixRewrite ? `${r.cluster}, ${r.match.pathPrefix} → ${r.prefixRewrite}` : r.cluster;
}

/** bindingsOf lists where each argument comes from. */
function bindingsOf(r) {
  if (r.grpc) {
    const b = [r.grpc.body ? `body → ${r.grpc.body === "*" ? "request" : r.grpc.body}` : "no body",
      r.grpc.responseBody ? `response ← ${r.grpc.responseBody}` : null,
      r.grpc.serverStreaming ? "server stream" : null];
    return b.filter(Boolean).map((t) => el("span", { class: "binding" }, t));
  }
  if (r.dubbo) {
    const out = (r.dubbo.params || []).map((p) => el("span", { class: "binding", title: p.type },
      `${p.name} ← ${p.from}${p.key ? " " + p.key : ""}`));
    for (const a of r.dubbo.attachments || []) out.push(el("span", { class: "binding" }, `attachment ← header ${a}`));
    return out;
  }
  return [el("span", { class: "muted" }, "proxied")];
}

function routeRow(r) {
  return el("tr", { class: "route", dataset: { name: r.name } },
    el("td", { dataset: { field: "methods" } }, (r.match.methods || ["ANY"]).join(", ")),
    el("td", { dataset: { field: "path" } }, el("code", {}, pathOf(r.match))),
    el("td", { dataset: { field: "target" } }, el("code", {}, targetOf(r))),
    el("td", { dataset: { field: "bindings" } }, bindingsOf(r)),
    el("td", { dataset: { field: "timeout" }, class: "num" }, duration(r.timeout)));
}

function diagItem(d) {
  return el("li", { class: `diag ${d.severity}`, dataset: { subject: d.subject, stage: d.stage } },
    el("span", { class: `badge sev-${d.severity}` }, d.severity), " ", el("span", { class: "muted" }, d.stage), " ", d.message);
}

function routeMatches(r, q) {
  if (!q) return true;
  return [r.name, r.cluster, pathOf(r.match), ...(r.match.methods || []), targetOf(r)].some((t) => t.toLowerCase().includes(q));
}

function render() {
  const { gateway, diagnostics, catalog } = state;
  const q = document.getElementById("routes-search").value.trim().toLowerCase();
  const routes = gateway.routes || [];
  const protocols = Object.fromEntries((catalog.services || []).map((s) => [s.id, s.protocol]));
  const groups = new Map();
  const group = (id) => groups.get(id) || groups.set(id, { routes: [], diags: [] }).get(id);
  for (const r of routes) group(r.cluster).routes.push(r);
  const other = [];
  for (const d of diagnostics) {
    if (groups.has(d.subject) || d.subject in protocols) group(d.subject).diags.push(d);
    else other.push(d);
  }
  const cards = [];
  for (const id of [...groups.keys()].sort()) {
    const g = groups.get(id);
    const shown = g.routes.filter((r) => routeMatches(r, q));
    if (q && !shown.length && !id.toLowerCase().includes(q)) continue;
    cards.push(el("section", { class: "route-group card", dataset: { service: id } },
      el("div", { class: "card-head" },
        protocols[id] ? el("span", { class: `badge proto-${protocols[id]}` }, protocols[id]) : null,
        el("code", { class: "service-id" }, id), el("span", { class: "spacer" }),
        el("span", { class: "muted" }, `${g.routes.length} route${g.routes.length === 1 ? "" : "s"}`)),
      g.diags.length ? el("ul", { class: "diagnostics" }, g.diags.map(diagItem)) : null,
      shown.length
        ? el("table", { class: "grid routes" },
          el("thead", {}, el("tr", {}, ["Method", "Path", "Calls", "Arguments", "Timeout"].map((h) => el("th", {}, h)))),
          el("tbody", {}, shown.map(routeRow)))
        : el("p", { class: "notice" }, g.routes.length ? "No route matches the filter." : "No routes.")));
  }
  document.getElementById("routes-list").replaceChildren(...cards);
  const otherBox = document.getElementById("other-diagnostics");
  otherBox.hidden = other.length === 0;
  otherBox.querySelector("ul").replaceChildren(...other.map(diagItem));
  const counts = document.getElementById("routes-counts");
  Object.assign(counts.dataset, { routes: routes.length, services: groups.size, diagnostics: diagnostics.length });
  counts.textContent = `${routes.length} routes · ${[...groups.values()].filter((g) => g.routes.length).length} services with routes · ${diagnostics.length} diagnostics`;
}

/** show loads routes, diagnostics and the catalog (for protocols) and renders them. */
export async function show() {
  const list = document.getElementById("routes-list");
  try {
    const [gateway, diags, catalog] = await Promise.all([
      apiJSON("/api/v1/routes"), apiJSON("/api/v1/diagnostics"), apiJSON("/api/v1/catalog")]);
    state = { gateway, diagnostics: diags.diagnostics || [], catalog };
    render();
    list.dataset.loaded = "true";
  } catch (err) {
    list.replaceChildren(errorBox(err));
  }
}

/** init wires the filter. */
export function init() {
  document.getElementById("routes-search").addEventListener("input", () => state && render());
}
