// The wallet in the console (docs/wallet.md): at the counter, top up (with the bonus it earns and the next tier's),
// withdraw, sell and use bundle cards, give and take coupons; on the member page, every asset; for the owner, the
// top-up tiers and limit, bundle products, coupon templates and the rewards catalogue. Loaded with the first
// wallet tab or page opened (its own chunk).
import { api } from "../api.js";
import { roles } from "../auth.js";
import { t, addWords } from "../i18n.js";
import { h, mount, field, formError, setError, toMinor, major, money, number, when, percentBps, newId, pending,
  hold, settle, submits, submitsOnce } from "../ui.js";
import { bundleRefund } from "../wallet.js";
import { WORDS } from "./wallet.words.js";

addWords(WORDS);

function failure(e) {
  return h("p", { class: "error", role: "alert" }, e.problem?.detail || e.problem?.title || e.message);
}

function stat(label, value, name) {
  return h("div", { class: "stat", "data-stat": name }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
}

function storedValue(member) {
  return member.balances.stored_value || { principal_minor: 0, bonus_minor: 0 };
}

// The stored value line a counter shows for a member.
export function storedValueLine(member, currency) {
  const sv = storedValue(member);
  const cur = sv.currency || currency;
  return t("sv.balance", { total: money(sv.principal_minor + sv.bonus_minor, cur), principal: money(sv.principal_minor, cur),
    bonus: money(sv.bonus_minor, cur) });
}

// --- the counter's wallet tabs ----------------------------------------------------------------------------------

// Each pane is `(member) => element`; `ctx` gives the programme (currency), the member code typed at the search,
// and `refresh()`, which reads the member again and returns it.
export function walletPanes(ctx) {
  return { topup: (member) => topUpPane(member, ctx), bundle: (member) => bundlePane(member, ctx),
    coupon: (member) => couponPane(member, ctx) };
}

function topUpPane(member, ctx) {
  const currency = ctx.program().currency;
  const slot = `top_up:${member.member_id}`;
  const result = h("div", { "aria-live": "polite" });
  const preview = h("p", { class: "muted", "data-preview": "", "aria-live": "polite" });
  let asked = 0;
  // The service's quote of what the typed amount earns (GET /v1/top-ups/quote): the same rules the top-up applies.
  const show = async () => {
    const amount = toMinor(form.querySelector("[name=amount]").value, currency);
    const ticket = ++asked;
    let q;
    try {
      q = await api("GET", `/v1/top-ups/quote?${new URLSearchParams({ member_id: member.member_id, amount_minor: amount || 1 })}`);
    } catch {
      return mount(preview);
    }
    if (ticket !== asked) return; // a later keystroke's answer is the one to show
    const lines = [];
    if (amount) {
      lines.push(q.bonus_minor ? t("sv.preview", { bonus: money(q.bonus_minor, currency), rate: percentBps(q.bonus_bps) })
        : t("sv.preview.none"));
      if (q.next) lines.push(t("sv.next", { more: money(q.next.more_minor, currency), at: money(q.next.min_minor, currency),
        rate: percentBps(q.next.bonus_bps), bonus: money(q.next.bonus_minor, currency) }));
      if (!q.fits) lines.push(t("sv.over", { room: money(q.room_minor, currency) }));
    }
    lines.push(t("sv.room", { room: money(q.room_minor, currency), cap: money(q.max_principal_minor, currency) }));
    mount(preview, lines.join(" "));
  };
  let typing = 0;
  const form = h("form", { "data-form": "top_up", novalidate: true },
    h("div", { class: "row" },
      field({ name: "top_up_id", label: t("sv.topup_id"), value: pending(slot, () => newId("TU")), required: true }),
      field({ name: "amount", label: t("sv.amount", { currency }), required: true,
        attrs: { inputmode: "decimal", autocomplete: "off", oninput: () => { clearTimeout(typing); typing = setTimeout(show, 200); } } })),
    preview, formError(), h("button", { type: "submit" }, t("sv.topup")), result);
  show();
  form.addEventListener("submit", submitsOnce(form, slot, async ({ top_up_id: topUpId, amount }) => {
    const minor = toMinor(amount, currency);
    if (!minor) return setError(form, "amount", t("wallet.amount.bad"));
    const body = { top_up_id: topUpId.trim(), member_id: member.member_id, amount_minor: minor, currency };
    hold(slot, body.top_up_id);
    const done = await api("POST", "/v1/top-ups", { body });
    const sv = done.balances?.stored_value || storedValue(await ctx.refresh());
    mount(result, h("p", { class: "result", role: "status" }, t("sv.done", { amount: money(done.amount_minor, currency),
      bonus: money(done.bonus_minor, currency), principal: money(sv.principal_minor, currency), bonus_total: money(sv.bonus_minor, currency) })));
    form.querySelector("[name=top_up_id]").value = newId("TU");
    form.querySelector("[name=amount]").value = "";
    await show();
    await ctx.refresh();
  }, { "stored-value-cap": "amount", "idempotency-mismatch": "top_up_id" }));
  return h("div", {}, form, withdrawForm(member, ctx));
}

function withdrawForm(member, ctx) {
  const currency = ctx.program().currency;
  const slot = `withdrawal:${member.member_id}`;
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { "data-form": "withdrawal", novalidate: true },
    h("h3", {}, t("sv.withdraw")), h("p", { class: "muted" }, t("sv.withdraw.hint")),
    h("div", { class: "row" },
      field({ name: "withdrawal_id", label: t("sv.withdraw_id"), value: pending(slot, () => newId("WD")), required: true }),
      field({ name: "member_code", label: t("counter.member_code"), value: ctx.code || "", required: !roles().admin })),
    formError(), h("button", { type: "submit", class: "secondary" }, t("sv.withdraw.button")), result);
  form.addEventListener("submit", submitsOnce(form, slot, async ({ withdrawal_id: id, member_code: code }) => {
    const body = { withdrawal_id: id.trim(), ...(code.trim() ? { member_code: code.trim() } : {}) };
    hold(slot, body.withdrawal_id);
    const done = await api("POST", `/v1/members/${encodeURIComponent(member.member_id)}/stored-value/withdrawals`, { body });
    mount(result, h("p", { class: "result", role: "status" }, t("sv.withdraw.done", { principal: money(done.principal_minor, currency),
      bonus: money(done.bonus_forfeited_minor, currency) })));
    form.querySelector("[name=withdrawal_id]").value = newId("WD");
    await ctx.refresh();
  }, { "member-code-invalid": "member_code", "idempotency-mismatch": "withdrawal_id" }));
  return form;
}

