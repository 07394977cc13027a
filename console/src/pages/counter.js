// The counter: find a member (phone, email, referral code, member code typed or scanned from their card), then
// record a purchase, a refund or a redemption for them and show what it did.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, mount, field, formError, values, clearErrors, showProblem, setError, toMinor, money, number, newId,
  pending, hold, settle, submitsOnce as submitter, percentBps } from "../ui.js";
import { scanner } from "../scan.js";

const KINDS = ["phone", "email", "referral_code", "member_code"];
// The wallet's tabs (top up, bundle cards, coupons) come with its own chunk, loaded when one is first opened.
const wallet = () => import("./wallet.js");
const WALLET_TABS = ["topup", "bundle", "coupon"];
// Crediting an action (a review, a share …) comes with the earning chunk, and only when the programme has actions.
const earning = () => import("./earning.js");

export async function counterPage(main) {
  let program = { currency: "CNY" };
  const found = h("div", { "aria-live": "polite" });
  const desk = h("div");
  const scanSlot = h("div");

  const error = formError();
  const search = h("form", { class: "card", role: "search", "aria-labelledby": "find-title", onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(search);
    const { kind, q } = values(search);
    if (!q.trim()) return setError(search, "q", t("counter.empty"));
    await find(kind, q.trim(), kind === "member_code" ? q.trim() : undefined);
  } },
  h("h2", { id: "find-title" }, t("counter.find")),
  h("div", { class: "row" },
    field({ name: "kind", label: t("counter.by"), value: "phone", options: KINDS.map((k) => [k, t(`counter.by.${k}`)]) }),
    field({ name: "q", label: t("counter.value"), attrs: { autocomplete: "off", inputmode: "text" } }),
    h("button", { type: "submit" }, t("counter.search")),
    h("button", { type: "button", class: "secondary", "data-action": "scan", onclick: () => scan() }, t("counter.scan"))),
  error, scanSlot);

  mount(main, h("h1", {}, t("counter.title")), search, found, desk);
  api("GET", "/v1/program").then((p) => { program = p; }).catch(() => {});

  async function find(kind, q, code) {
    mount(found, h("p", { class: "muted" }, t("loading")));
    mount(desk);
    try {
      const { items } = await api("GET", `/v1/members?${new URLSearchParams({ [kind]: q })}`);
      if (!items.length) return mount(found, h("p", { class: "card", role: "status" }, t("counter.none")));
      mount(found, h("section", { class: "card", "aria-labelledby": "found-title" },
        h("h2", { id: "found-title" }, t("counter.found", { n: items.length })),
        h("ul", { class: "list" }, items.map((m) => h("li", {},
          h("strong", {}, m.display_name), " ",
          h("span", { class: "muted" }, [m.phone, m.email, m.referral_code].filter(Boolean).join(" · ")), " ",
          h("span", {}, t("counter.available", { n: number(m.balances.points.available) })), " ",
          h("button", { type: "button", "data-member": m.member_id, onclick: () => select(m, code) }, t("counter.select")), " ",
          h("a", { href: `#/member/${encodeURIComponent(m.member_id)}` }, t("counter.open")))))));
      if (items.length === 1) select(items[0], code);
    } catch (e) {
      mount(found);
      showProblem(search, e, { "validation-error": "q" });
    }
  }

  function scan() {
    mount(scanSlot, scanner({
      onCode: (text) => {
        mount(scanSlot);
        const code = text.trim().split(/[/=]/).pop();
        search.querySelector("[name=kind]").value = "member_code";
        search.querySelector("[name=q]").value = code;
        find("member_code", code, code);
      },
      onClose: () => mount(scanSlot),
    }));
  }

  function select(member, code) {
    const balance = h("p", { role: "status", "data-balance": "" });
    const stored = h("p", { "data-stored-value": "" });
    const standing = h("div", { "data-tier": "" });
    let current = member;
    const showBalance = (m) => {
      current = m;
      mount(balance, t("counter.balance", {
        available: number(m.balances.points.available), pending: number(m.balances.points.pending),
        queued: number(m.balances.points.queued || 0) }));
      const sv = m.balances.stored_value;
      if (sv && sv.principal_minor + sv.bonus_minor > 0) wallet().then((w) => mount(stored, w.storedValueLine(m, program.currency)));
      else mount(stored);
      // The member's tier and its discount, which the till applies to the price it records (the service never
      // changes an amount).
      mount(standing, m.tier?.tier ? t("counter.tier", { tier: m.tier.tier, discount: percentBps(m.tier.discount_bps || 0) }) : null);
    };
    showBalance(member);
    const refresh = async () => {
      const m = await api("GET", `/v1/members/${encodeURIComponent(member.member_id)}`);
      showBalance(m);
      return m;
    };
    // A search's members may leave out what only a member's own read tells (the tier): read it once.
    if (!("tier" in member)) refresh().catch(() => {});
    let lastOrder = "";
    const ctx = { program: () => program, code, refresh };
    const panes = {
      purchase: purchaseForm(member, () => program, refresh, (order) => { lastOrder = order; }, () => current),
      refund: refundForm(member, () => program, () => lastOrder, refresh),
      redemption: redemptionForm(member, code, refresh),
      ...Object.fromEntries(WALLET_TABS.map((name) => [name, async () => (await wallet()).walletPanes(ctx)[name](current)])),
      ...(Object.keys(program.actions || {}).length ? { action: async () => (await earning()).actionPane(current, ctx) } : {}),
    };
    const holder = h("div");
    const open = async (name) => {
      mount(holder, h("p", { class: "muted" }, t("loading")));
      mount(holder, await panes[name]());
    };
    const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": t("counter.actions") },
      Object.keys(panes).map((name) => h("button", { type: "button", role: "tab", "data-tab": name,
        "aria-selected": name === "purchase" ? "true" : "false", onclick: (event) => {
          for (const b of tabs.children) b.setAttribute("aria-selected", b === event.currentTarget ? "true" : "false");
          open(name).catch((e) => mount(holder, h("p", { class: "error", role: "alert" }, e.message)));
        } }, t(`counter.tab.${name}`))));
    mount(holder, panes.purchase());
    mount(desk, h("section", { class: "card", "aria-labelledby": "desk-title" },
      h("h2", { id: "desk-title" }, t("counter.for", { name: member.display_name })),
      balance, standing, stored, tabs, holder));
  }
}

