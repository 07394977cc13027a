// Partners (admin): the list with each partner's commission, adding one; a partner's page (admin, or the partner
// itself: its home page) with its commission, links, report, ledger and (admin) payouts; what links disclose.
import { api, apiFile } from "../api.js";
import { roles } from "../auth.js";
import { t, lang, addWords } from "../i18n.js";
import { h, mount, field, formError, values, clearErrors, showProblem, setError, submits, submitsOnce, money, number,
  percentBps, major, toMinor, newId, pending, hold, when } from "../ui.js";
import { toBps, paidOut, reportSeries, rowCommission, fileName } from "../commission.js";
import { WORDS } from "./partners.words.js";

addWords(WORDS);

const PAGE = 20;
const METRICS = ["clicks", "unique_clicks", "sign_ups", "purchases"];

async function currencyOf() {
  return (await api("GET", "/v1/program").catch(() => ({}))).currency || "CNY";
}

function failure(e) {
  return h("p", { class: "error", role: "alert" }, e.problem?.detail || e.problem?.title || e.message);
}

function stat(label, value, name) {
  return h("div", { class: "stat", "data-stat": name }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
}

// --- the list ---------------------------------------------------------------------------------------------------

export async function partnersPage(main) {
  mount(main, h("p", { class: "muted" }, t("loading")));
  const currency = await currencyOf();
  const list = h("div", { "aria-live": "polite" });
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", "data-form": "partner", novalidate: true, "aria-labelledby": "add-title" },
    h("h2", { id: "add-title" }, t("partners.add")),
    h("div", { class: "row" },
      field({ name: "partner_id", label: t("partners.id"), required: true, hint: t("partners.id.hint"), attrs: { autocomplete: "off" } }),
      field({ name: "name", label: t("partners.name"), required: true }),
      field({ name: "email", label: t("partners.email"), type: "email", required: true })),
    h("div", { class: "row" },
      field({ name: "commission_rate", label: t("partners.rate"), value: "5", required: true, hint: t("partners.rate.hint"),
        attrs: { inputmode: "decimal", autocomplete: "off" } }),
      field({ name: "attribution_days", label: t("partners.days"), type: "number", value: "30", required: true,
        hint: t("partners.days.hint"), attrs: { min: 1, max: 365, step: 1 } })),
    formError(), h("button", { type: "submit" }, t("partners.create")), result);
  // Exactly once by partner_id (the partner's own id is the write's id): sending the same again answers the first.
  form.addEventListener("submit", submits(form, async (v) => {
    const bps = toBps(v.commission_rate);
    if (bps === null) return setError(form, "commission_rate", t("partners.rate.bad"));
    if (!/^\d{1,3}$/.test(v.attribution_days)) return setError(form, "attribution_days", t("program.integer"));
    const made = await api("POST", "/v1/partners", { body: { partner_id: v.partner_id.trim(), name: v.name.trim(),
      email: v.email.trim(), commission_bps: bps, attribution_days: Number(v.attribution_days) } });
    mount(result, h("p", { class: "result", role: "status" }, t("partners.created", { name: made.name })));
    for (const name of ["partner_id", "name", "email"]) form.querySelector(`[name=${name}]`).value = "";
    await showList();
  }, { fieldOf: { "idempotency-mismatch": "partner_id" } }));

  mount(main, h("h1", {}, t("partners.title")),
    h("p", {}, h("a", { href: "#/link-settings" }, t("links.settings.title"))),
    h("section", { class: "card", "aria-labelledby": "list-title" }, h("h2", { id: "list-title" }, t("partners.list")), list),
    form);

  async function showList() {
    let items;
    try {
      ({ items } = await api("GET", "/v1/partners"));
    } catch (e) {
      return mount(list, failure(e));
    }
    if (!items.length) return mount(list, h("p", { class: "muted" }, t("partners.none")));
    const balances = [];
    for (let i = 0; i < items.length; i += 5) { // five at a time, as the programme's versions are read
      balances.push(...await Promise.all(items.slice(i, i + 5).map((p) =>
        api("GET", `/v1/partners/${encodeURIComponent(p.partner_id)}/commission`).catch(() => null))));
    }
    mount(list, h("div", { class: "scroll", tabindex: 0 }, h("table", { "data-partners": "" },
      h("thead", {}, h("tr", {}, [[t("partners.name")], [t("partners.id")], [t("partners.rate.short"), "num"], [t("partners.days.short"), "num"],
        [t("commission.available"), "num"], [t("commission.pending"), "num"]].map(([c, cls]) => h("th", { scope: "col", class: cls }, c)))),
      h("tbody", {}, items.map((p, i) => h("tr", { "data-partner": p.partner_id },
        h("td", {}, h("a", { href: `#/partner/${encodeURIComponent(p.partner_id)}` }, p.name)),
        h("td", { class: "mono" }, p.partner_id),
        h("td", { class: "num" }, percentBps(p.commission_bps)),
        h("td", { class: "num" }, number(p.attribution_days)),
        h("td", { class: "num", "data-cell": "available" }, balances[i] ? money(balances[i].available, currency) : "—"),
        h("td", { class: "num", "data-cell": "pending" }, balances[i] ? money(balances[i].pending, currency) : "—")))))));
  }
  await showList();
}

