// Feedback (staff): what members told the shop (docs/feedback.md). The open inbox, oldest first, each with the
// member, its kind, rating, order, when it was sent, whether it is overdue (a complaint unanswered 24 hours) and the
// answers so far, with a form to answer (the member is emailed it) and a button to close it; the closed ones, newest
// first. An answer is sent once: its reply_id is kept until an answer says what happened (ui.js, pending).
import { api } from "../api.js";
import { t, addWords } from "../i18n.js";
import { h, mount, field, formError, clearErrors, showProblem, setError, busy, when, newId, pending, hold, settle } from "../ui.js";
import { WORDS } from "./feedback.words.js";

addWords(WORDS);

const PAGE = 20;
const MAX_TEXT = 2000;

function slugOf(e) {
  return (e.problem?.type || "").split("/").pop();
}

// Members' names, read once per page view (five at a time): the inbox names people, not ids.
async function namesOf(ids, known) {
  const missing = [...new Set(ids)].filter((id) => id && !known.has(id));
  for (let i = 0; i < missing.length; i += 5) {
    await Promise.all(missing.slice(i, i + 5).map(async (id) => {
      const member = await api("GET", `/v1/members/${encodeURIComponent(id)}`).catch(() => null);
      known.set(id, member?.display_name || id);
    }));
  }
}

function stars(rating) {
  if (!rating) return h("span", { class: "muted", "data-rating": "" }, t("fb.rating.none"));
  return h("span", { class: "stars", "data-rating": rating, role: "img", "aria-label": t("fb.rating.is", { n: rating }) },
    "★".repeat(rating), h("span", { class: "off", "aria-hidden": "true" }, "★".repeat(5 - rating)));
}

// A complaint the service alerted the staff about (unanswered 24 hours by its clock), still unanswered.
function overdue(f) {
  return f.kind === "complaint" && f.status === "open" && !f.replies.length && Boolean(f.alerted_at);
}

