// Rehearsing a programme change (admin): a proposed programme (prefilled from the current one) and a period →
// POST /v1/program/simulations; while it runs (202) GET …/{simulation_id} with a progress bar; then what the
// proposed rules would have issued against what was issued, by level (and by day when the result has it), as a
// chart and as a table. Nothing is written to the ledger.
import { api } from "../api.js";
import { t, addWords } from "../i18n.js";
import { h, mount, field, formError, clearErrors, setError, showProblem, busy, newId, number, percentBps } from "../ui.js";
import { localToday, percentToBps, bpsToPercent, levels, days, progressPercent } from "../earning.js";
import { WORDS } from "./earning.words.js";

addWords(WORDS);

const POLL_MS = 1000;

function shiftDays(iso, n) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function levelName(level) {
  return t(`level.${Math.min(level, 2)}`, { n: level });
}

export async function simulationPage(main) {
  mount(main, h("p", { class: "muted" }, t("loading")));
  const current = await api("GET", "/v1/program");
  const { version, ...rules } = current;
  // The programme's answer says since when its expiry rule counts; a proposal names only the months, as PUT takes it.
  if (rules.expiry) rules.expiry = { months: rules.expiry.months };
  const today = localToday(current.timezone);
  const progress = h("div", { "aria-live": "polite" });
  const result = h("div", { "data-result": "" });
  // The knobs most changes turn, as fields that write into the JSON (which holds every rule and is what is sent).
  const sync = (key, parse) => (event) => {
    const value = parse(event.target.value);
    if (value === null) return;
    try {
      const all = JSON.parse(form.querySelector("[name=program]").value);
      all[key] = value;
      form.querySelector("[name=program]").value = JSON.stringify(all, null, 2);
    } catch {
      // the JSON is being edited by hand: it stays as typed
    }
  };
  const rates = (text) => {
    const parts = text.split(/[,\s，]+/).filter(Boolean).map(percentToBps);
    return parts.some((p) => p === null) ? null : parts;
  };
  const form = h("form", { class: "card", "data-form": "simulation", novalidate: true, "aria-labelledby": "sim-form-title" },
    h("h2", { id: "sim-form-title" }, t("sim.proposed")),
    h("div", { class: "row" },
      field({ name: "points_per_currency_unit", label: t("program.points_per_currency_unit"), value: rules.points_per_currency_unit,
        attrs: { inputmode: "numeric", oninput: sync("points_per_currency_unit", (v) => (/^\d{1,5}$/.test(v.trim()) ? Number(v) : null)) } }),
      field({ name: "referral_rates", label: t("sim.rates"), value: rules.referral_rates_bps.map(bpsToPercent).join(", "),
        hint: t("sim.rates.hint"), attrs: { oninput: sync("referral_rates_bps", rates) } })),
    h("details", {}, h("summary", {}, t("sim.json")),
      field({ name: "program", label: t("sim.json"), type: "textarea", value: JSON.stringify(rules, null, 2), hint: t("sim.json.hint"),
        attrs: { rows: 14, spellcheck: "false", class: "mono" } })),
    h("fieldset", {}, h("legend", {}, t("sim.period")), h("div", { class: "row" },
      field({ name: "from", label: t("sim.from"), type: "date", value: shiftDays(today, -29) }),
      field({ name: "to", label: t("sim.to"), type: "date", value: today }))),
    formError(), h("button", { type: "submit" }, t("sim.run")), progress);
  mount(main, h("h1", {}, t("sim.title")), h("p", { class: "muted" }, t("sim.intro"), " ",
    h("a", { href: "#/earning" }, t("earn.title"))), form, result);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    mount(result);
    const text = form.querySelector("[name=program]").value;
    let program;
    try {
      program = JSON.parse(text);
    } catch (e) {
      form.querySelector("details").open = true;
      return setError(form, "program", t("sim.json.bad", { reason: e.message }));
    }
    const from = form.querySelector("[name=from]").value;
    const to = form.querySelector("[name=to]").value;
    if (!from) return setError(form, "from", t("earn.bad.date"));
    if (!to) return setError(form, "to", t("earn.bad.date"));
    const button = form.querySelector("button[type=submit]");
    busy(button, true);
    const id = newId("SIM");
    try {
      let answer = await api("POST", "/v1/program/simulations", { body: { simulation_id: id, program, from, to } });
      while (answer && answer.status && answer.status !== "done") {
        const percent = progressPercent(answer.progress);
        mount(progress, h("div", { class: "field", "data-running": "" },
          h("label", { for: "sim-progress" }, t("sim.progress")),
          h("progress", percent === null ? { id: "sim-progress", max: 100 } : { id: "sim-progress", max: 100, value: percent }),
          h("span", { class: "hint" }, t("sim.running", { percent: percent === null ? "" : `${percent} %` }))));
        if (answer.status === "failed") break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        answer = await api("GET", `/v1/program/simulations/${encodeURIComponent(id)}`);
      }
      mount(progress);
      await showResult(result, answer);
    } catch (e) {
      mount(progress);
      if (e.status === 404 || e.status === 405) return mount(result, h("p", { class: "muted", "data-unavailable": "simulation" }, t("sim.unavailable")));
      // A problem about the proposed rules (loc ["body", "program", …]) is said at the rules.
      const problem = e.problem || {};
      for (const item of problem.errors || []) {
        const loc = (item.loc || []).filter((p) => p !== "body");
        if (loc[0] === "program") item.loc = ["program"];
      }
      form.querySelector("details").open = true;
      showProblem(form, e, { "validation-error": "program" });
    } finally {
      busy(button, false);
    }
  });
}