// --- one partner ------------------------------------------------------------------------------------------------

export async function partnerPage(main, partnerId) {
  const path = `/v1/partners/${encodeURIComponent(partnerId)}`;
  mount(main, h("p", { class: "muted" }, t("loading")));
  let partner;
  let currency;
  try {
    [partner, currency] = await Promise.all([api("GET", path), currencyOf()]);
  } catch (e) {
    return mount(main, h("h1", {}, t("partner.title")), failure(e));
  }
  const admin = roles().admin;
  const balance = h("div", { "aria-live": "polite" });
  const ledger = h("div");
  const links = h("div");
  const report = h("div");
  mount(main,
    h("h1", {}, partner.name),
    h("p", { class: "muted" }, [partner.partner_id, partner.email, t("partner.terms", { rate: percentBps(partner.commission_bps),
      days: partner.attribution_days })].join(" · ")),
    h("section", { "aria-labelledby": "balance-title" }, h("h2", { id: "balance-title" }, t("partner.balance")), balance),
    admin ? payoutForm(path, currency, () => refresh()) : null,
    h("section", { class: "card", "aria-labelledby": "links-title" }, h("h2", { id: "links-title" }, t("links.title")), links),
    h("section", { class: "card", "aria-labelledby": "report-title" }, h("h2", { id: "report-title" }, t("report.title")), report),
    h("section", { class: "card", "aria-labelledby": "pledger-title" }, h("h2", { id: "pledger-title" }, t("partner.ledger")), ledger));

  async function refresh() {
    try {
      const b = await api("GET", `${path}/commission`);
      mount(balance, h("div", { class: "stats" },
        stat(t("commission.available"), money(b.available, currency), "available"),
        stat(t("commission.pending"), money(b.pending, currency), "pending"),
        b.queued ? stat(t("commission.queued"), money(b.queued, currency), "queued") : null,
        stat(t("commission.paid"), money(paidOut(b), currency), "paid"),
        stat(t("commission.earned"), money(b.lifetime_earned, currency), "earned")));
    } catch (e) {
      mount(balance, failure(e));
    }
    await showLedger(ledger, path, null, currency).catch((e) => mount(ledger, failure(e)));
  }
  linksSection(links, partnerId);
  reportSection(report, path, partnerId, currency);
  await refresh();
}

