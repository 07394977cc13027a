// Reminders (admin): the cadence, cap and quiet hours; holidays; replacement intervals; campaigns with a
// preview of the email and their counts.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, mount, field, formError, values, clearErrors, showProblem, setError, newId, number, submits } from "../ui.js";

const SETTINGS = [
  ["min_gap_hours", "number"], ["max_per_30_days", "number"], ["quiet_start", "time"], ["quiet_end", "time"],
  ["greeting_after_days", "number"], ["checkin_after_days", "number"], ["winback_after_days", "number"], ["default_time_zone", "text"],
  ["staff_email", "email"], ["staff_locale", "locale"],  // where unanswered complaints alert (docs/feedback.md)
];
const ALERT_LANGUAGES = [["zh-CN", "中文"], ["en", "English"]];
const KINDS = ["thank_you", "greeting", "checkin", "replacement", "birthday", "holiday", "points_available", "winback", "campaign"];

function saver(form, handler, done) {
  form.addEventListener("submit", submits(form, async (sent) => {
    await handler(sent);
    mount(done, h("p", { class: "result", role: "status" }, t("saved")));
  }));
  return form;
}

export async function remindersPage(main) {
  mount(main, h("p", { class: "muted" }, t("loading")));
  const [settings, holidays, replacements] = await Promise.all([
    api("GET", "/v1/outreach/settings"), api("GET", "/v1/outreach/holidays"), api("GET", "/v1/outreach/replacements")]);
  mount(main, h("h1", {}, t("rem.title")), settingsForm(settings), holidaysCard(holidays.holidays),
    replacementsCard(replacements.rules), campaignCard(), previewCard());
}

function settingsForm(settings) {
  const done = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", "data-form": "settings", novalidate: true, "aria-labelledby": "set-title" },
    h("h2", { id: "set-title" }, t("rem.settings")),
    h("div", { class: "row" }, SETTINGS.map(([name, type]) => field({ name, type, label: t(`rem.${name}`), value: settings[name] ?? "",
      ...(type === "locale" ? { options: ALERT_LANGUAGES } : {}) }))),
    formError(), h("button", { type: "submit" }, t("save")), done);
  return saver(form, async (v) => {
    const body = {};
    for (const [name, type] of SETTINGS) {
      if (type === "number") {
        if (!/^\d+$/.test(v[name])) throw { problem: { errors: [{ loc: ["body", name], msg: t("program.integer") }] } };
        body[name] = Number(v[name]);
      } else if (name === "staff_email") body[name] = v[name].trim() || null;
      else body[name] = v[name];
    }
    await api("PUT", "/v1/outreach/settings", { body });
  }, done);
}