function bundlePane(member, ctx) {
  const currency = ctx.program().currency;
  const cards = h("div", { "data-cards": "" });
  const result = h("div", { "aria-live": "polite" });
  const slot = `bundle_sale:${member.member_id}`;
  const products = new Map();
  const drawCards = (m) => mount(cards, (m.balances.bundles || []).length ? h("ul", { class: "list" },
    m.balances.bundles.map((card) => cardItem(card))) : h("p", { class: "muted" }, t("bundle.none")));
  const cardItem = (card) => {
    const expired = card.expires_at && new Date(card.expires_at) <= new Date();
    return h("li", { "data-card": card.card_id },
      h("strong", {}, card.name || card.product_id), " ",
      h("span", {}, t("bundle.remaining", { n: number(card.remaining), uses: number(card.uses) })), " ",
      h("span", { class: "muted" }, expired ? t("bundle.status.expired") : t("bundle.expires", { when: when(card.expires_at) })), " ",
      h("button", { type: "button", "data-action": "use", disabled: !card.remaining || expired,
        onclick: (event) => useOne(card, event.currentTarget) }, t("bundle.use")), " ",
      h("button", { type: "button", class: "secondary", "data-action": "refund", disabled: !card.remaining,
        onclick: (event) => refund(card, event.currentTarget) }, t("bundle.refund")));
  };
  const act = async (button, work) => {
    button.disabled = true;
    try {
      await work();
    } catch (e) {
      mount(result, failure(e));
    } finally {
      drawCards(await ctx.refresh());
    }
  };
  const useOne = (card, button) => act(button, async () => {
    const key = `bundle_use:${card.card_id}`;
    const useId = pending(key, () => newId("USE"));
    hold(key, useId);
    try {
      const done = await api("POST", `/v1/bundle-cards/${encodeURIComponent(card.card_id)}/uses`, { body: { use_id: useId } });
      settle(key);
      mount(result, h("p", { class: "result", role: "status" }, t("bundle.used", { n: number(done.remaining) })));
    } catch (e) {
      if (e.status >= 400 && e.status < 500) settle(key);
      throw e;
    }
  });
  const refund = (card, button) => act(button, async () => {
    // The card's own terms (what it was sold for), not the product's today.
    if (!window.confirm(t("bundle.refund.confirm", { n: card.remaining,
      amount: money(bundleRefund(card.price_minor, card.uses, card.remaining), currency) }))) return;
    const key = `bundle_refund:${card.card_id}`;
    const refundId = pending(key, () => newId("BR"));
    hold(key, refundId);
    try {
      const done = await api("POST", `/v1/bundle-cards/${encodeURIComponent(card.card_id)}/refunds`, { body: { refund_id: refundId } });
      settle(key);
      mount(result, h("p", { class: "result", role: "status" }, t("bundle.refunded", { n: number(done.uses_refunded),
        amount: money(done.amount_minor, currency) })));
    } catch (e) {
      if (e.status >= 400 && e.status < 500) settle(key);
      throw e;
    }
  });
  const choose = h("select", { name: "product_id", id: `sell-product-${member.member_id}` });
  const sell = h("form", { "data-form": "bundle_sale", novalidate: true },
    h("h3", {}, t("bundle.sell")),
    h("div", { class: "row" },
      field({ name: "sale_id", label: t("bundle.sale_id"), value: pending(slot, () => newId("BS")), required: true }),
      h("div", { class: "field", "data-field": "product_id" }, h("label", { for: choose.id }, t("bundle.product")), choose,
        h("span", { class: "error", role: "alert", "data-error-for": "product_id" }))),
    formError(), h("button", { type: "submit" }, t("bundle.sell")));
  sell.addEventListener("submit", submitsOnce(sell, slot, async ({ sale_id: saleId, product_id: productId }) => {
    if (!productId) return setError(sell, "product_id", t("counter.required"));
    const body = { sale_id: saleId.trim(), member_id: member.member_id, product_id: productId };
    hold(slot, body.sale_id);
    const done = await api("POST", "/v1/bundle-sales", { body });
    mount(result, h("p", { class: "result", role: "status" }, t("bundle.sold", { name: products.get(done.product_id)?.name || done.product_id,
      n: number(done.remaining), when: when(done.expires_at) })));
    sell.querySelector("[name=sale_id]").value = newId("BS");
    drawCards(await ctx.refresh());
  }, { "idempotency-mismatch": "sale_id", "not-found": "product_id" }));
  api("GET", "/v1/bundles").then(({ items }) => {
    for (const p of items) products.set(p.product_id, p);
    mount(choose, items.map((p) => h("option", { value: p.product_id },
      `${p.name} · ${number(p.uses)} × · ${money(p.price_minor, currency)}`)));
    drawCards(member);
  }).catch((e) => mount(result, failure(e)));
  drawCards(member);
  return h("div", {}, cards, sell, result);
}