function payoutForm(path, currency, done) {
  const slot = `payout:${path}`;
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", "data-form": "payout", novalidate: true, "aria-labelledby": "payout-title" },
    h("h2", { id: "payout-title" }, t("payout.title")),
    h("div", { class: "row" },
      field({ name: "amount", label: t("payout.amount", { currency }), required: true, hint: t("payout.amount.hint"),
        attrs: { inputmode: "decimal", autocomplete: "off" } }),
      h("button", { type: "submit" }, t("payout.send"))),
    formError(), result);
  form.addEventListener("submit", submitsOnce(form, slot, async ({ amount }) => {
    const minor = toMinor(amount, currency);
    if (!minor) return setError(form, "amount", t("counter.amount.bad"));
    const body = { payout_id: pending(slot, () => newId("PO")), amount_minor: minor };
    hold(slot, body.payout_id);
    const paid = await api("POST", `${path}/payouts`, { body });
    mount(result, h("p", { class: "result", role: "status" }, t("payout.done", { amount: money(paid.amount_minor, currency),
      left: money(paid.available_minor, currency) })));
    form.querySelector("[name=amount]").value = "";
    await done();
  }, { "insufficient-commission": "amount", "idempotency-mismatch": "amount" }));
  return form;
}

async function showLedger(slot, path, cursor, currency) {
  const page = await api("GET", `${path}/ledger?${new URLSearchParams(cursor ? { limit: PAGE, cursor } : { limit: PAGE })}`);
  const older = page.next_cursor ? h("button", { type: "button", class: "secondary", "data-action": "older",
    onclick: () => showLedger(slot, path, page.next_cursor, currency).catch(() => {}) }, t("ledger.older")) : null;
  const first = h("button", { type: "button", class: "secondary", onclick: () => showLedger(slot, path, null, currency).catch(() => {}) }, t("ledger.newest"));
  mount(slot, page.items.length ? h("div", { class: "scroll", tabindex: 0 }, h("table", { "data-ledger": "" },
    h("thead", {}, h("tr", {}, [["#", "num"], [t("ledger.when")], [t("ledger.kind")], [t("ledger.what")], [t("ledger.bucket")], [t("partner.amount"), "num"]]
      .map(([c, cls]) => h("th", { scope: "col", class: cls }, c)))),
    h("tbody", {}, page.items.map((e) => h("tr", { "data-seq": e.seq, "data-kind": e.kind },
      h("td", { class: "num" }, e.seq), h("td", {}, when(e.created_at)), h("td", {}, t(`kind.${e.kind}`)),
      h("td", {}, e.source ? `${t(`source.${e.source.type}`)} ${e.source.id}` : ""), h("td", {}, t(`bucket.${e.bucket}`)),
      h("td", { class: "num" }, `${e.amount > 0 ? "+" : ""}${money(e.amount, currency)}`)))))) : h("p", { class: "muted" }, t("ledger.empty")),
  h("div", { class: "row" }, cursor ? first : null, older));
}

// --- links ------------------------------------------------------------------------------------------------------

function linksSection(slot, partnerId) {
  const list = h("div", { "aria-live": "polite" });
  const formSlot = `link:${partnerId}`;
  const form = h("form", { "data-form": "link", novalidate: true, "aria-labelledby": "newlink-title" },
    h("h3", { id: "newlink-title" }, t("links.make")),
    h("div", { class: "row" },
      field({ name: "campaign", label: t("links.campaign"), hint: t("links.label.hint"), attrs: { autocomplete: "off" } }),
      field({ name: "sub_id", label: t("links.sub_id"), hint: t("links.label.hint"), attrs: { autocomplete: "off" } }),
      h("button", { type: "submit" }, t("links.create"))),
    formError());
  form.addEventListener("submit", submitsOnce(form, formSlot, async (v) => {
    const body = { link_id: pending(formSlot, () => newId("L")), partner_id: partnerId,
      campaign: v.campaign.trim() || null, sub_id: v.sub_id.trim() || null };
    hold(formSlot, body.link_id);
    await api("POST", "/v1/links", { body });
    form.reset();
    await show();
  }, {}));
  mount(slot, form, list);

  async function show() {
    try {
      const { items } = await api("GET", `/v1/links?${new URLSearchParams({ partner_id: partnerId })}`);
      mount(list, items.length ? h("ul", { class: "links" }, items.map(linkCard)) : h("p", { class: "muted" }, t("links.none")));
    } catch (e) {
      mount(list, failure(e));
    }
  }
  show();
}

