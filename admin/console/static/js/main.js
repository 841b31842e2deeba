// The console's entry point: one page per URL fragment (#catalog, #routes, #idl, #api, #live),
// each loaded from the admin API when shown, and the readiness chip.
import { api } from "./api.js";
import * as catalog from "./catalog.js";
import * as routes from "./routes.js";
import * as idl from "./idl.js";
import * as docs from "./docs.js";
import * as live from "./live.js";

const pages = { catalog, routes, idl, api: docs, live };

function current() {
  const name = location.hash.replace(/^#/, "");
  return pages[name] ? name : "catalog";
}

async function route() {
  const name = current();
  for (const key of Object.keys(pages)) {
    document.getElementById(`view-${key}`).hidden = key !== name;
    document.querySelector(`nav a[data-view="${key}"]`).classList.toggle("active", key === name);
  }
  if (name !== "live") live.stop();
  document.body.dataset.view = name;
  await pages[name].show();
}

async function readiness() {
  const chip = document.getElementById("readiness");
  try {
    const resp = await api("/readyz");
    const body = await resp.json();
    chip.textContent = body.ready ? "ready" : "not ready";
    chip.title = body.reason;
    chip.className = body.ready ? "chip ok" : "chip warn";
  } catch {
    chip.textContent = "unreachable";
    chip.className = "chip bad";
  }
}

for (const p of Object.values(pages)) if (p.init) p.init();
window.addEventListener("hashchange", route);
route();
readiness();
setInterval(readiness, 10000);
