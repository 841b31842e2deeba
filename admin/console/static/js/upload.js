// The upload form of the IDL page: files, a directory (chosen or dropped), a zip, a jar or a
// descriptor set, sent to PUT /api/v1/idl/{name} the way `rpcbridge idl push` sends them: one
// zip or jar as is, one other file raw with ?filename=, several files as a multipart form whose
// file names are their paths. Paths are relative to a chosen or dropped directory. Without a
// kind, the admin API infers it from the file names.
import { apiJSON, ApiError } from "./api.js";
import { el, errorBox, position } from "./dom.js";

/** chosen holds {path, file} of the files to upload. */
let chosen = [];
let onStored = () => {};

/** relative drops the first path segment when every path starts with the same one (the
 * directory the user picked or dropped), as `idl push NAME DIR` does. */
function relative(paths) {
  const tops = new Set(paths.map((p) => p.split("/")[0]));
  if (tops.size !== 1 || paths.some((p) => !p.includes("/"))) return paths;
  return paths.map((p) => p.slice(p.indexOf("/") + 1));
}

function setChosen(items) {
  const paths = relative(items.map((i) => i.path));
  chosen = items.map((it, n) => ({ path: paths[n], file: it.file })).sort((a, b) => a.path.localeCompare(b.path));
  document.getElementById("idl-chosen").replaceChildren(...chosen.map((c) =>
    el("li", { dataset: { path: c.path } }, el("code", {}, c.path), el("span", { class: "muted" }, ` ${c.file.size} bytes`))));
  document.getElementById("idl-result").replaceChildren();
  const name = document.getElementById("idl-name");
  if (!name.value && chosen.length) {
    name.value = chosen[0].path.split("/").pop().replace(/\.[^.]*$/, "").toLowerCase().replace(/[^a-z0-9._-]/g, "-").replace(/^[^a-z0-9]+/, "");
  }
}

/** entries walks a dropped directory (FileSystemEntry) into {path, file} items. */
async function entries(entry) {
  if (entry.isFile) {
    const file = await new Promise((ok, fail) => entry.file(ok, fail));
    return [{ path: entry.fullPath.replace(/^\//, ""), file }];
  }
  const reader = entry.createReader();
  const out = [];
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) return out;
    for (const e of batch) out.push(...await entries(e));
  }
}

/** body builds the request body, content type and query for the chosen files. */
function request(kind) {
  const q = new URLSearchParams();
  if (kind) q.set("kind", kind);
  if (chosen.length === 1 && /\.(zip|jar)$/i.test(chosen[0].path)) {
    return { body: chosen[0].file, type: "application/zip", q };
  }
  if (chosen.length === 1) {
    q.set("filename", chosen[0].path.split("/").pop());
    return { body: chosen[0].file, type: "application/octet-stream", q };
  }
  const form = new FormData();
  for (const c of chosen) form.append("file", c.file, c.path);
  return { body: form, type: null, q };
}

/** excerpt shows the problem's line of the uploaded file with a caret under its column. */
async function excerpt(problem) {
  const c = chosen.find((x) => x.path === problem.file) || (chosen.length === 1 && !/\.(zip|jar)$/i.test(chosen[0].path) ? chosen[0] : null);
  if (!c || !problem.line) return null;
  const lines = (await c.file.text()).split("\n");
  const line = lines[problem.line - 1];
  if (line === undefined) return null;
  const caret = " ".repeat(Math.max(0, (problem.column || 1) - 1)) + "^";
  return el("pre", { class: "excerpt" }, `${problem.line} | ${line}\n${" ".repeat(String(problem.line).length)} | ${caret}`);
}

async function upload(ev) {
  ev.preventDefault();
  const result = document.getElementById("idl-result");
  const name = document.getElementById("idl-name").value.trim();
  if (!chosen.length) {
    result.replaceChildren(errorBox(new ApiError(0, null, "Choose or drop the files to upload first.")));
    return;
  }
  const { body, type, q } = request(document.getElementById("idl-kind").value);
  result.replaceChildren(el("p", { class: "muted" }, "Uploading…"));
  try {
    const headers = type ? { "Content-Type": type } : {};
    const out = await apiJSON(`/api/v1/idl/${encodeURIComponent(name)}?${q}`, { method: "PUT", body, headers });
    result.replaceChildren(el("p", { class: "success", dataset: { version: out.version } },
      `${out.name}: version ${out.version} stored (${out.kind}, ${out.files} files)`));
    onStored(out.name);
  } catch (err) {
    const box = errorBox(err);
    for (const li of box.querySelectorAll(".problems li")) {
      const p = err.problems[[...li.parentNode.children].indexOf(li)];
      const ex = await excerpt(p);
      if (ex) li.append(ex);
      li.title = `${position(p)}: fix this in ${p.file} and upload again`;
    }
    result.replaceChildren(box);
  }
}

/** init wires the form; stored(name) is called after every accepted upload. */
export function init(stored) {
  onStored = stored;
  const files = document.getElementById("idl-files");
  const dir = document.getElementById("idl-dir");
  files.addEventListener("change", () => setChosen([...files.files].map((f) => ({ path: f.name, file: f }))));
  dir.addEventListener("change", () => setChosen([...dir.files].map((f) => ({ path: f.webkitRelativePath || f.name, file: f }))));
  const drop = document.getElementById("idl-drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    const items = [...ev.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    const found = items.length ? (await Promise.all(items.map(entries))).flat()
      : [...ev.dataTransfer.files].map((f) => ({ path: f.name, file: f }));
    setChosen(found);
  });
  document.getElementById("idl-form").addEventListener("submit", upload);
}
