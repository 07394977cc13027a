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

// The one way a console form is sent: the button busy, earlier errors cleared, the handler given the form's
// values; a refusal shown where it belongs (showProblem), `failed(error)` told of it first.
export function submits(form, handler, { fieldOf = {}, failed = () => {} } = {}) {
  return async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector("button[type=submit]");
    busy(button, true);
    try {
      await handler(values(form));
    } catch (e) {
      failed(e);
      showProblem(form, e, fieldOf);
    } finally {
      busy(button, false);
    }
  };
}

// A write sent exactly once: `slot` names its client id (pending, below), forgotten once an answer says what
// happened (done, or refused: a refusal writes nothing) and kept when none came (status 0, 5xx), so sending again
// replays the first write.
export function submitsOnce(form, slot, handler, fieldOf = {}) {
  return submits(form, async (sent) => {
    await handler(sent);
    settle(slot);
  }, { fieldOf, failed: (e) => { if (e.status >= 400 && e.status < 500) settle(slot); } });
}

export function formError() {
  return h("p", { class: "error form-error", role: "alert" });
}

export function values(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// A currency's minor-unit digits as ISO 4217 has them (CNY 2, JPY 0, KWD 3), from the browser's Intl data: the
// service counts amounts the same way (loyalty.shared.money).
export function digitsOf(currency = "CNY") {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

// Amounts typed in major units ("129", "129.5", "129,50") to integer minor units, without floats.
export function toMinor(text, currency = "CNY") {
  const digits = digitsOf(currency);
  const pattern = digits ? new RegExp(`^\\s*(\\d{1,9})(?:[.,](\\d{1,${digits}}))?\\s*$`) : /^\s*(\d{1,12})\s*$/;
  const found = pattern.exec(text || "");
  if (!found) return null;
  return Number(found[1]) * 10 ** digits + Number((found[2] || "").padEnd(digits, "0") || "0");
}

// Minor units as a decimal string ("1234.50"), exact.
export function major(minor, currency = "CNY") {
  const digits = digitsOf(currency);
  const sign = minor < 0 ? "-" : "";
  const text = String(Math.abs(minor)).padStart(digits + 1, "0");
  return digits ? `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}` : `${sign}${text}`;
}

export function money(minor, currency = "CNY") {
  // Formatted from a decimal string (exact: Intl reads strings as decimals), never from a float.
  try {
    return new Intl.NumberFormat(lang(), { style: "currency", currency }).format(major(minor, currency));
  } catch {
    return `${major(minor, currency)} ${currency}`;
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

// Ids and keys of writes whose outcome is not known yet (no answer: the network, a 5xx), kept for the tab's
// life by what they are for (a member and an action), so whatever the cashier does next, sending it again
// replays the first write instead of making a second. Settled (forgotten) once an answer says what happened.
const PENDING = "loyalty-console-pending";

function pendingAll() {
  try {
    return JSON.parse(sessionStorage.getItem(PENDING) || "{}");
  } catch {
    return {};
  }
}

export function pending(slot, make) {
  const all = pendingAll();
  return all[slot] ?? make();
}

export function hold(slot, value) {
  sessionStorage.setItem(PENDING, JSON.stringify({ ...pendingAll(), [slot]: value }));
}

export function settle(slot) {
  const all = pendingAll();
  delete all[slot];
  sessionStorage.setItem(PENDING, JSON.stringify(all));
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
