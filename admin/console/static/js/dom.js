// Small DOM and formatting helpers shared by the pages.

/** el creates an element: el("td", {class: "x", dataset: {field: "id"}}, "text", child...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

/** errorBox renders an API error, with its problems (file:line:col) when it has them. */
export function errorBox(err) {
  const box = el("div", { class: "error", role: "alert" }, el("strong", {}, err.code || "error"), " ", err.message.split("\n")[0]);
  if (Array.isArray(err.problems) && err.problems.length) {
    box.append(el("ol", { class: "problems" }, err.problems.map((p) => el("li", {
      dataset: { file: p.file || "", line: p.line || 0, column: p.column || 0 },
    }, el("code", {}, position(p)), " ", p.message))));
  }
  return box;
}

/** position renders "file:line:col" (or as much of it as is known). */
export function position(p) {
  if (!p.file) return "upload";
  return p.line ? `${p.file}:${p.line}:${p.column || 0}` : p.file;
}

/** duration renders nanoseconds the way Go's time.ParseDuration reads them ("2s", "1m30s"). */
export function duration(ns) {
  if (!ns) return "none";
  if (ns < 1e6) return `${ns / 1e3}µs`;
  if (ns < 1e9) return `${ns / 1e6}ms`;
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const s = (ns % 60e9) / 1e9;
  return (h ? `${h}h` : "") + (h || m ? `${m}m` : "") + (s || !(h || m) ? `${s}s` : "");
}

/** seconds renders a latency in seconds as ms or s. */
export function seconds(s) {
  if (s === null || s === undefined) return "–";
  return s < 1 ? `${(s * 1000).toPrecision(3)} ms` : `${s.toPrecision(3)} s`;
}

/** when renders an RFC 3339 time as local date and time. */
export function when(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

/** confirmAction asks the user to confirm text; it resolves true on "Confirm". */
export function confirmAction(text) {
  const dialog = document.getElementById("confirm-dialog");
  dialog.querySelector(".confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}