function couponPane(member, ctx) {
  const currency = ctx.program().currency;
  const list = h("div", { "data-coupons": "" });
  const result = h("div", { "aria-live": "polite" });
  const templates = new Map();
  const path = `/v1/members/${encodeURIComponent(member.member_id)}/coupons`;
  const draw = async () => {
    try {
      const { items } = await api("GET", path);
      mount(list, items.length ? couponList(items, templates, currency) : h("p", { class: "muted" }, t("coupon.none")));
    } catch (e) {
      mount(list, failure(e));
    }
  };
  const issueSlot = `coupon_issue:${member.member_id}`;
  const pick = h("select", { name: "template_id", id: `issue-template-${member.member_id}` });
  const issue = h("form", { "data-form": "coupon_issue", novalidate: true },
    h("h3", {}, t("coupon.issue")),
    h("div", { class: "row" },
      field({ name: "issue_id", label: t("coupon.issue_id"), value: pending(issueSlot, () => newId("CI")), required: true }),
      h("div", { class: "field", "data-field": "template_id" }, h("label", { for: pick.id }, t("coupon.template")), pick,
        h("span", { class: "error", role: "alert", "data-error-for": "template_id" }))),
    formError(), h("button", { type: "submit" }, t("coupon.issue")));
  issue.addEventListener("submit", submitsOnce(issue, issueSlot, async ({ issue_id: issueId, template_id: templateId }) => {
    if (!templateId) return setError(issue, "template_id", t("counter.required"));
    const body = { issue_id: issueId.trim(), template_id: templateId, member_id: member.member_id };
    hold(issueSlot, body.issue_id);
    const done = await api("POST", "/v1/coupons", { body });
    mount(result, h("p", { class: "result", role: "status" }, t("coupon.issued", { code: done.code, when: when(done.expires_at) })));
    issue.querySelector("[name=issue_id]").value = newId("CI");
    await draw();
  }, { "coupon-limit": "template_id", "idempotency-mismatch": "issue_id" }));

  const redeemSlot = `coupon_redemption:${member.member_id}`;
  const redeem = h("form", { "data-form": "coupon_redemption", novalidate: true },
    h("h3", {}, t("coupon.redeem")),
    h("div", { class: "row" },
      field({ name: "code", label: t("coupon.code"), required: true, attrs: { autocomplete: "off", autocapitalize: "characters" } }),
      field({ name: "subtotal", label: t("coupon.subtotal", { currency }), required: true, attrs: { inputmode: "decimal", autocomplete: "off" } })),
    formError(), h("button", { type: "submit" }, t("coupon.redeem.button")));
  redeem.addEventListener("submit", submitsOnce(redeem, redeemSlot, async ({ code, subtotal }) => {
    const minor = toMinor(subtotal, currency);
    if (minor === null) return setError(redeem, "subtotal", t("wallet.amount.bad"));
    if (!code.trim()) return setError(redeem, "code", t("counter.required"));
    const redemptionId = pending(redeemSlot, () => newId("CR"));
    hold(redeemSlot, redemptionId);
    const done = await api("POST", `/v1/coupons/${encodeURIComponent(code.trim())}/redemptions`,
      { body: { redemption_id: redemptionId, member_id: member.member_id, subtotal_minor: minor } });
    const undo = h("button", { type: "button", class: "secondary", "data-action": "void", onclick: async (event) => {
      event.currentTarget.disabled = true;
      try {
        await api("POST", `/v1/coupon-redemptions/${encodeURIComponent(done.redemption_id)}/void`, { body: {} });
        mount(result, h("p", { class: "result", role: "status" }, t("coupon.voided", { code: done.code })));
      } catch (e) {
        mount(result, failure(e));
      }
      await draw();
    } }, t("coupon.void"));
    mount(result, h("div", { class: "result", role: "status" },
      h("p", {}, t("coupon.redeemed", { code: done.code, discount: money(done.discount_minor, currency) })), undo));
    redeem.querySelector("[name=code]").value = "";
    await draw();
  }, { "coupon-used": "code", "coupon-not-applicable": "code", "not-found": "code" }));

  api("GET", "/v1/coupon-templates").then(({ items }) => {
    for (const tpl of items) templates.set(tpl.template_id, tpl);
    mount(pick, items.map((tpl) => h("option", { value: tpl.template_id }, `${tpl.name} · ${describeCoupon(tpl, currency)}`)));
    draw();
  }).catch((e) => mount(result, failure(e)));
  draw();
  return h("div", {}, list, issue, redeem, result);
}

