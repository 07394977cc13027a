// Reviews (staff): the credits screening held (docs/screening.md). The open queue, oldest first, each with its
// member, order, level or partner, amount, reasons and score, and a note to approve or reject it with; the decided
// ones, latest first, with the outcome, who decided and why. A review decided meanwhile by someone else (409
// review-closed) is said so, and the queue read again.
import { api } from "../api.js";
import { roles } from "../auth.js";
import { t, addWords } from "../i18n.js";
import { h, mount, field, formError, clearErrors, showProblem, setError, busy, money, number, when } from "../ui.js";
import { WORDS } from "./reviews.words.js";

addWords(WORDS);

const PAGE = 20;

function failure(e) {
  return h("p", { class: "error", role: "alert" }, e.problem?.detail || e.problem?.title || e.message);
}

function slugOf(e) {
  return (e.problem?.type || "").split("/").pop();
}

// Members' names, read once per page view (five at a time): the queue names people, not ids.
async function namesOf(ids, known) {
  const missing = [...new Set(ids)].filter((id) => id && !id.startsWith("partner#") && !known.has(id));
  for (let i = 0; i < missing.length; i += 5) {
    await Promise.all(missing.slice(i, i + 5).map(async (id) => {
      const member = await api("GET", `/v1/members/${encodeURIComponent(id)}`).catch(() => null);
      known.set(id, member?.display_name || id);
    }));
  }
}

