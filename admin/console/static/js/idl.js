// The IDL page: the stored schemas (GET /api/v1/idl), one schema's versions
// (GET .../versions), a version's summary (GET .../versions/{v}), the diff of two versions
// (GET .../diff?from=&to=), rollback (POST .../rollback) and delete (DELETE), plus the upload
// form (upload.js).
import { apiJSON } from "./api.js";
import { el, errorBox, when, confirmAction } from "./dom.js";
import * as upload from "./upload.js";

let selected = null;

const path = (name, rest = "") => `/api/v1/idl/${encodeURIComponent(name)}${rest}`;

async function loadList() {
  const body = document.querySelector("#idl-table tbody");
  try {
    const { schemas } = await apiJSON("/api/v1/idl");
    body.replaceChildren(...schemas.map((s) => el("tr", { dataset: { name: s.name }, class: s.name === selected ? "selected" : null },
      el("td", { dataset: { field: "name" } }, el("a", { href: "#idl", onclick: (ev) => { ev.preventDefault(); history(s.name); } }, s.name)),
      el("td", { dataset: { field: "kind" } }, s.kind),
      el("td", { dataset: { field: "version" }, class: "num" }, s.version),
      el("td", { dataset: { field: "created" } }, when(s.created)),
      el("td", { dataset: { field: "files" }, class: "num", title: s.files.join("\n") }, s.files.length),
      el("td", {}, el("button", { type: "button", class: "danger small", onclick: () => remove(s.name) }, "Delete")))));
    if (!schemas.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "notice" }, "No IDL stored yet: upload some above.")));
    body.parentNode.dataset.loaded = "true";
    if (selected && !schemas.some((s) => s.name === selected)) closeHistory();
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 6 }, errorBox(err))));
  }
}

function closeHistory() {
  selected = null;
  document.getElementById("idl-history").hidden = true;
}

async function remove(name) {
  if (!(await confirmAction(`Delete ${name} and all its versions? Its routes go away.`))) return;
  try {
    await apiJSON(path(name), { method: "DELETE" });
  } catch (err) {
    document.getElementById("idl-result").replaceChildren(errorBox(err));
  }
  await loadList();
}

/** history shows the versions of one schema. */
async function history(name) {
  selected = name;
  const box = document.getElementById("idl-history");
  box.hidden = false;
  box.dataset.name = name;
  box.querySelector(".history-name").textContent = name;
  document.getElementById("idl-diff").replaceChildren();
  document.getElementById("idl-summary").replaceChildren();
  const body = box.querySelector(".versions tbody");
  try {
    const { current, versions } = await apiJSON(path(name, "/versions"));
    body.replaceChildren(...versions.map((v) => el("tr", { dataset: { version: v.version }, class: v.version === current ? "current" : null },
      el("td", { dataset: { field: "version" } }, `v${v.version}`, v.version === current ? el("span", { class: "badge ok" }, "current") : null,
        v.restoredFrom ? el("span", { class: "muted" }, ` restored from v${v.restoredFrom}`) : null),
      el("td", {}, when(v.created)),
      el("td", {}, v.kind),
      el("td", { class: "num", title: v.files.join("\n") }, v.files.length),
      el("td", {},
        el("button", { type: "button", class: "small", onclick: () => summary(name, v.version) }, "Summary"),
        v.version !== current ? el("button", { type: "button", class: "small", onclick: () => rollback(name, v.version) }, `Roll back to v${v.version}`) : null))));
    const options = () => versions.map((v) => el("option", { value: v.version }, `v${v.version}`));
    document.getElementById("diff-from").replaceChildren(...options());
    document.getElementById("diff-to").replaceChildren(...options());
    document.getElementById("diff-to").value = String(current);
    document.getElementById("diff-from").value = String(versions.length > 1 ? versions[1].version : current);
    body.parentNode.dataset.loaded = name;
    await loadList();
  } catch (err) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 5 }, errorBox(err))));
  }
}

async function rollback(name, version) {
  if (!(await confirmAction(`Store version ${version} of ${name} again as its next version?`))) return;
  const out = document.getElementById("idl-result");
  try {
    const stored = await apiJSON(path(name, "/rollback"), {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ version }),
    });
    out.replaceChildren(el("p", { class: "success", dataset: { version: stored.version } },
      `${name}: version ${stored.version} stored, restoring version ${version}`));
  } catch (err) {
    out.replaceChildren(errorBox(err));
  }
  await history(name);
}

function changeItem(c) {
  const sign = { added: "+", removed: "−", changed: "~" }[c.kind];
  return el("li", { class: `change ${c.kind}`, dataset: { kind: c.kind, name: c.name } },
    el("span", { class: "sign" }, sign), " ", el("code", {}, c.name),
    c.from && c.kind === "changed" ? el("div", { class: "was" }, el("code", {}, c.from)) : null,
    c.to || c.from ? el("div", { class: "now" }, el("code", {}, c.to || c.from)) : null,
    c.members && c.members.length ? el("ul", {}, c.members.map(changeItem)) : null);
}

async function diff() {
  const from = document.getElementById("diff-from").value;
  const to = document.getElementById("diff-to").value;
  const box = document.getElementById("idl-diff");
  try {
    const out = await apiJSON(path(selected, `/diff?from=${from}&to=${to}`));
    const d = out.diff;
    box.dataset.from = from;
    box.dataset.to = to;
    box.replaceChildren(...[el("h4", {}, `v${from} → v${to}`),
      d.methods.length || d.types.length ? null : el("p", { class: "notice" }, "No differences in methods or types."),
      d.methods.length ? el("div", {}, el("h5", {}, "Methods"), el("ul", { class: "changes methods" }, d.methods.map(changeItem))) : null,
      d.types.length ? el("div", {}, el("h5", {}, "Types"), el("ul", { class: "changes types" }, d.types.map(changeItem))) : null].filter(Boolean));
  } catch (err) {
    box.replaceChildren(errorBox(err));
  }
}

async function summary(name, version) {
  const box = document.getElementById("idl-summary");
  try {
    const v = await apiJSON(path(name, `/versions/${version}`));
    const s = v.summary;
    box.dataset.version = version;
    box.replaceChildren(...[el("h4", {}, `v${version}: ${s.services.length} services, ${s.types.length} types`),
      ...s.services.map((svc) => el("div", { class: "summary-service", dataset: { name: svc.name } },
        el("h5", {}, svc.name), el("ul", {}, svc.methods.map((m) => el("li", { dataset: { key: m.key } }, el("code", {}, m.signature)))))),
      s.types.length ? el("details", {}, el("summary", {}, "Types"),
        ...s.types.map((t) => el("div", { class: "summary-type", dataset: { name: t.name } },
          el("h5", {}, `${t.kind} ${t.name}`), el("ul", {}, t.members.map((m) => el("li", {}, el("code", {}, m.text))))))) : null].filter(Boolean));
  } catch (err) {
    box.replaceChildren(errorBox(err));
  }
}

/** show loads the list (and the selected schema's history). */
export async function show() {
  if (selected) await history(selected);
  else await loadList();
}

/** init wires the upload form and the diff button. */
export function init() {
  upload.init((name) => history(name));
  document.getElementById("diff-run").addEventListener("click", diff);
}