function linkCard(link) {
  const copied = h("span", { class: "muted", role: "status" });
  const labels = [link.campaign && t("links.campaign.is", { v: link.campaign }), link.sub_id && t("links.sub_id.is", { v: link.sub_id })].filter(Boolean);
  return h("li", { class: "link", "data-link": link.code },
    h("img", { class: "qr", src: link.qr_svg, alt: t("links.qr.alt", { code: link.code }), width: 132, height: 132 }),
    h("div", { class: "link-body" },
      h("p", {}, h("strong", { class: "mono", "data-code": "" }, link.code), labels.length ? h("span", { class: "muted" }, ` · ${labels.join(" · ")}`) : null),
      h("p", { class: "mono", "data-url": "" }, link.url),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", "data-action": "copy", onclick: async () => {
          try {
            await navigator.clipboard.writeText(link.url);
            copied.textContent = t("links.copied");
          } catch {
            copied.textContent = t("links.copy.failed");
          }
        } }, t("links.copy")),
        h("a", { class: "button secondary", href: link.qr_svg, download: `${link.code}.svg`, "data-download": "svg" }, t("links.svg")),
        h("a", { class: "button secondary", href: link.qr_png, download: `${link.code}.png`, "data-download": "png" }, t("links.png")),
        copied),
      h("p", { class: "hint" }, t("links.disclosure")),
      h("blockquote", { class: "disclosure", "data-disclosure": "" }, link.disclosures?.[lang()] || link.disclosure)));
}

// --- the report -------------------------------------------------------------------------------------------------

function reportSection(slot, path, partnerId, currency) {
  const figures = h("div", { "aria-live": "polite" });
  const form = h("form", { "data-form": "report", novalidate: true, "aria-label": t("report.period") },
    h("div", { class: "row" },
      // Empty at first: the service's default period (the 30 days to its today), then the days it answered.
      field({ name: "from", label: t("dash.from"), type: "date" }),
      field({ name: "to", label: t("dash.to"), type: "date" }),
      field({ name: "group_by", label: t("report.group_by"), value: "day",
        options: [["day", t("report.by.day")], ["campaign", t("report.by.campaign")], ["sub_id", t("report.by.sub_id")]],
        attrs: { onchange: () => form.requestSubmit() } }),
      h("button", { type: "submit" }, t("dash.show")),
      h("button", { type: "button", class: "secondary", "data-action": "csv", onclick: () => download() }, t("report.csv"))),
    formError());
  let drawn = null;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  mount(slot, form, figures);

  function query(extra = {}) {
    const { from, to, group_by: groupBy } = values(form);
    return new URLSearchParams({ ...(from && to ? { from, to } : {}), group_by: groupBy, ...extra });
  }

  async function download() {
    clearErrors(form);
    const button = form.querySelector("[data-action=csv]");
    button.disabled = true;
    try {
      const { from, to, group_by: groupBy } = values(form);
      const { blob, disposition } = await apiFile(`${path}/report?${query({ format: "csv" })}`);
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: fileName(disposition, `${partnerId}-${from}-${to}-${groupBy}.csv`), hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      showProblem(form, e);
    } finally {
      button.disabled = false;
    }
  }

  async function load() {
    clearErrors(form);
    let r;
    try {
      r = await api("GET", `${path}/report?${query()}`);
    } catch (e) {
      return showProblem(form, e);
    }
    form.querySelector("[name=from]").value = r.first_day;
    form.querySelector("[name=to]").value = r.last_day;
    if (drawn) drawn.destroy();
    drawn = null;
    const keyLabel = t(`report.key.${r.group_by}`);
    const total = r.total;
    const cards = h("div", { class: "stats" },
      METRICS.map((m) => stat(t(`report.${m}`), number(total[m]), m)),
      stat(t("report.revenue"), money(total.revenue_minor, currency), "revenue"),
      stat(t("report.commission"), money(rowCommission(total), currency), "commission"));
    const table = h("details", { open: r.group_by !== "day" }, h("summary", {}, t("dash.table")),
      h("div", { class: "scroll", tabindex: 0 }, h("table", { "data-report": r.group_by },
        h("thead", {}, h("tr", {}, [[keyLabel], ...METRICS.map((m) => [t(`report.${m}`), "num"]), [t("report.revenue"), "num"],
          [t("report.commission"), "num"], [t("report.reversed"), "num"]].map(([c, cls]) => h("th", { scope: "col", class: cls }, c)))),
        h("tbody", {}, r.rows.map((row) => h("tr", { "data-key": row.key },
          h("td", {}, row.key || t("report.unlabelled")), METRICS.map((m) => h("td", { class: "num" }, number(row[m]))),
          h("td", { class: "num" }, money(row.revenue_minor, currency)), h("td", { class: "num" }, money(rowCommission(row), currency)),
          h("td", { class: "num" }, money(row.commission_reversed_minor, currency))))))));
    if (r.group_by !== "day") {
      return mount(figures, cards, r.rows.length ? table : h("p", { class: "muted" }, t("report.empty")));
    }
    const canvas = h("canvas", { role: "img", "aria-label": t("report.chart.aria", { from: r.first_day, to: r.last_day }) });
    mount(figures, cards, h("div", { class: "chart", "data-chart": "report" }, canvas), table);
    const { Chart } = await import("../charts.js");
    const s = reportSeries(r.rows);
    drawn = new Chart(canvas, {
      data: { labels: s.labels, datasets: [
        { type: "bar", label: t("report.clicks"), data: s.clicks, backgroundColor: "#0b57d0", yAxisID: "y" },
        { type: "bar", label: t("report.sign_ups"), data: s.signUps, backgroundColor: "#116329", yAxisID: "y" },
        { type: "line", label: t("report.commission.axis", { currency }), data: s.commission.map((c) => Number(major(c, currency))),
          borderColor: "#a40e26", backgroundColor: "#a40e26", yAxisID: "y1" },
      ] },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: true, position: "bottom" } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } },
          y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } },
    });
  }
  load();
}