export async function feedbackPage(main) {
  mount(main, h("p", { class: "muted" }, t("loading")));
  const names = new Map();
  const notice = h("div", { "aria-live": "polite", "data-notice": "" });
  const list = h("div", { "aria-live": "polite" });
  let status = "open";
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": t("fb.tabs") },
    ["open", "closed"].map((name) => h("button", { type: "button", role: "tab", "data-tab": name,
      "aria-selected": name === status ? "true" : "false", onclick: () => {
        status = name;
        for (const b of tabs.children) b.setAttribute("aria-selected", b.dataset.tab === name ? "true" : "false");
        mount(notice);
        show();
      } }, t(`fb.tab.${name}`))));
  mount(main, h("h1", {}, t("fb.title")), h("p", { class: "hint" }, t("fb.intro")), tabs, notice, list);

  const who = (f) => names.get(f.member_id) || f.member_id;
  const kind = (f) => h("span", { class: `badge ${f.kind === "complaint" ? "bad" : f.kind === "praise" ? "ok" : "muted"}`,
    "data-kind": f.kind }, t(`fb.kind.${f.kind}`));

  function say(kindOf, text) {
    mount(notice, h("p", { class: `result${kindOf === "closed" ? " bad" : ""}`, role: kindOf === "closed" ? "alert" : "status",
      [`data-${kindOf}`]: "" }, text));
  }

  function replies(f) {
    if (!f.replies.length) return h("p", { class: "muted", "data-replies": "0" }, t("fb.replies.none"));
    return h("ol", { class: "answers", "data-replies": f.replies.length }, f.replies.map((r) => h("li", { "data-reply": r.reply_id },
      h("p", { class: "said" }, r.text),
      h("span", { class: "muted" }, `${t("fb.by", { who: r.replied_by })} · ${when(r.replied_at)}`))));
  }

  function answerForm(f, item) {
    const slot = `feedback-reply:${f.feedback_id}`;
    const form = h("form", { "data-form": "reply", novalidate: true,
      "aria-label": t("fb.form.label", { who: who(f), kind: t(`fb.kind.${f.kind}`) }) },
      field({ name: "text", label: t("fb.answer"), type: "textarea", required: true, hint: t("fb.answer.hint"),
        attrs: { rows: 3, maxlength: MAX_TEXT } }),
      formError(),
      h("div", { class: "actions" },
        h("button", { type: "submit", "data-action": "reply" }, t("fb.send")),
        h("button", { type: "button", class: "secondary", "data-action": "close", onclick: (event) => close(f, item, event.currentTarget) },
          t("fb.close"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const text = form.querySelector("[name=text]").value.trim();
      if (!text) return setError(form, "text", t("fb.answer.required"));
      if (text.length > MAX_TEXT) return setError(form, "text", t("fb.answer.long"));
      const button = form.querySelector("[data-action=reply]");
      busy(button, true);
      const replyId = pending(slot, () => newId("RE"));
      hold(slot, replyId);
      try {
        const now = await api("POST", `/v1/feedback/${encodeURIComponent(f.feedback_id)}/replies`,
          { body: { reply_id: replyId, text } });
        settle(slot);
        item.replaceWith(card(now));
        say("result", t("fb.sent.ok", { who: who(f) }));
      } catch (e) {
        busy(button, false);
        if (e.status >= 400 && e.status < 500) settle(slot);
        if (e.status === 409 && slugOf(e) === "feedback-closed") {
          await show();
          return say("closed", t("fb.closed.already"));
        }
        showProblem(form, e, { "idempotency-mismatch": "text" });
      }
      return undefined;
    });
    return form;
  }

  async function close(f, item, button) {
    busy(button, true);
    try {
      await api("PATCH", `/v1/feedback/${encodeURIComponent(f.feedback_id)}`, { body: { status: "closed" } });
      item.remove();
      say("result", t("fb.closed.ok", { who: who(f), kind: t(`fb.kind.${f.kind}`) }));
      if (!list.querySelector("[data-feedback]")) await show();
    } catch (e) {
      busy(button, false);
      showProblem(item.querySelector("form") || item, e);
    }
  }

  function card(f) {
    const item = h("li", { class: "review feedback", "data-feedback": f.feedback_id, "data-status": f.status });
    const late = overdue(f);
    mount(item,
      h("div", { class: "review-head" },
        h("h2", {}, h("a", { href: `#/member/${encodeURIComponent(f.member_id)}`, "data-member": f.member_id }, who(f))),
        h("span", { class: "tags" }, kind(f), late ? h("span", { class: "badge bad", "data-overdue": "" }, t("fb.overdue")) : null)),
      h("blockquote", { class: "said", "data-text": "" }, f.text),
      h("dl", { class: "facts" },
        h("dt", {}, t("fb.rating")), h("dd", {}, stars(f.rating)),
        h("dt", {}, t("fb.order")), h("dd", { class: "mono" }, f.order_id || t("fb.order.none")),
        h("dt", {}, t("fb.sent")), h("dd", {}, when(f.created_at),
          f.alerted_at ? h("span", { class: "muted", "data-alerted": "" }, ` · ${t("fb.alerted", { at: when(f.alerted_at) })}`) : null),
        h("dt", {}, t("fb.replies")), h("dd", {}, replies(f))),
      f.status === "open" ? answerForm(f, item)
        : h("p", { class: "muted", "data-closed-by": f.closed_by || "" }, t("fb.closed.at", { at: when(f.closed_at), who: f.closed_by || "—" })));
    return item;
  }

  // One page of the list shown (cursor null: the first, replacing what was there; else added under it).
  async function show(cursor = null) {
    const shown = status;
    let page;
    try {
      page = await api("GET", `/v1/feedback?${new URLSearchParams({ status: shown, limit: PAGE, ...(cursor ? { cursor } : {}) })}`);
      await namesOf(page.items.map((f) => f.member_id), names);
    } catch (e) {
      return mount(list, h("p", { class: "error", role: "alert" }, e.problem?.detail || e.problem?.title || e.message));
    }
    if (shown !== status) return undefined; // the other tab was chosen meanwhile
    if (!cursor) {
      if (!page.items.length) return mount(list, h("p", { class: "muted", "data-empty": shown }, t(`fb.none.${shown}`)));
      mount(list, h("ol", { class: "reviews", "data-inbox": shown }));
    }
    list.querySelector("[data-inbox]").append(...page.items.map(card));
    list.querySelector("[data-action=more]")?.remove();
    if (page.next_cursor) {
      list.append(h("button", { type: "button", class: "secondary", "data-action": "more", onclick: (event) => {
        busy(event.currentTarget, true);
        show(page.next_cursor);
      } }, t("fb.more")));
    }
    return undefined;
  }
  await show();
}
