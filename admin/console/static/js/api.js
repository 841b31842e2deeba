// The admin API client: every request of the console goes through api(), which adds the bearer
// token kept in sessionStorage and, when the API answers 401, asks for one and retries.

const TOKEN_KEY = "rpcbridge.adminToken";

/** ApiError is a failed request: status, the API's error status word, message and problems. */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const e = (body && body.error) || {};
    super(e.message || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = e.status || "";
    this.problems = e.problems || null;
  }
}

/** adminToken is the bearer token kept for this tab, or null. */
export function adminToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

let pendingToken = null;

/** askToken shows the token dialog once for any number of waiting requests. */
function askToken(reason) {
  if (pendingToken) return pendingToken;
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  dialog.querySelector(".token-reason").textContent = reason;
  input.value = "";
  pendingToken = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      pendingToken = null;
      resolve(dialog.returnValue === "ok" && input.value.trim() !== "" ? input.value.trim() : null);
    }, { once: true });
  });
  dialog.showModal();
  input.focus();
  return pendingToken;
}

/** api fetches path with the session's token, asking for a token on 401. */
export async function api(path, init = {}) {
  for (;;) {
    const headers = new Headers(init.headers || {});
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.set("Authorization", "Bearer " + token);
    const resp = await fetch(path, { ...init, headers });
    if (resp.status !== 401) return resp;
    const body = await resp.clone().json().catch(() => null);
    const why = token
      ? "The admin API refused the token (401). Enter another one."
      : "The admin API asks for a bearer token (401).";
    const next = await askToken(body && body.error && body.error.message ? `${why} ${body.error.message}` : why);
    if (!next) return resp;
    sessionStorage.setItem(TOKEN_KEY, next);
  }
}

/** apiJSON is api() for JSON answers: it returns the decoded body or throws an ApiError. */
export async function apiJSON(path, init) {
  const resp = await api(path, init);
  const body = resp.status === 204 ? null : await resp.json().catch(() => null);
  if (!resp.ok) {
    const err = new ApiError(resp.status, body, `${path}: HTTP ${resp.status}`);
    if (resp.status === 403) err.message = `The token may not do this (403): ${err.message}`;
    throw err;
  }
  return body;
}