function purchaseForm(member, program, refresh, remember, latest) {
  return () => {
    const slot = `purchase:${member.member_id}`;
    const result = h("div", { "aria-live": "polite" });
    const form = h("form", { "data-form": "purchase", novalidate: true },
      h("div", { class: "row" },
        field({ name: "order_id", label: t("counter.order"), value: pending(slot, () => newId("POS")), required: true }),
        field({ name: "amount", label: t("counter.amount", { currency: program().currency }), required: true,
          attrs: { inputmode: "decimal", autocomplete: "off" }, hint: t("counter.amount.hint") }),
        hasStoredValue(latest()) ? field({ name: "stored_value", label: t("counter.stored_value", { currency: program().currency }),
          attrs: { inputmode: "decimal", autocomplete: "off" }, hint: t("counter.stored_value.hint") }) : null),
      formError(), h("button", { type: "submit" }, t("counter.record.purchase")), result);
    form.addEventListener("submit", submitter(form, slot, async ({ order_id: orderId, amount, stored_value: fromWallet }) => {
      const minor = toMinor(amount, program().currency);
      if (minor === null) return setError(form, "amount", t("counter.amount.bad"));
      const paid = fromWallet && fromWallet.trim() ? toMinor(fromWallet, program().currency) : 0;
      if (paid === null || paid > minor) return setError(form, "stored_value", t("counter.stored_value.bad"));
      const body = { order_id: orderId.trim(), member_id: member.member_id, amount_minor: minor, currency: program().currency,
        ...(paid ? { stored_value_minor: paid } : {}) };
      hold(slot, body.order_id);
      const done = await api("POST", "/v1/purchases", { body });
      remember(done.order_id);
      mount(result, h("div", { class: "result", role: "status" },
        h("p", {}, t("counter.purchase.done", { order: done.order_id, amount: money(done.amount_minor, done.currency) })),
        done.stored_value ? h("p", { "data-paid": "" }, t("counter.stored_value.paid", {
          paid: money(done.stored_value.principal_minor + done.stored_value.bonus_minor, done.currency),
          principal: money(done.stored_value.principal_minor, done.currency), bonus: money(done.stored_value.bonus_minor, done.currency) })) : null,
        h("ul", {}, done.credits.map((c) => h("li", {}, t("counter.credit", { level: t(`level.${Math.min(c.level, 2)}`, { n: c.level }), points: number(c.points), status: t(`status.${c.status || "posted"}`) }))))));
      settle(slot);
      form.querySelector("[name=order_id]").value = newId("POS");
      form.querySelector("[name=amount]").value = "";
      if (form.querySelector("[name=stored_value]")) form.querySelector("[name=stored_value]").value = "";
      await refresh();
    }, { "idempotency-mismatch": "order_id", "insufficient-funds": "stored_value" }));
    return form;
  };
}