export function describeCoupon(tpl, currency) {
  const off = tpl.amount_off_minor !== null && tpl.amount_off_minor !== undefined ? money(tpl.amount_off_minor, currency)
    : percentBps(tpl.percent_off_bps);
  const parts = [t("coupon.off", { v: off })];
  if (tpl.min_spend_minor) parts.push(t("coupon.min", { v: money(tpl.min_spend_minor, currency) }));
  return parts.join(", ");
}

// A member's coupons, one line each (fits a phone and a narrow column): code, status, what it gives, until when.
function couponList(items, templates, currency) {
  return h("ul", { class: "list", "data-coupon-list": "" }, items.map((c) => {
    const tpl = templates.get(c.template_id);
    return h("li", { "data-coupon": c.code, "data-status": c.status }, h("code", {}, c.code), " ",
      h("span", { class: `badge ${c.status === "active" ? "ok" : "muted"}` }, t(`coupon.status.${c.status}`)), " ",
      h("span", { class: "muted" }, `${tpl ? `${tpl.name} · ${describeCoupon(tpl, currency)}` : c.template_id} · ${
        t("coupon.expires", { when: when(c.expires_at) })}`));
  }));
}

// --- the member page's assets ---------------------------------------------------------------------------------------

export function memberAssets(member, currency) {
  const sv = storedValue(member);
  const cur = sv.currency || currency;
  const coupons = h("div", {}, h("p", { class: "muted" }, t("loading")));
  api("GET", `/v1/members/${encodeURIComponent(member.member_id)}/coupons`)
    .then(({ items }) => mount(coupons, items.length ? couponList(items, new Map(), cur) : h("p", { class: "muted" }, t("coupon.none"))))
    .catch((e) => mount(coupons, failure(e)));
  const bundles = member.balances.bundles || [];
  return h("div", { class: "grid", "data-assets": "" },
    h("section", { class: "card", "aria-labelledby": "sv-title" }, h("h2", { id: "sv-title" }, t("sv.title")),
      h("div", { class: "stats" }, stat(t("sv.principal"), money(sv.principal_minor, cur), "principal"),
        stat(t("sv.bonus"), money(sv.bonus_minor, cur), "bonus"))),
    h("section", { class: "card", "aria-labelledby": "bundles-title" }, h("h2", { id: "bundles-title" }, t("bundle.title")),
      bundles.length ? h("ul", { class: "list", "data-bundles": "" }, bundles.map((card) => h("li", { "data-card": card.card_id },
        h("strong", {}, card.name || card.product_id), " ", t("bundle.remaining", { n: number(card.remaining), uses: number(card.uses) }), " ",
        h("span", { class: "muted" }, t("bundle.expires", { when: when(card.expires_at) })))))
        : h("p", { class: "muted" }, t("bundle.none"))),
    h("section", { class: "card", "aria-labelledby": "coupons-title" }, h("h2", { id: "coupons-title" }, t("coupon.title")), coupons));
}