// --- link settings ----------------------------------------------------------------------------------------------

const OWNERS = ["partner", "member"];

function language(locale) {
  try {
    return `${new Intl.DisplayNames([lang()], { type: "language" }).of(locale)}, ${locale}`;
  } catch {
    return locale;
  }
}

export async function linkSettingsPage(main) {
  mount(main, h("p", { class: "muted" }, t("loading")));
  let current;
  try {
    current = await api("GET", "/v1/links/settings");
  } catch (e) {
    return mount(main, h("h1", {}, t("links.settings.title")), failure(e));
  }
  const result = h("div", { "aria-live": "polite" });
  const locales = [...new Set(["zh-CN", "en", ...OWNERS.flatMap((o) => Object.keys(current.disclosures[o] || {}))])];
  const name = (owner, locale) => `${owner}.${locale}`;
  const form = h("form", { class: "card", "data-form": "link-settings", novalidate: true, "aria-labelledby": "settings-title" },
    h("h2", { id: "settings-title" }, t("links.settings.disclosures")),
    h("p", { class: "hint" }, t("links.settings.text")),
    OWNERS.map((owner) => h("fieldset", { "data-owner": owner }, h("legend", {}, t(`links.owner.${owner}`)),
      locales.map((locale) => field({ name: name(owner, locale), label: t("links.settings.locale", { locale: language(locale) }), type: "textarea",
        value: current.disclosures[owner]?.[locale] || "", attrs: { maxlength: 500, lang: locale, rows: 2 } })))),
    formError(), h("button", { type: "submit" }, t("save")), result);
  form.addEventListener("submit", submits(form, async (v) => {
    const disclosures = {};
    for (const owner of OWNERS) {
      disclosures[owner] = {};
      for (const locale of locales) {
        const text = (v[name(owner, locale)] || "").trim();
        if (text) disclosures[owner][locale] = text;
      }
      if (!Object.keys(disclosures[owner]).length) delete disclosures[owner];
    }
    const saved = await api("PUT", "/v1/links/settings", { body: { disclosures } });
    current = saved;
    mount(result, h("p", { class: "result", role: "status" }, t("saved")));
  }));
  mount(main, h("h1", {}, t("links.settings.title")),
    h("p", {}, h("a", { href: "#/partners" }, t("partners.back"))), form);
}