function holidaysCard(list) {
  const done = h("div", { "aria-live": "polite" });
  let rows = list.slice();
  const table = h("div", { class: "scroll", tabindex: 0 });
  const draw = () => mount(table, rows.length ? h("table", {},
    h("thead", {}, h("tr", {}, [t("rem.date"), "中文", "English", ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r, i) => h("tr", {}, h("td", {}, r.date), h("td", {}, r.names["zh-CN"] || ""), h("td", {}, r.names.en || ""),
      h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": t("rem.remove", { what: r.date }), onclick: () => { rows.splice(i, 1); draw(); } }, t("remove")))))))
    : h("p", { class: "muted" }, t("rem.no_holidays")));
  draw();
  const form = h("form", { class: "card", "data-form": "holidays", novalidate: true, "aria-labelledby": "hol-title" },
    h("h2", { id: "hol-title" }, t("rem.holidays")), table,
    h("div", { class: "row" }, field({ name: "date", label: t("rem.date"), type: "date" }), field({ name: "zh", label: t("rem.name_zh") }),
      field({ name: "en", label: t("rem.name_en") }),
      h("button", { type: "button", class: "secondary", onclick: () => {
        const v = values(form);
        clearErrors(form);
        if (!v.date) return setError(form, "date", t("counter.required"));
        rows.push({ holiday_id: `h-${v.date}`, date: v.date, names: Object.fromEntries([["zh-CN", v.zh], ["en", v.en]].filter(([, x]) => x)) });
        rows.sort((a, b) => a.date.localeCompare(b.date));
        draw();
      } }, t("add"))),
    formError(), h("button", { type: "submit" }, t("save")), done);
  return saver(form, async () => { await api("PUT", "/v1/outreach/holidays", { body: { holidays: rows } }); }, done);
}

function replacementsCard(list) {
  const done = h("div", { "aria-live": "polite" });
  let rows = list.slice();
  const table = h("div", { class: "scroll", tabindex: 0 });
  const draw = () => mount(table, rows.length ? h("table", {},
    h("thead", {}, h("tr", {}, [t("rem.target"), t("rem.name"), t("rem.interval_days"), ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r, i) => h("tr", {}, h("td", {}, r.sku ? `SKU ${r.sku}` : `${t("rem.category")} ${r.category}`), h("td", {}, r.name || ""),
      h("td", { class: "num" }, String(r.interval_days)),
      h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": t("rem.remove", { what: r.sku || r.category }), onclick: () => { rows.splice(i, 1); draw(); } }, t("remove")))))))
    : h("p", { class: "muted" }, t("rem.no_rules")));
  draw();
  const form = h("form", { class: "card", "data-form": "replacements", novalidate: true, "aria-labelledby": "rep-title" },
    h("h2", { id: "rep-title" }, t("rem.replacements")), table,
    h("div", { class: "row" }, field({ name: "sku", label: "SKU" }), field({ name: "category", label: t("rem.category") }),
      field({ name: "interval", label: t("rem.interval_days"), type: "number", attrs: { min: 1, step: 1 } }),
      h("button", { type: "button", class: "secondary", onclick: () => {
        const v = values(form);
        clearErrors(form);
        if (!v.sku && !v.category) return setError(form, "sku", t("rem.sku_or_category"));
        if (!/^\d+$/.test(v.interval)) return setError(form, "interval", t("program.integer"));
        rows.push({ ...(v.sku ? { sku: v.sku } : { category: v.category }), interval_days: Number(v.interval) });
        draw();
      } }, t("add"))),
    formError(), h("button", { type: "submit" }, t("save")), done);
  return saver(form, async () => { await api("PUT", "/v1/outreach/replacements", { body: { rules: rows } }); }, done);
}

function counts(c) {
  return h("dl", { class: "stats", "data-counts": "" }, ["targeted", "sent", "suppressed", "dropped", "failed"].map((k) =>
    h("div", { class: "stat" }, h("dt", { class: "label" }, t(`rem.count.${k}`)), h("dd", { class: "value" }, number(c[k])))));
}

function campaignCard() {
  const done = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", "data-form": "campaign", novalidate: true, "aria-labelledby": "camp-title" },
    h("h2", { id: "camp-title" }, t("rem.campaigns")),
    h("div", { class: "row" }, field({ name: "campaign_id", label: t("rem.campaign_id"), value: newId("C"), hint: t("rem.campaign_id.hint") }),
      h("button", { type: "button", class: "secondary", onclick: async () => {
        clearErrors(form);
        try {
          const c = await api("GET", `/v1/outreach/campaigns/${encodeURIComponent(values(form).campaign_id.trim())}`);
          mount(done, h("div", { class: "result", role: "status" }, h("p", {}, c.headline["zh-CN"] || c.headline.en || c.campaign_id), counts(c.counts)));
        } catch (e) { showProblem(form, e, { "not-found": "campaign_id" }); }
      } }, t("rem.lookup"))),
    h("div", { class: "row" }, field({ name: "headline_zh", label: t("rem.headline_zh") }), field({ name: "headline_en", label: t("rem.headline_en") })),
    h("div", { class: "row" }, field({ name: "message_zh", label: t("rem.message_zh"), type: "textarea" }), field({ name: "message_en", label: t("rem.message_en"), type: "textarea" })),
    field({ name: "categories", label: t("rem.filter_categories"), hint: t("rem.filter_categories.hint") }),
    formError(), h("button", { type: "submit" }, t("rem.start")), done);
  form.addEventListener("submit", submits(form, async (v) => {
    const pick = (zh, en) => Object.fromEntries([["zh-CN", zh.trim()], ["en", en.trim()]].filter(([, x]) => x));
    const categories = v.categories.split(/[,\s，]+/).filter(Boolean);
    const c = await api("POST", "/v1/outreach/campaigns", { body: { campaign_id: v.campaign_id.trim(), headline: pick(v.headline_zh, v.headline_en),
      message: pick(v.message_zh, v.message_en), ...(categories.length ? { filter: { purchased_categories: categories } } : {}) } });
    mount(done, h("div", { class: "result", role: "status" }, h("p", {}, t("rem.started", { id: c.campaign_id })), counts(c.counts)));
  }, { fieldOf: { "idempotency-mismatch": "campaign_id" } }));
  return form;
}

function previewCard() {
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", "data-form": "preview", novalidate: true, "aria-labelledby": "prev-title" },
    h("h2", { id: "prev-title" }, t("rem.preview")),
    h("div", { class: "row" }, field({ name: "member_id", label: t("rem.member_id") }),
      field({ name: "kind", label: t("rem.kind"), value: "thank_you", options: KINDS.map((k) => [k, t(`reminder.${k}`)]) }),
      h("button", { type: "submit" }, t("rem.show_preview"))),
    formError(), out);
  form.addEventListener("submit", submits(form, async (v) => {
    const email = await api("POST", "/v1/outreach/preview", { body: { member_id: v.member_id.trim(), kind: v.kind } });
    mount(out, h("div", { class: "card" }, h("p", {}, h("strong", {}, email.subject)),
      h("iframe", { title: t("rem.preview"), sandbox: "", srcdoc: email.html, style: "width:100%;height:320px;border:1px solid #d0d7de" })));
  }, { fieldOf: { "not-found": "member_id" } }));
  return form;
}
