// DOM helpers of the console: elements, screens, tables, form fields, the live region, files.

import { ApiError } from "./api.js";
import { TEXTS } from "./texts.js";

export const lang = document.documentElement.lang === "en" ? "en" : "nl";
const T = TEXTS[lang];
export const t = (key, vars = {}) =>
  (T[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? `{${k}}` : String(vars[k])));

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = String(v);
    else if (k === "checked") el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const main = () => document.getElementById("main");
const live = () => document.getElementById("live");

export function say(text) {
  live().textContent = "";
  setTimeout(() => {
    live().textContent = text;
  }, 50);
}

/** A new screen; its heading gets the focus. */
export function screen(title, ...content) {
  const h1 = h("h1", { tabindex: "-1" }, title);
  main().replaceChildren(h1, ...content.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  document.title = `${title} – Stembus`;
  h1.focus();
  window.scrollTo(0, 0);
}

export const card = (...c) => h("section", { class: "card" }, ...c);
export const note = (cls, text, attrs = {}) => h("p", { ...attrs, class: `note ${cls}`.trim() }, text);
export const button = (label, onclick, cls = "", attrs = {}) =>
  h("button", { type: "button", class: cls, onclick, ...attrs }, label);

let seq = 0;
export const uid = (p = "f") => `${p}-${++seq}`;

/** A labelled control with an optional hint; returns {row, input}. */
export function field(label, input, hint) {
  const id = input.id || uid();
  input.id = id;
  const parts = [h("label", { for: id }, label)];
  if (hint) {
    const hid = `${id}-hint`;
    parts.push(h("p", { id: hid, class: "hint" }, hint));
    input.setAttribute("aria-describedby", hid);
  }
  parts.push(input);
  return { row: h("div", { class: "field" }, parts), input };
}

export function checkbox(label, checked, hint) {
  const id = uid("c");
  const input = h("input", { type: "checkbox", id, checked });
  const hid = hint ? `${id}-hint` : null;
  if (hid) input.setAttribute("aria-describedby", hid);
  return {
    row: h(
      "div",
      { class: "check" },
      input,
      h("label", { for: id }, label),
      hint ? h("p", { id: hid, class: "hint" }, hint) : null,
    ),
    input,
  };
}

/** A group of radio buttons with a legend; returns {row, value()}. */
export function radios(legend, name, options, current, hint) {
  const id = uid("r");
  const inputs = [];
  const items = options.map(([value, label, explain]) => {
    const rid = `${id}-${value}`;
    const input = h("input", { type: "radio", name: `${name}-${id}`, id: rid, value, checked: value === current });
    inputs.push(input);
    return h(
      "div",
      { class: "check" },
      input,
      h("label", { for: rid }, label),
      explain ? h("p", { class: "hint" }, explain) : null,
    );
  });
  const row = h("fieldset", {}, h("legend", {}, legend), hint ? h("p", { class: "hint" }, hint) : null, items);
  return { row, inputs, value: () => (inputs.find((i) => i.checked) || {}).value };
}

export function select(options, current) {
  return h("select", {}, options.map(([v, label]) => h("option", { value: v, selected: v === current }, label)));
}

/** A table with a caption; `rows` are arrays of cells (nodes or text). */
export function table(caption, headers, rows, empty) {
  if (!rows.length && empty) return h("p", { class: "hint" }, empty);
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h(
        "tbody",
        {},
        rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))),
      ),
    ),
  );
}

export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

export function fmtDate(s) {
  if (!s) return "—";
  return new Date(s).toLocaleString(lang === "nl" ? "nl-NL" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: "Europe/Amsterdam",
  });
}

/** A problem as plain words, with every listed detail (row errors, unmet conditions). */
export function problemText(err) {
  if (!(err instanceof ApiError)) return t("error_network");
  const p = err.problem;
  const base = err.slug === "unauthenticated" || err.slug === "token-revoked" ? t("error_login") : t("error_api", { title: p.title || err.status });
  return p.detail ? `${base} ${p.detail}` : base;
}

export function errorBox(err) {
  console.warn(err);
  const box = h("div", { class: "note bad", role: "alert" }, h("p", {}, problemText(err)));
  const p = (err instanceof ApiError && err.problem) || {};
  if (Array.isArray(p.unmet) && p.unmet.length) box.append(h("ul", {}, p.unmet.map((u) => h("li", {}, u))));
  if (Array.isArray(p.errors) && p.errors.length && p.errors[0] && "row" in p.errors[0]) {
    box.append(
      table(
        t("roll_errors", { n: p.error_count ?? p.errors.length }),
        [t("col_row"), t("col_field"), t("col_reason")],
        p.errors.map((e) => [String(e.row), e.field || "—", e.reason]),
      ),
    );
  } else if (Array.isArray(p.errors) && p.errors.length) {
    box.append(h("ul", {}, p.errors.map((e) => h("li", {}, `${(e.loc || []).join(".")}: ${e.msg || e.message || ""}`))));
  }
  return box;
}

/** A place for the outcome of an action: `show(node)` replaces its content. */
export function outcome() {
  const el = h("div", { class: "outcome" });
  return {
    el,
    show(...nodes) {
      el.replaceChildren(...nodes.flat().filter(Boolean));
      const first = el.querySelector("[role=alert], [role=status]");
      if (first) first.setAttribute("tabindex", "-1");
    },
  };
}

/** Save a Blob as a file (the browser's download). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, class: "visually-hidden" }, name);
  document.body.append(a);
  a.click();
  setTimeout(() => {
    a.remove();
    URL.revokeObjectURL(url);
  }, 1000);
}

/** A button that runs `work` once at a time, with `busy` shown while it runs. */
export function action(label, work, cls = "", attrs = {}) {
  const b = button(label, null, cls, attrs);
  b.addEventListener("click", async () => {
    if (b.getAttribute("aria-disabled") === "true") return;
    b.setAttribute("aria-disabled", "true");
    try {
      await work(b);
    } finally {
      b.removeAttribute("aria-disabled");
      // An action that redrew its own part of the page took the button away: the focus must not
      // fall back to <body> — it goes to the outcome shown, else to the screen's heading.
      if (!b.isConnected && (!document.activeElement || document.activeElement === document.body)) {
        const to = document.querySelector("main [role=alert][tabindex], main [role=status][tabindex]") || document.querySelector("main h1");
        to?.focus();
      }
    }
  });
  return b;
}