// --- the owner's wallet page ----------------------------------------------------------------------------------------

export async function walletPage(main) {
  mount(main, h("p", { class: "muted" }, t("loading")));
  const program = await api("GET", "/v1/program").catch(() => ({ currency: "CNY" }));
  const currency = program.currency;
  const sections = [settingsCard(currency), bundlesCard(currency), templatesCard(currency), rewardsCard()];
  const figures = h("div", { "data-liability": "" });
  mount(main, h("h1", {}, t("wallet.title")), h("p", { class: "muted" }, t("wallet.intro")),
    h("section", { class: "card", "aria-labelledby": "liability-title" }, h("h2", { id: "liability-title" }, t("sv.liability")), figures),
    ...sections.map((s) => s.element));
  await Promise.all(sections.map((s) => s.load().catch((e) => s.failed(e))));
  api("GET", "/v1/metrics").then((m) => liability(figures, m, currency)).catch((e) => mount(figures, failure(e)));
}

// What the shop owes in stored value, drawn: the outstanding principal and bonus as one stacked bar, and what the
// period's top-ups, payments, refunds and withdrawals moved (the dashboard's default period: the last 30 days).
async function liability(slot, m, currency) {
  const sv = m.stored_value || {};
  const owed = [["principal", t("sv.liability.principal"), sv.outstanding_principal_minor || 0, "#0b57d0"],
    ["bonus", t("sv.liability.bonus"), sv.outstanding_bonus_minor || 0, "#c26401"]];
  const moved = [["topped_up", sv.topped_up_minor], ["bonus_given", sv.bonus_given_minor], ["paid", sv.paid_minor],
    ["refunded", sv.refunded_minor], ["withdrawn", sv.withdrawn_minor], ["bonus_forfeited", sv.bonus_forfeited_minor]]
    .map(([name, value]) => [name, t(`sv.moved.${name}`), value || 0]);
  const stacked = h("canvas", { role: "img", "aria-label": t("sv.chart.owed", { principal: money(owed[0][2], currency), bonus: money(owed[1][2], currency) }) });
  const period = h("canvas", { role: "img", "aria-label": t("sv.chart.moved", { from: m.by_day?.[0]?.date || "", to: m.by_day?.at(-1)?.date || "" }) });
  mount(slot, h("div", { class: "stats" }, owed.map(([name, label, value]) => stat(label, money(value, currency), name)),
    stat(t("bundle.owed"), number(m.bundles?.outstanding_uses ?? 0), "bundle_uses")),
    h("div", { class: "chart short", "data-chart": "owed" }, stacked),
    h("h3", {}, t("sv.moved.title", { from: m.by_day?.[0]?.date || "", to: m.by_day?.at(-1)?.date || "" })),
    h("div", { class: "chart", "data-chart": "moved" }, period),
    h("details", {}, h("summary", {}, t("dash.table")), h("div", { class: "scroll", tabindex: 0 }, h("table", {},
      h("tbody", {}, moved.map(([name, label, value]) => h("tr", { "data-moved": name }, h("th", { scope: "row" }, label),
        h("td", { class: "num" }, money(value, currency)))))))));
  const { Chart } = await import("../charts.js");
  const base = { responsive: true, maintainAspectRatio: false, animation: false };
  new Chart(stacked, { type: "bar",
    data: { labels: [t("sv.liability")], datasets: owed.map(([, label, value, colour]) => ({ label, data: [Number(major(value, currency))], backgroundColor: colour })) },
    options: { ...base, indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true, display: false } } } });
  new Chart(period, { type: "bar",
    data: { labels: moved.map(([, label]) => label), datasets: [{ label: t("sv.moved.title", { from: "", to: "" }), data: moved.map(([, , value]) => Number(major(value, currency))),
      backgroundColor: ["#0b57d0", "#c26401", "#5f6368", "#1e8e3e", "#a142f4", "#d93025"] }] },
    options: { ...base, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } } });
}

