// Ledger verification (admin): one member's chain, checked by the service and again in this browser.
import { api } from "../api.js";
import { agrees, checkChain, wholeLedger } from "../chain.js";
import { t } from "../i18n.js";
import { h, mount, field, formError, values, clearErrors, showProblem, setError, number, when } from "../ui.js";

export function verifyPage(main) {
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", "data-form": "verify", novalidate: true, "aria-labelledby": "one-title" },
    h("h2", { id: "one-title" }, t("verify.one")),
    h("div", { class: "row" }, field({ name: "member_id", label: t("rem.member_id") }), h("button", { type: "submit" }, t("verify.run"))),
    formError(), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const id = values(form).member_id.trim();
    if (!id) return setError(form, "member_id", t("counter.required"));
    const path = `/v1/members/${encodeURIComponent(id)}`;
    try {
      const server = await api("GET", `${path}/ledger/verify`);
      const { entries } = await wholeLedger(api, path, Infinity);
      const mine = await checkChain(entries);
      const ok = mine.ok && agrees(mine, entries, server);
      mount(out, h("div", { class: `result${ok ? "" : " bad"}`, role: "status", "data-verified": ok ? "yes" : "no" },
        h("p", {}, h("strong", {}, ok ? t("verify.ok", { n: number(server.entries) }) : t("verify.bad"))),
        h("ul", {},
          h("li", {}, `${t("verify.chain")}: ${server.chain_valid ? t("yes") : t("no")}`),
          h("li", {}, `${t("verify.balances")}: ${server.balances_match ? t("yes") : t("no")}`),
          h("li", {}, `${t("verify.browser")}: ${mine.ok ? t("yes") : t("verify.at", { seq: mine.firstBad })}`),
          h("li", { class: "mono" }, `${t("chain.head")} ${server.head_hash}`),
          (server.problems || []).map((p) => h("li", { class: "error" }, typeof p === "string" ? p : JSON.stringify(p))))));
    } catch (e) {
      showProblem(form, e, { "not-found": "member_id", "validation-error": "member_id" });
    }
  });
  const whole = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, t("loading")));
  mount(main, h("h1", {}, t("verify.title")), form,
    h("section", { class: "card", "aria-labelledby": "all-title" }, h("h2", { id: "all-title" }, t("verify.all")), whole,
      h("p", { class: "hint" }, t("verify.all.text"))));
  showAnchor(whole);
}

// The whole-ledger check: every hour the anchor reads every chain's head and, if any moved, refuses to publish
// when a chain lost a head it published before, else publishes their Merkle root. It publishes nothing when no
// head moved, so an old digest on a quiet ledger is normal; the anchor's alarm says when it failed or refused.
async function showAnchor(slot) {
  try {
    const digest = await api("GET", "/v1/ledger/anchor");
    mount(slot, h("div", { class: "result", role: "status", "data-anchor": "published" },
      h("p", {}, h("strong", {}, t("verify.anchor.latest", { when: when(digest.published_at), n: number(digest.count) }))),
      h("p", { class: "mono" }, `${t("verify.anchor.root")} ${digest.root}`)));
  } catch (e) {
    mount(slot, h("p", { class: e.status === 404 ? "muted" : "error", "data-anchor": "none" },
      e.status === 404 ? t("verify.anchor.none") : (e.problem?.detail || e.message)));
  }
}
