// The catalog page: GET /api/v1/catalog as cards, one per service, with its endpoints.
import { apiJSON } from "./api.js";
import { el, errorBox } from "./dom.js";

let catalog = null;

/** matches says whether a service is shown for the query (case-insensitive substring of its ID,
 * name, interface, protocol, a source, an endpoint's address:port or label key=value). */
export function matches(svc, query) {
  if (!query) return true;
  const q = query.toLowerCase();
  const texts = [svc.id, svc.name, svc.interface, svc.protocol, ...(svc.sources || [])];
  for (const ep of svc.endpoints || []) {
    texts.push(`${ep.address}:${ep.port}`);
    for (const [k, v] of Object.entries(ep.labels || {})) texts.push(`${k}=${v}`);
  }
  return texts.some((t) => t && t.toLowerCase().includes(q));
}

function troubled(svc) {
  return (svc.endpoints || []).some((ep) => !ep.healthy || ep.stale) || (svc.endpoints || []).length === 0;
}

function locality(ep) {
  const l = ep.locality || {};
  return [l.region, l.zone].filter(Boolean).join("/") || "–";
}

function endpointRow(ep) {
  const labels = Object.entries(ep.labels || {}).sort(([a], [b]) => a.localeCompare(b));
  return el("tr", { class: "endpoint", dataset: { address: `${ep.address}:${ep.port}` } },
    el("td", { dataset: { field: "address" } }, el("code", {}, `${ep.address}:${ep.port}`)),
    el("td", { dataset: { field: "source" } }, ep.source),
    el("td", { dataset: { field: "weight" }, class: "num" }, ep.weight),
    el("td", { dataset: { field: "health" } }, el("span", { class: ep.healthy ? "badge ok" : "badge bad" }, ep.healthy ? "healthy" : "unhealthy")),
    el("td", { dataset: { field: "locality" } }, locality(ep)),
    el("td", { dataset: { field: "labels" } }, labels.map(([k, v]) => el("span", { class: "label" }, `${k}=${v}`))),
    el("td", { dataset: { field: "stale" } }, ep.stale ? el("span", { class: "badge warn", title: "its registry cannot be reached: last known state" }, "stale") : ""));
}

/** retainedNotice explains a service that no registry lists any more but whose routes stay. */
function retainedNotice(svc) {
  const r = svc.retained;
  return el("p", { class: "notice warn", dataset: { retainedUntil: r.until } },
    `No registry lists a provider since ${new Date(r.since).toLocaleString()}: its routes answer 503 ` +
    `no_healthy_upstream until ${new Date(r.until).toLocaleString()}, then they are removed (registries[].serviceRetention).`);
}

function serviceCard(svc) {
  const eps = svc.endpoints || [];
  const healthy = eps.filter((ep) => ep.healthy).length;
  return el("section", { class: "service card", dataset: { id: svc.id, retained: svc.retained ? "true" : "false" } },
    el("div", { class: "card-head" },
      el("span", { class: `badge proto-${svc.protocol}`, dataset: { field: "protocol" } }, svc.protocol),
      el("code", { class: "service-id", dataset: { field: "id" } }, svc.id),
      el("span", { class: "muted", dataset: { field: "sources" } }, (svc.sources || []).join(", ")),
      svc.retained ? el("span", { class: "badge warn", dataset: { field: "retained" }, title: "no provider left: routes kept, answering 503" }, "retained") : null,
      el("span", { class: "spacer" }),
      el("span", { dataset: { field: "endpoints", total: eps.length, healthy } }, `${eps.length} endpoint${eps.length === 1 ? "" : "s"}, ${healthy} healthy`)),
    svc.version || svc.group ? el("p", { class: "muted small" }, `version ${svc.version || "–"} · group ${svc.group || "–"}`) : null,
    eps.length
      ? el("table", { class: "grid endpoints" },
        el("thead", {}, el("tr", {}, ["Address", "Registry", "Weight", "Health", "Locality", "Labels", ""].map((h) => el("th", {}, h)))),
        el("tbody", {}, eps.map(endpointRow)))
      : svc.retained ? retainedNotice(svc) : el("p", { class: "notice" }, "No endpoints."));
}

function render() {
  const list = document.getElementById("catalog-list");
  const counts = document.getElementById("catalog-counts");
  const regs = document.getElementById("catalog-registries");
  const query = document.getElementById("catalog-search").value.trim();
  const proto = document.getElementById("catalog-protocol").value;
  const onlyTrouble = document.getElementById("catalog-problems").checked;
  const services = catalog.services || [];
  const shown = services.filter((s) => matches(s, query) && (!proto || s.protocol === proto) && (!onlyTrouble || troubled(s)));
  const endpoints = services.reduce((n, s) => n + (s.endpoints || []).length, 0);
  const healthy = services.reduce((n, s) => n + (s.endpoints || []).filter((e) => e.healthy).length, 0);
  const sources = new Set(services.flatMap((s) => s.sources || []));
  Object.assign(counts.dataset, { services: services.length, endpoints, healthy, shown: shown.length });
  counts.textContent = `${services.length} services · ${endpoints} endpoints (${healthy} healthy) · ${sources.size} ${sources.size === 1 ? "registry" : "registries"}` +
    (shown.length !== services.length ? ` · showing ${shown.length}` : "");
  regs.replaceChildren(
    ...(catalog.pending || []).map((r) => el("p", { class: "notice", dataset: { pending: r } }, `Registry ${r} has not completed its first listing yet.`)),
    ...(catalog.stale || []).map((r) => el("p", { class: "notice warn", dataset: { stale: r } }, `Registry ${r} cannot be reached: its endpoints are the last known state (stale).`)));
  list.replaceChildren(...shown.map(serviceCard));
  if (!shown.length) list.append(el("p", { class: "notice" }, services.length ? "No service matches the filter." : "No services discovered yet."));
}

/** show loads the catalog and renders it. */
export async function show() {
  const list = document.getElementById("catalog-list");
  try {
    catalog = await apiJSON("/api/v1/catalog");
    render();
    list.dataset.loaded = "true";
  } catch (err) {
    list.replaceChildren(errorBox(err));
  }
}

/** init wires the filters. */
export function init() {
  for (const id of ["catalog-search", "catalog-protocol", "catalog-problems"]) {
    document.getElementById(id).addEventListener("input", () => catalog && render());
  }
}
