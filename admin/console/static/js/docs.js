// The API docs page: the OpenAPI documents of GET /api/v1/openapi (every route, and one per
// service) in Swagger UI, loaded from the admin address (/swagger-ui/). The console fetches a
// document itself and puts the admin address's forward to the embedded gateway first among its
// servers, so that "try it out" calls the gateway from the console's own origin and shows the
// provider's real answer; the document's own server (the gateway's address) stays selectable.
import { adminToken, apiJSON } from "./api.js";
import { el, errorBox } from "./dom.js";

let swagger = null;
let documents = null;

/** loadSwaggerUI adds Swagger UI's stylesheet and bundle to the page once. */
function loadSwaggerUI() {
  if (!swagger) {
    swagger = new Promise((resolve, reject) => {
      document.head.append(el("link", { rel: "stylesheet", href: "/swagger-ui/swagger-ui.css" }));
      const script = el("script", { src: "/swagger-ui/swagger-ui-bundle.js" });
      script.addEventListener("load", () => resolve(window.SwaggerUIBundle));
      script.addEventListener("error", () => { swagger = null; reject(new Error("cannot load /swagger-ui/swagger-ui-bundle.js")); });
      document.head.append(script);
    });
  }
  return swagger;
}

async function render() {
  const select = document.getElementById("doc-select");
  const doc = documents.documents.find((d) => d.url === select.value) || documents.documents[0];
  const box = document.getElementById("swagger");
  document.getElementById("doc-link").href = doc.url;
  document.getElementById("doc-link").textContent = doc.url;
  try {
    const [SwaggerUIBundle, spec] = await Promise.all([loadSwaggerUI(), apiJSON(doc.url)]);
    const note = document.getElementById("doc-note");
    if (documents.gatewayPath) {
      const forward = location.origin + documents.gatewayPath.replace(/\/$/, "");
      spec.servers = [{ url: forward, description: "the embedded gateway, through this admin address" }, ...(spec.servers || [])];
      note.textContent = `"Try it out" sends requests to ${forward}/…, which the admin address forwards to the embedded gateway.`;
    } else {
      note.textContent = "The embedded gateway is off: requests go to the document's own server.";
    }
    box.dataset.document = doc.url;
    SwaggerUIBundle({
      spec, domNode: box, deepLinking: false, validatorUrl: null, queryConfigEnabled: false,
      displayRequestDuration: true, defaultModelsExpandDepth: 0, docExpansion: "list",
      // The forward is part of the admin API: it needs the admin token, which the admin
      // address removes before the request goes on to the gateway.
      requestInterceptor: (req) => {
        const token = adminToken();
        if (token && documents.gatewayPath && req.url.startsWith(location.origin + documents.gatewayPath) && !req.headers.Authorization) {
          req.headers.Authorization = "Bearer " + token;
        }
        return req;
      },
    });
  } catch (err) {
    box.replaceChildren(errorBox(err));
  }
}

/** show lists the documents and renders the selected one. */
export async function show() {
  const select = document.getElementById("doc-select");
  try {
    documents = await apiJSON("/api/v1/openapi");
    const keep = select.value;
    select.replaceChildren(...documents.documents.map((d) => el("option", { value: d.url, dataset: { service: d.service } },
      d.service ? d.service : "All services")));
    if (documents.documents.some((d) => d.url === keep)) select.value = keep;
    await render();
  } catch (err) {
    document.getElementById("swagger").replaceChildren(errorBox(err));
  }
}

/** init re-renders on another choice of document. */
export function init() {
  document.getElementById("doc-select").addEventListener("change", () => documents && render());
}