export async function reviewsPage(main) {
  mount(main, h("p", { class: "muted" }, t("loading")));
  const currency = (await api("GET", "/v1/program").catch(() => ({}))).currency || "CNY";
  const admin = roles().admin;
  const names = new Map();
  const notice = h("div", { "aria-live": "polite", "data-notice": "" });
  const list = h("div", { "aria-live": "polite" });
  let status = "open";
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": t("reviews.tabs") },
    ["open", "decided"].map((name) => h("button", { type: "button", role: "tab", "data-tab": name,
      "aria-selected": name === status ? "true" : "false", onclick: () => {
        status = name;
        for (const b of tabs.children) b.setAttribute("aria-selected", b.dataset.tab === name ? "true" : "false");
        mount(notice);
        show();
      } }, t(`reviews.tab.${name}`))));
  mount(main, h("h1", {}, t("reviews.title")), h("p", { class: "hint" }, t("reviews.intro")), tabs, notice, list);

  // --- what a review says ---
  const person = (id) => {
    const name = names.get(id) || id;
    return h("a", { href: `#/member/${encodeURIComponent(id)}`, "data-member": id }, name);
  };
  const holder = (r) => {
    const partner = r.credit.partner_id;
    if (!partner) return person(r.member_id);
    const label = t("reviews.partner", { id: partner });
    return admin ? h("a", { href: `#/partner/${encodeURIComponent(partner)}`, "data-partner": partner }, label) : label;
  };
  const holderText = (r) => (r.credit.partner_id ? t("reviews.partner", { id: r.credit.partner_id }) : names.get(r.member_id) || r.member_id);
  const amount = (c) => (c.asset === "points" ? t("reviews.points", { n: number(c.amount) })
    : c.asset === "commission" ? money(c.amount, currency) : `${number(c.amount)} ${c.asset}`);
  const credit = (c) => (c.partner_id ? t("reviews.commission", { id: c.partner_id })
    : t(`level.${Math.min(c.level ?? 1, 2)}`, { n: c.level }));
  const reasons = (r) => h("ul", { class: "reasons" }, r.reasons.map((name) => h("li", { "data-reason": name },
    t(`signal.${name}`), " ", h("span", { class: "weight" }, `+${r.signals[name] ?? 0}`))));

  // --- the open queue ---
  function card(r) {
    const item = h("li", { class: "review", "data-review": r.review_id });
    const form = h("form", { "data-form": "decision", novalidate: true, "aria-label": t("reviews.decision.label", { order: r.credit.order_id }) },
      field({ name: "note", label: t("reviews.note"), type: "textarea", required: true, hint: t("reviews.note.hint"),
        attrs: { rows: 2, maxlength: 1000 } }),
      formError(),
      h("div", { class: "actions" },
        h("button", { type: "submit", value: "approve", "data-decision": "approve" }, t("reviews.approve")),
        h("button", { type: "submit", value: "reject", class: "danger", "data-decision": "reject" }, t("reviews.reject"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const decision = event.submitter?.value === "reject" ? "reject" : "approve";
      clearErrors(form);
      const note = form.querySelector("[name=note]").value.trim();
      if (!note) return setError(form, "note", t("reviews.note.required"));
      const buttons = [...form.querySelectorAll("button")];
      buttons.forEach((b) => busy(b, true));
      try {
        await api("POST", `/v1/reviews/${encodeURIComponent(r.review_id)}/decision`, { body: { decision, note } });
        item.remove();
        say("result", t(decision === "approve" ? "reviews.approved" : "reviews.rejected",
          { amount: amount(r.credit), who: holderText(r), order: r.credit.order_id }), decision);
        if (!list.querySelector("[data-review]")) await show();
      } catch (e) {
        buttons.forEach((b) => busy(b, false));
        if (e.status === 409 && slugOf(e) === "review-closed") return closed(r);
        showProblem(form, e);
      }
    });
    mount(item,
      h("div", { class: "review-head" },
        h("h2", {}, holder(r)),
        h("span", { class: "badge bad", "data-score": r.score }, t("reviews.score.is", { n: r.score }))),
      h("dl", { class: "facts" },
        h("dt", {}, t("reviews.credit")), h("dd", { "data-credit": "" }, h("strong", {}, amount(r.credit)), ` · ${credit(r.credit)}`),
        h("dt", {}, t("reviews.order")), h("dd", { class: "mono" }, r.credit.order_id),
        h("dt", {}, t("reviews.buyer")), h("dd", {}, person(r.credit.buyer_id)),
        h("dt", {}, t("reviews.opened")), h("dd", {}, when(r.created_at)),
        h("dt", {}, t("reviews.reasons")), h("dd", {}, reasons(r))),
      form);
    return item;
  }

  async function closed(r) {
    const now = await api("GET", `/v1/reviews/${encodeURIComponent(r.review_id)}`).catch(() => null);
    const text = now && now.status !== "open"
      ? t("reviews.closed", { outcome: t(`reviews.status.${now.status}`), by: now.decided_by || "—" })
      : t("reviews.closed.unknown");
    await show();
    say("closed", text);
  }

  function say(kind, text, decision) {
    mount(notice, h("p", { class: `result${kind === "closed" ? " bad" : ""}`, role: kind === "closed" ? "alert" : "status",
      [`data-${kind}`]: decision || "" }, text));
  }

  // --- the decided ones ---
  function decidedRow(r) {
    return h("tr", { "data-review": r.review_id, "data-status": r.status },
      h("td", {}, when(r.decided_at)),
      h("td", {}, holder(r)),
      h("td", { class: "mono" }, r.credit.order_id),
      h("td", {}, amount(r.credit), h("br"), h("span", { class: "muted" }, credit(r.credit))),
      h("td", {}, reasons(r)),
      h("td", { class: "num" }, number(r.score)),
      h("td", {}, h("span", { class: `badge ${r.status === "approved" ? "ok" : "bad"}` }, t(`reviews.status.${r.status}`))),
      h("td", { class: "mono" }, r.decided_by || "—"),
      h("td", { "data-note": "" }, r.note || ""));
  }

  function decidedTable() {
    const body = h("tbody");
    const table = h("div", { class: "scroll", tabindex: 0, role: "region", "aria-label": t("reviews.table.scroll") },
      h("table", { "data-decided": "" },
        h("thead", {}, h("tr", {}, [[t("reviews.decided")], [t("reviews.holder")], [t("reviews.order")], [t("reviews.credit")],
          [t("reviews.reasons")], [t("reviews.score"), "num"], [t("reviews.outcome")], [t("reviews.by")], [t("reviews.note")]]
          .map(([c, cls]) => h("th", { scope: "col", class: cls }, c)))),
        body));
    return { table, add: (items) => body.append(...items.map(decidedRow)) };
  }

  // One page of the list shown (cursor null: the first, replacing what was there; else added under it).
  async function show(cursor = null) {
    const shown = status;
    let page;
    try {
      page = await api("GET", `/v1/reviews?${new URLSearchParams({ status: shown, limit: PAGE, ...(cursor ? { cursor } : {}) })}`);
      await namesOf(page.items.flatMap((r) => [r.member_id, r.credit.buyer_id]), names);
    } catch (e) {
      return mount(list, failure(e));
    }
    if (shown !== status) return undefined; // the other tab was chosen meanwhile
    if (!cursor) {
      if (!page.items.length) return mount(list, h("p", { class: "muted", "data-empty": shown }, t(`reviews.none.${shown}`)));
      if (shown === "open") mount(list, h("ol", { class: "reviews", "data-queue": "" }));
      else {
        const made = decidedTable();
        list.decided = made;
        mount(list, made.table);
      }
    }
    if (shown === "open") list.querySelector("[data-queue]").append(...page.items.map(card));
    else list.decided.add(page.items);
    list.querySelector("[data-action=more]")?.remove();
    if (page.next_cursor) {
      list.append(h("button", { type: "button", class: "secondary", "data-action": "more", onclick: (event) => {
        busy(event.currentTarget, true);
        show(page.next_cursor);
      } }, t("reviews.more")));
    }
    return undefined;
  }
  await show();
}
