// Small DOM helpers: build elements, show a problem+json next to the fields it names, format money and dates.
import { t, lang } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function mount(target, ...children) {
  target.replaceChildren();
  append(target, children);
}

let ids = 0;
// A labelled input with a slot for its error: {name, label, type, value, hint, required, attrs}.
export function field({ name, label, type = "text", value = "", hint, required, attrs = {}, options }) {
  const id = `f-${name}-${++ids}`;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ");
  let control;
  if (options) {
    control = h("select", { id, name, "aria-describedby": describedBy, ...attrs },
      options.map(([v, text]) => h("option", { value: v, selected: String(v) === String(value) }, text)));
  } else if (type === "textarea") {
    control = h("textarea", { id, name, rows: 4, "aria-describedby": describedBy, required, ...attrs }, value);
  } else {
    control = h("input", { id, name, type, value, required, "aria-describedby": describedBy, ...attrs });
  }
  return h("div", { class: "field", "data-field": name },
    h("label", { for: id }, label),
    control,
    hint ? h("span", { class: "hint", id: hintId }, hint) : null,
    h("span", { class: "error", id: errorId, role: "alert", "data-error-for": name }));
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll("[data-error-for]")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const general = form.querySelector(".form-error");
  if (general) general.textContent = "";
}

export function setError(form, name, message) {
  const slot = form.querySelector(`[data-error-for="${name}"]`);
  if (!slot) return false;
  slot.textContent = message;
  const control = form.querySelector(`[name="${name}"]`);
  if (control) {
    control.setAttribute("aria-invalid", "true");
    control.focus();
  }
  return true;
}

// A refusal from the API shown where it belongs: each validation error next to the field its `loc` names
// (or `fieldOf[slug]` for a refusal about one field), the rest above the submit button.
export function showProblem(form, error, fieldOf = {}) {
  const problem = error.problem || { title: String(error.message || error), detail: "" };
  const slug = (problem.type || "").split("/").pop();
  let placed = false;
  for (const item of problem.errors || []) {
    const loc = (item.loc || []).filter((part) => typeof part === "string" && part !== "body" && part !== "query");
    const name = loc[0];
    if (name && setError(form, name, item.msg)) placed = true;
  }
  if (!placed && fieldOf[slug]) placed = setError(form, fieldOf[slug], problem.detail || problem.title);
  if (!placed) {
    const general = form.querySelector(".form-error");
    if (general) general.textContent = `${problem.title}${problem.detail ? ": " + problem.detail : ""}`;
  }
}

export function formError() {
  return h("p", { class: "error form-error", role: "alert" });
}

export function values(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// Amounts typed in major units ("129", "129.5", "129.50") to integer minor units, without floats.
export function toMinor(text) {
  const found = /^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$/.exec(text || "");
  if (!found) return null;
  return Number(found[1]) * 100 + Number((found[2] || "0").padEnd(2, "0"));
}

export function money(minor, currency = "CNY") {
  // Formatted from a decimal string (exact: Intl reads strings as decimals), never from a float.
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  const text = `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
  try {
    return new Intl.NumberFormat(lang(), { style: "currency", currency }).format(text);
  } catch {
    return `${text} ${currency}`;
  }
}

export function number(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString(lang());
}

export function percentBps(bps) {
  if (bps === null || bps === undefined) return "—";
  return `${Math.trunc(bps / 100)}.${String(Math.abs(bps % 100)).padStart(2, "0")} %`;
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(lang(), { dateStyle: "medium", timeStyle: "short" });
}

export function newId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const tail = Array.from(bytes, (b) => b.toString(36).padStart(2, "0")).join("").slice(0, 10).toUpperCase();
  return `${prefix}-${tail}`;
}

export function busy(button, on) {
  button.disabled = on;
  button.setAttribute("aria-busy", on ? "true" : "false");
}

export function heading(key, vars) {
  return h("h1", {}, t(key, vars));
}
