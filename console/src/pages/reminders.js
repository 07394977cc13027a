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

// A rule names a SKU or a category and has an interval, a usage guide (zh-CN and en: a title, a text, an optional
// https link), or both (docs/reminders.md). "Edit" takes a rule back into the form; "Add" puts it back.
const GUIDE_LANGS = [["zh-CN", "zh"], ["en", "en"]];
const GUIDE_FIELDS = ["title", "text", "link"];
const GUIDE_LIMITS = { title: 120, text: 1000, link: 500 };

function guideOf(v) {
  const guide = {};
  for (const [lang, suffix] of GUIDE_LANGS) {
    const g = Object.fromEntries(GUIDE_FIELDS.map((f) => [f, (v[`${f}_${suffix}`] || "").trim()]));
    if (!g.title && !g.text && !g.link) continue;
    guide[lang] = { title: g.title, text: g.text, ...(g.link ? { link: g.link } : {}) };
  }
  return Object.keys(guide).length ? guide : null;
}

function guideProblem(v) {
  for (const [, suffix] of GUIDE_LANGS) {
    const [title, text, link] = GUIDE_FIELDS.map((f) => (v[`${f}_${suffix}`] || "").trim());
    if (!title && !text && !link) continue;
    if (!title) return [`title_${suffix}`, t("rem.guide_needs_title")];
    if (!text) return [`text_${suffix}`, t("rem.guide_needs_text")];
    if (link && !/^https:\/\/\S+$/.test(link)) return [`link_${suffix}`, t("rem.guide_https")];
  }
  return null;
}

function replacementsCard(list) {
  const done = h("div", { "aria-live": "polite" });
  let rows = list.slice();
  const table = h("div", { class: "scroll", tabindex: 0 });
  const addButton = h("button", { type: "button", class: "secondary", "data-action": "add-rule" }, t("add"));
  const guideSummary = (r) => (r.guide ? GUIDE_LANGS.filter(([lang]) => r.guide[lang]).map(([lang]) => r.guide[lang].title).join(" · ") : "—");
  const draw = () => mount(table, rows.length ? h("table", {},
    h("thead", {}, h("tr", {}, [t("rem.target"), t("rem.name"), t("rem.interval_days"), t("rem.guide"), ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r, i) => h("tr", { "data-rule": r.sku || r.category }, h("td", {}, r.sku ? `SKU ${r.sku}` : `${t("rem.category")} ${r.category}`), h("td", {}, r.name || ""),
      h("td", { class: "num" }, r.interval_days == null ? "—" : String(r.interval_days)),
      h("td", { "data-guide": "" }, guideSummary(r)),
      h("td", { class: "rule-actions" },
        h("button", { type: "button", class: "secondary", "data-action": "edit-rule", "aria-label": t("rem.edit", { what: r.sku || r.category }), onclick: () => edit(i) }, t("rem.edit_short")),
        h("button", { type: "button", class: "secondary", "aria-label": t("rem.remove", { what: r.sku || r.category }), onclick: () => { rows.splice(i, 1); draw(); } }, t("remove")))))))
    : h("p", { class: "muted" }, t("rem.no_rules")));
  const guideFields = (suffix, legend) => h("fieldset", { class: "guide", "data-guide-lang": suffix },
    h("legend", {}, legend),
    field({ name: `title_${suffix}`, label: t("rem.guide_title"), attrs: { maxlength: GUIDE_LIMITS.title } }),
    field({ name: `text_${suffix}`, label: t("rem.guide_text"), type: "textarea", hint: t("rem.guide_text.hint"), attrs: { maxlength: GUIDE_LIMITS.text } }),
    field({ name: `link_${suffix}`, label: t("rem.guide_link"), type: "url", hint: t("rem.guide_link.hint"), attrs: { maxlength: GUIDE_LIMITS.link } }));
  const form = h("form", { class: "card", "data-form": "replacements", novalidate: true, "aria-labelledby": "rep-title" },
    h("h2", { id: "rep-title" }, t("rem.replacements")), h("p", { class: "muted" }, t("rem.replacements.hint")), table,
    h("div", { class: "row" }, field({ name: "sku", label: "SKU" }), field({ name: "category", label: t("rem.category") }),
      field({ name: "name", label: t("rem.name") }),
      field({ name: "interval", label: t("rem.interval_days"), type: "number", hint: t("rem.interval_days.hint"), attrs: { min: 1, step: 1 } })),
    h("div", { class: "row" }, guideFields("zh", t("rem.guide_zh")), guideFields("en", t("rem.guide_en"))),
    addButton, formError(), h("button", { type: "submit" }, t("save")), done);
  const control = (name) => form.elements.namedItem(name);
  function edit(i) {
    const [r] = rows.splice(i, 1);
    clearErrors(form);
    control("sku").value = r.sku || "";
    control("category").value = r.category || "";
    control("name").value = r.name || "";
    control("interval").value = r.interval_days == null ? "" : String(r.interval_days);
    for (const [lang, suffix] of GUIDE_LANGS) {
      for (const f of GUIDE_FIELDS) control(`${f}_${suffix}`).value = (r.guide && r.guide[lang] && r.guide[lang][f]) || "";
    }
    draw();
    control("sku").focus();
  }
  addButton.addEventListener("click", () => {
    const v = values(form);
    clearErrors(form);
    if (!v.sku.trim() && !v.category.trim()) return setError(form, "sku", t("rem.sku_or_category"));
    if (v.sku.trim() && v.category.trim()) return setError(form, "category", t("rem.sku_or_category"));
    if (v.interval.trim() && !/^\d+$/.test(v.interval.trim())) return setError(form, "interval", t("program.integer"));
    const problem = guideProblem(v);
    if (problem) return setError(form, ...problem);
    const guide = guideOf(v);
    if (!v.interval.trim() && !guide) return setError(form, "interval", t("rem.interval_or_guide"));
    rows.push({ ...(v.sku.trim() ? { sku: v.sku.trim() } : { category: v.category.trim() }), ...(v.name.trim() ? { name: v.name.trim() } : {}),
      interval_days: v.interval.trim() ? Number(v.interval) : null, guide });
    for (const name of ["sku", "category", "name", "interval", ...GUIDE_LANGS.flatMap(([, s]) => GUIDE_FIELDS.map((f) => `${f}_${s}`))]) control(name).value = "";
    draw();
  });
  draw();
  return saver(form, async () => {
    const saved = await api("PUT", "/v1/outreach/replacements", { body: { rules: rows } });
    rows = saved.rules.slice();
    draw();
  }, done);
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
      field({ name: "occasion", label: t("rem.occasion"), hint: t("rem.occasion.hint") }),
      h("button", { type: "submit" }, t("rem.show_preview"))),
    formError(), out);
  form.addEventListener("submit", submits(form, async (v) => {
    const email = await api("POST", "/v1/outreach/preview", { body: { member_id: v.member_id.trim(), kind: v.kind,
      ...(v.occasion.trim() ? { occasion: v.occasion.trim() } : {}) } });
    mount(out, h("div", { class: "card" }, h("p", {}, h("strong", {}, email.subject)),
      h("iframe", { title: t("rem.preview"), sandbox: "", srcdoc: email.html, style: "width:100%;height:320px;border:1px solid #d0d7de" })));
  }, { fieldOf: { "not-found": "member_id" } }));
  return form;
}