function hasStoredValue(m) {
  const sv = m.balances.stored_value;
  return Boolean(sv && sv.principal_minor + sv.bonus_minor > 0);
}

function refundForm(member, program, lastOrder, refresh) {
  return () => {
    const slot = `refund:${member.member_id}`;
    const result = h("div", { "aria-live": "polite" });
    const form = h("form", { "data-form": "refund", novalidate: true },
      h("div", { class: "row" },
        field({ name: "order_id", label: t("counter.order"), value: lastOrder(), required: true }),
        field({ name: "refund_id", label: t("counter.refund_id"), value: pending(slot, () => newId("R")), required: true }),
        field({ name: "amount", label: t("counter.refund.amount"), required: true, attrs: { inputmode: "decimal", autocomplete: "off" } })),
      formError(), h("button", { type: "submit" }, t("counter.record.refund")), result);
    form.addEventListener("submit", submitter(form, slot, async ({ order_id: orderId, refund_id: refundId, amount }) => {
      const minor = toMinor(amount, program().currency);
      if (minor === null) return setError(form, "amount", t("counter.amount.bad"));
      if (!orderId.trim()) return setError(form, "order_id", t("counter.required"));
      hold(slot, refundId.trim());
      const done = await api("POST", `/v1/purchases/${encodeURIComponent(orderId.trim())}/refunds`,
        { body: { refund_id: refundId.trim(), amount_minor: minor } });
      mount(result, h("div", { class: "result", role: "status" },
        h("p", {}, t("counter.refund.done", { order: done.order_id, amount: money(done.amount_minor, program().currency) })),
        h("ul", {}, done.reversals.map((r) => h("li", {}, t("counter.reversal", { level: t(`level.${Math.min(r.level, 2)}`, { n: r.level }), points: number(r.points) }))))));
      settle(slot);
      form.querySelector("[name=refund_id]").value = newId("R");
      await refresh();
    }, { "refund-exceeds-purchase": "amount", "not-found": "order_id", "idempotency-mismatch": "refund_id" }));
    return form;
  };
}

function redemptionForm(member, code, refresh) {
  return () => {
    const slot = `redemption:${member.member_id}`;
    const result = h("div", { "aria-live": "polite" });
    const pick = h("div");
    const form = h("form", { "data-form": "redemption", novalidate: true },
      pick,
      h("div", { class: "row" },
        field({ name: "points", label: t("counter.points"), type: "number", attrs: { min: 1, step: 1, inputmode: "numeric" } }),
        field({ name: "reward", label: t("counter.reward") }),
        field({ name: "member_code", label: t("counter.member_code"), value: code || "", required: true, hint: t("counter.member_code.hint") })),
      formError(), h("button", { type: "submit" }, t("counter.record.redemption")), result);
    // The catalogue, when the shop has one: picking a reward sends its id (its price and stock are the service's).
    wallet().then(async (w) => {
      const items = await w.catalogue();
      if (!items.length) return;
      mount(pick, h("div", { class: "row" }, field({ name: "reward_id", label: t("counter.catalogue"), value: "",
        options: [["", t("counter.catalogue.none")], ...items.map((r) => [r.reward_id, `${r.name} · ${number(r.points)} ${t("counter.points").toLowerCase()}${
          r.stock === null || r.stock === undefined ? "" : ` · ${t("counter.catalogue.left", { n: number(r.stock) })}`}`])] })));
    }).catch(() => {});
    form.addEventListener("submit", submitter(form, slot, async ({ points, reward, reward_id: rewardId, member_code: memberCode }) => {
      let body;
      if (rewardId) {
        body = { reward_id: rewardId, member_id: member.member_id, member_code: memberCode.trim() };
      } else {
        if (!/^\d{1,9}$/.test(points)) return setError(form, "points", t("counter.points.bad"));
        if (!reward.trim()) return setError(form, "reward", t("counter.required"));
        body = { points: Number(points), reward: reward.trim(), member_id: member.member_id, member_code: memberCode.trim() };
      }
      const key = pending(slot, () => newId("RED"));
      hold(slot, key);
      const done = await api("POST", "/v1/redemptions", { body, headers: { "Idempotency-Key": key } });
      settle(slot);
      mount(result, h("div", { class: "result", role: "status" },
        h("p", {}, t("counter.redemption.done", { points: number(done.points), reward: done.reward, available: number(done.balances.points.available) })),
        done.coupon ? h("p", { "data-coupon-issued": "" }, t("counter.redemption.coupon", { code: done.coupon.code })) : null));
      await refresh();
    }, { "insufficient-points": "points", "member-code-invalid": "member_code", "out-of-stock": "reward_id" }));
    return form;
  };
}