// A card of the admin page: a table of what exists and a form that puts one (new or changed).
function catalogueCard({ id, title, columns, row, fields, toBody, path, listPath, empty, fill, fieldOf = {} }) {
  const table = h("div", { class: "scroll", tabindex: 0 });
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { "data-form": id, novalidate: true }, h("div", { class: "row" }, fields()), formError(),
    h("button", { type: "submit" }, t("save")), result);
  const load = async () => {
    const { items } = await api("GET", listPath);
    // A PUT replaces the item whole: "Edit" puts every field of the item in the form first, so a change to one
    // field keeps the others (a reward's stock, a template's limit and automatic issue).
    const edit = (item) => {
      for (const [name, value] of Object.entries(fill(item))) {
        const control = form.querySelector(`[name="${name}"]`);
        if (control) control.value = value ?? "";
      }
      form.querySelector("input, select")?.focus();
    };
    mount(table, items.length ? h("table", { [`data-${id}`]: "" },
      h("thead", {}, h("tr", {}, [...columns, ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, items.map((item) => h("tr", {}, row(item).map((cell) => h("td", {}, cell)),
        h("td", {}, h("button", { type: "button", class: "secondary", "data-action": "edit", onclick: () => edit(item) }, t("wallet.edit")))))))
      : h("p", { class: "muted" }, empty));
  };
  form.addEventListener("submit", submits(form, async (sent) => {
    const built = toBody(sent, form);
    if (!built) return;
    await api("PUT", path(built.id), { body: built.body });
    mount(result, h("p", { class: "result", role: "status" }, t("wallet.saved")));
    await load();
  }, { fieldOf }));
  const element = h("section", { class: "card", "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title), table, form);
  return { element, load, failed: (e) => mount(table, failure(e)) };
}

function whole(form, name, text, { optional = false } = {}) {
  if (optional && !text.trim()) return null;
  if (!/^\d{1,9}$/.test(text.trim())) {
    setError(form, name, t("wallet.integer"));
    return undefined;
  }
  return Number(text.trim());
}

function amount(form, name, text, currency, { optional = false } = {}) {
  if (optional && !text.trim()) return null;
  const minor = toMinor(text, currency);
  if (minor === null) {
    setError(form, name, t("wallet.amount.bad"));
    return undefined;
  }
  return minor;
}

// A percentage typed as "5" or "2.5" to basis points, exactly.
function bps(text) {
  const found = /^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*$/.exec(text || "");
  if (!found) return null;
  const value = Number(found[1]) * 100 + Number((found[2] || "").padEnd(2, "0") || "0");
  return value <= 10000 ? value : null;
}

function settingsCard(currency) {
  const result = h("div", { "aria-live": "polite" });
  const rows = h("div", { "data-tiers": "" });
  const form = h("form", { "data-form": "wallet_settings", novalidate: true });
  const tierRow = (tier, n) => h("div", { class: "row", "data-tier": n },
    field({ name: `min_${n}`, label: t("sv.tier.min", { currency }), value: tier ? major(tier.min_minor, currency) : "", attrs: { inputmode: "decimal" } }),
    field({ name: `rate_${n}`, label: t("sv.tier.rate"), value: tier ? percentBps(tier.bonus_bps).replace(" %", "") : "", attrs: { inputmode: "decimal" } }));
  let count = 0;
  const load = async () => {
    const settings = await api("GET", "/v1/wallet/settings");
    count = settings.top_up_bonus.length;
    mount(rows, settings.top_up_bonus.map((tier, n) => tierRow(tier, n)));
    form.querySelector("[name=cap]").value = major(settings.max_principal_minor, currency);
  };
  mount(form, h("h3", {}, t("sv.tiers")), rows,
    h("button", { type: "button", class: "secondary", "data-action": "add-tier", onclick: () => rows.append(tierRow(null, count++)) }, t("sv.tier.add")),
    h("div", { class: "row" }, field({ name: "cap", label: t("sv.cap", { currency }), attrs: { inputmode: "decimal" } })),
    formError(), h("button", { type: "submit" }, t("save")), result);
  form.addEventListener("submit", submits(form, async (sent) => {
    const tiers = [];
    for (let n = 0; n < count; n++) {
      const min = (sent[`min_${n}`] || "").trim();
      const rate = (sent[`rate_${n}`] || "").trim();
      if (!min && !rate) continue;
      const minMinor = toMinor(min, currency);
      const bonusBps = bps(rate);
      if (minMinor === null) return setError(form, `min_${n}`, t("sv.tier.bad"));
      if (bonusBps === null) return setError(form, `rate_${n}`, t("sv.tier.bad"));
      tiers.push({ min_minor: minMinor, bonus_bps: bonusBps });
    }
    const cap = amount(form, "cap", sent.cap, currency);
    if (cap === undefined) return;
    tiers.sort((a, b) => b.min_minor - a.min_minor);
    await api("PUT", "/v1/wallet/settings", { body: { top_up_bonus: tiers, max_principal_minor: cap } });
    mount(result, h("p", { class: "result", role: "status" }, t("wallet.saved")));
    await load();
  }));
  const element = h("section", { class: "card", "aria-labelledby": "settings-title" }, h("h2", { id: "settings-title" }, t("sv.settings")), form);
  return { element, load, failed: (e) => mount(rows, failure(e)) };
}

function bundlesCard(currency) {
  return catalogueCard({
    id: "bundles", title: t("bundle.products"), listPath: "/v1/bundles", empty: t("bundle.no_products"),
    path: (id) => `/v1/bundles/${encodeURIComponent(id)}`,
    columns: [t("bundle.product_id"), t("bundle.name"), t("bundle.uses"), t("bundle.price", { currency }), t("bundle.valid_days")],
    row: (p) => [p.product_id, p.name, number(p.uses), [money(p.price_minor, currency), " ", h("span", { class: "muted" },
      t("bundle.per_use", { price: money(Math.floor(p.price_minor / p.uses), currency) }))], number(p.valid_days)],
    fields: () => [
      field({ name: "product_id", label: t("bundle.product_id"), required: true }),
      field({ name: "name", label: t("bundle.name"), required: true }),
      field({ name: "uses", label: t("bundle.uses"), type: "number", required: true, attrs: { min: 1, step: 1 } }),
      field({ name: "price", label: t("bundle.price", { currency }), required: true, attrs: { inputmode: "decimal" } }),
      field({ name: "valid_days", label: t("bundle.valid_days"), type: "number", value: "365", attrs: { min: 1, step: 1 } })],
    fill: (p) => ({ product_id: p.product_id, name: p.name, uses: p.uses, price: major(p.price_minor, currency), valid_days: p.valid_days }),
    toBody: (v, form) => {
      if (!v.product_id.trim()) return setError(form, "product_id", t("counter.required")) && null;
      const uses = whole(form, "uses", v.uses);
      const price = uses === undefined ? undefined : amount(form, "price", v.price, currency);
      const days = price === undefined ? undefined : whole(form, "valid_days", v.valid_days);
      if (days === undefined) return null;
      return { id: v.product_id.trim(), body: { name: v.name.trim(), uses, price_minor: price, valid_days: days } };
    },
  });
}

function templatesCard(currency) {
  const ISSUE_ON = ["", "sign_up", "referred_sign_up", "birthday"];
  return catalogueCard({
    id: "templates", title: t("coupon.templates"), listPath: "/v1/coupon-templates", empty: t("coupon.no_templates"),
    path: (id) => `/v1/coupon-templates/${encodeURIComponent(id)}`,
    columns: [t("coupon.template_id"), t("bundle.name"), t("coupon.kind"), t("coupon.valid_days"), t("coupon.limit"), t("coupon.issue_on")],
    row: (c) => [c.template_id, c.name, describeCoupon(c, currency), number(c.valid_days),
      c.per_member_limit === null || c.per_member_limit === undefined ? t("coupon.no_limit") : number(c.per_member_limit),
      t(`coupon.issue_on.${c.issue_on || "none"}`)],
    fields: () => [
      field({ name: "template_id", label: t("coupon.template_id"), required: true }),
      field({ name: "name", label: t("bundle.name"), required: true }),
      field({ name: "kind", label: t("coupon.kind"), value: "amount", options: [["amount", t("coupon.kind.amount")], ["percent", t("coupon.kind.percent")]] }),
      field({ name: "value", label: t("coupon.value"), required: true, attrs: { inputmode: "decimal" } }),
      field({ name: "max_off", label: t("coupon.max_off", { currency }), attrs: { inputmode: "decimal" } }),
      field({ name: "min_spend", label: t("coupon.min_spend", { currency }), value: "0", attrs: { inputmode: "decimal" } }),
      field({ name: "valid_days", label: t("coupon.valid_days"), type: "number", value: "30", attrs: { min: 1, step: 1 } }),
      field({ name: "per_member_limit", label: t("coupon.limit"), type: "number", value: "1", hint: t("coupon.limit.hint"), attrs: { min: 1, step: 1 } }),
      field({ name: "issue_on", label: t("coupon.issue_on"), value: "", options: ISSUE_ON.map((k) => [k, t(`coupon.issue_on.${k || "none"}`)]) })],
    fill: (c) => ({ template_id: c.template_id, name: c.name, kind: c.percent_off_bps === null || c.percent_off_bps === undefined ? "amount" : "percent",
      value: c.percent_off_bps === null || c.percent_off_bps === undefined ? major(c.amount_off_minor, currency) : percentBps(c.percent_off_bps).replace(" %", ""),
      max_off: c.max_off_minor === null || c.max_off_minor === undefined ? "" : major(c.max_off_minor, currency),
      min_spend: major(c.min_spend_minor || 0, currency), valid_days: c.valid_days, per_member_limit: c.per_member_limit, issue_on: c.issue_on || "" }),
    toBody: (v, form) => {
      if (!v.template_id.trim()) return setError(form, "template_id", t("counter.required")) && null;
      const body = { name: v.name.trim() };
      if (v.kind === "percent") {
        const value = bps(v.value);
        if (value === null) return setError(form, "value", t("sv.tier.bad")) && null;
        body.percent_off_bps = value;
      } else {
        const value = amount(form, "value", v.value, currency);
        if (value === undefined) return null;
        body.amount_off_minor = value;
      }
      const maxOff = amount(form, "max_off", v.max_off, currency, { optional: true });
      const minSpend = maxOff === undefined ? undefined : amount(form, "min_spend", v.min_spend, currency);
      const days = minSpend === undefined ? undefined : whole(form, "valid_days", v.valid_days);
      const limit = days === undefined ? undefined : whole(form, "per_member_limit", v.per_member_limit, { optional: true });
      if (limit === undefined) return null;
      if (maxOff !== null) body.max_off_minor = maxOff;
      Object.assign(body, { min_spend_minor: minSpend, valid_days: days, per_member_limit: limit, issue_on: v.issue_on || null });
      return { id: v.template_id.trim(), body };
    },
  });
}

function rewardsCard() {
  return catalogueCard({
    id: "rewards", title: t("reward.title"), listPath: "/v1/rewards", empty: t("reward.none"),
    path: (id) => `/v1/rewards/${encodeURIComponent(id)}`,
    columns: [t("reward.id"), t("reward.name"), t("reward.points"), t("reward.stock"), t("reward.coupon")],
    row: (r) => [r.reward_id, r.name, number(r.points), r.stock === null || r.stock === undefined ? t("reward.unlimited") : number(r.stock),
      r.coupon_template_id || "—"],
    fields: () => [
      field({ name: "reward_id", label: t("reward.id"), required: true }),
      field({ name: "name", label: t("reward.name"), required: true }),
      field({ name: "points", label: t("reward.points"), type: "number", required: true, attrs: { min: 1, step: 1 } }),
      field({ name: "stock", label: t("reward.stock"), type: "number", hint: t("reward.stock.hint"), attrs: { min: 0, step: 1 } }),
      field({ name: "coupon_template_id", label: t("reward.coupon") })],
    fill: (r) => ({ reward_id: r.reward_id, name: r.name, points: r.points, stock: r.stock, coupon_template_id: r.coupon_template_id }),
    toBody: (v, form) => {
      if (!v.reward_id.trim()) return setError(form, "reward_id", t("counter.required")) && null;
      const points = whole(form, "points", v.points);
      const stock = points === undefined ? undefined : whole(form, "stock", v.stock, { optional: true });
      if (stock === undefined) return null;
      return { id: v.reward_id.trim(), body: { name: v.name.trim(), points, stock,
        coupon_template_id: v.coupon_template_id.trim() || null } };
    },
  });
}

// The catalogue's rewards a redemption at the counter may pick (empty when none or unreadable).
export async function catalogue() {
  try {
    return (await api("GET", "/v1/rewards")).items;
  } catch {
    return [];
  }
}