async function showResult(slot, r) {
  const cur = r.current || {};
  const prop = r.proposed || {};
  const diff = (prop.points_issued || 0) - (cur.points_issued || 0);
  const byLevel = new Map();
  for (const [level, points] of levels(cur)) byLevel.set(level, [points, 0]);
  for (const [level, points] of levels(prop)) byLevel.set(level, [byLevel.get(level)?.[0] || 0, points]);
  const rows = [...byLevel.entries()].sort((a, b) => a[0] - b[0]);
  const dayRows = days(r).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const levelCanvas = h("canvas", { role: "img", "aria-label": t("sim.by_level") });
  const dayCanvas = dayRows.length ? h("canvas", { role: "img", "aria-label": t("sim.by_day") }) : null;
  const stat = (label, value, name) => h("div", { class: "stat", "data-stat": name }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
  const table = (head, body) => h("details", {}, h("summary", {}, t("dash.table")), h("div", { class: "scroll", tabindex: 0 }, h("table", {},
    h("thead", {}, h("tr", {}, head.map(([c, cls]) => h("th", { scope: "col", class: cls }, c)))), h("tbody", {}, body))));
  mount(slot, h("section", { class: "card", "aria-labelledby": "sim-result-title" },
    h("h2", { id: "sim-result-title" }, t("sim.result")),
    h("div", { class: "stats" }, stat(t("sim.purchases"), number(r.purchases), "purchases"), stat(t("sim.members"), number(r.members), "members"),
      stat(t("sim.current"), number(cur.points_issued), "current"), stat(t("sim.proposed.total"), number(prop.points_issued), "proposed"),
      stat(t("sim.difference"), `${diff > 0 ? "+" : ""}${number(diff)}${r.change && r.change.bps !== null && r.change.bps !== undefined
        ? ` (${r.change.bps > 0 ? "+" : ""}${percentBps(r.change.bps)})` : ""}`, "difference"),
      r.earners ? stat(t("sim.earners"), t("sim.earners.text", { more: number(r.earners.more), fewer: number(r.earners.fewer),
        same: number(r.earners.same) }), "earners") : null),
    r.not_replayed?.length ? h("p", { class: "muted", "data-not-replayed": "" }, t("sim.not_replayed", { rules: r.not_replayed.join(", ") })) : null,
    h("h3", {}, t("sim.by_level")), h("div", { class: "chart", "data-chart": "by_level" }, levelCanvas),
    table([[t("sim.level")], [t("sim.current"), "num"], [t("sim.proposed.total"), "num"]],
      rows.map(([level, [a, b]]) => h("tr", { "data-level": level }, h("th", { scope: "row" }, levelName(level)),
        h("td", { class: "num" }, number(a)), h("td", { class: "num" }, number(b))))),
    dayCanvas ? [h("h3", {}, t("sim.by_day")), h("div", { class: "chart", "data-chart": "by_day" }, dayCanvas),
      table([[t("sim.day")], [t("sim.current"), "num"], [t("sim.proposed.total"), "num"]],
        dayRows.map(([day, [a, b]]) => h("tr", { "data-day": day }, h("th", { scope: "row" }, day),
          h("td", { class: "num" }, number(a)), h("td", { class: "num" }, number(b)))))] : null));
  const { Chart } = await import("../charts.js");
  const base = { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } };
  const sets = (pairs) => [
    { label: t("sim.current"), data: pairs.map(([, [a]]) => a), backgroundColor: "#5f6368", borderColor: "#5f6368" },
    { label: t("sim.proposed.total"), data: pairs.map(([, [, b]]) => b), backgroundColor: "#0b57d0", borderColor: "#0b57d0" }];
  new Chart(levelCanvas, { type: "bar", data: { labels: rows.map(([level]) => levelName(level)), datasets: sets(rows) }, options: base });
  if (dayCanvas) new Chart(dayCanvas, { type: "line", data: { labels: dayRows.map(([day]) => day), datasets: sets(dayRows) }, options: base });
}
