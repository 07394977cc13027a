// The programme (admin): the current rules, every version, and publishing a new one after a diff of what changes.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, mount, field, formError, values, clearErrors, showProblem, setError, busy } from "../ui.js";

const FIELDS = ["points_per_currency_unit", "referral_rates_bps", "hold_days", "currency"];

function shown(key, value) {
  if (key === "referral_rates_bps") return value.length ? value.map((bps, i) => `L${i + 1} ${bps / 100} %`).join(", ") : t("program.no_levels");
  return String(value);
}

export async function programPage(main) {
  mount(main, h("p", { class: "muted" }, t("loading")));
  const current = await api("GET", "/v1/program");
  const versions = h("div", { class: "scroll", tabindex: 0 });
  const diff = h("div", { "aria-live": "polite" });
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", "data-form": "program", novalidate: true, "aria-labelledby": "edit-title" },
    h("h2", { id: "edit-title" }, t("program.edit")),
    h("div", { class: "row" },
      field({ name: "points_per_currency_unit", label: t("program.points_per_currency_unit"), type: "number", value: current.points_per_currency_unit, attrs: { min: 0, step: 1 } }),
      field({ name: "referral_rates_bps", label: t("program.referral_rates_bps"), value: current.referral_rates_bps.join(", "), hint: t("program.referral_rates_bps.hint") }),
      field({ name: "hold_days", label: t("program.hold_days"), type: "number", value: current.hold_days, attrs: { min: 0, step: 1 } }),
      field({ name: "currency", label: t("program.currency"), value: current.currency })),
    formError(),
    h("div", { class: "row" },
      h("button", { type: "button", class: "secondary", "data-action": "preview", onclick: () => preview() }, t("program.preview")),
      h("button", { type: "submit" }, t("program.publish"))),
    diff, result);

  function proposed() {
    const v = values(form);
    const rates = v.referral_rates_bps.trim() ? v.referral_rates_bps.split(/[,\s，]+/).filter(Boolean) : [];
    if (rates.some((r) => !/^\d+$/.test(r))) {
      setError(form, "referral_rates_bps", t("program.rates.bad"));
      return null;
    }
    for (const name of ["points_per_currency_unit", "hold_days"]) {
      if (!/^\d+$/.test(v[name])) {
        setError(form, name, t("program.integer"));
        return null;
      }
    }
    return { points_per_currency_unit: Number(v.points_per_currency_unit), referral_rates_bps: rates.map(Number),
      hold_days: Number(v.hold_days), currency: v.currency.trim() };
  }

  function preview() {
    clearErrors(form);
    const next = proposed();
    if (!next) return null;
    const changes = FIELDS.filter((k) => JSON.stringify(current[k]) !== JSON.stringify(next[k]));
    mount(diff, h("div", { class: "scroll", tabindex: 0 }, h("table", { "data-diff": "" },
      h("caption", { class: "muted" }, changes.length ? t("program.changes", { n: changes.length }) : t("program.unchanged")),
      h("thead", {}, h("tr", {}, [t("program.rule"), t("program.now", { v: current.version }), t("program.next")].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, FIELDS.map((k) => h("tr", { class: changes.includes(k) ? "changed" : "", "data-rule": k },
        h("td", {}, t(`program.${k}`)), h("td", {}, shown(k, current[k])), h("td", {}, shown(k, next[k]))))))));
    return { next, changes };
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const planned = preview();
    if (!planned) return;
    if (!planned.changes.length) return setError(form, "points_per_currency_unit", t("program.nothing"));
    const button = form.querySelector("button[type=submit]");
    busy(button, true);
    try {
      const published = await api("PUT", "/v1/program", { body: { ...planned.next, version: current.version } });
      mount(result, h("p", { class: "result", role: "status" }, t("program.published", { v: published.version })));
      setTimeout(() => programPage(main), 0);
    } catch (e) {
      showProblem(form, e);
    } finally {
      busy(button, false);
    }
  });

  mount(main, h("h1", {}, t("program.title")),
    h("p", { class: "muted" }, t("program.earning"), " ", h("a", { href: "#/earning" }, t("nav.earning"))),
    h("section", { class: "card", "aria-labelledby": "current-title" }, h("h2", { id: "current-title" }, t("program.current", { v: current.version })),
      h("dl", { "data-current": "" }, FIELDS.map((k) => [h("dt", {}, t(`program.${k}`)), h("dd", {}, shown(k, current[k]))]))),
    form,
    h("section", { class: "card", "aria-labelledby": "versions-title" }, h("h2", { id: "versions-title" }, t("program.versions")), versions));

  const numbers = Array.from({ length: Math.min(current.version, 50) }, (_, i) => current.version - i);
  const all = [];
  for (let i = 0; i < numbers.length; i += 5) { // five at a time: a shop behind one address stays under rate rules
    all.push(...await Promise.all(numbers.slice(i, i + 5).map((v) => api("GET", `/v1/program/versions/${v}`).catch(() => null))));
  }
  mount(versions, h("table", { "data-versions": "" },
    h("thead", {}, h("tr", {}, [t("program.version"), ...FIELDS.map((k) => t(`program.${k}`))].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, all.filter(Boolean).map((v) => h("tr", { "data-version": v.version }, h("td", {}, String(v.version)),
      FIELDS.map((k) => h("td", {}, shown(k, v[k]))))))));
}
