// Sign in: the Cognito hosted UI on AWS; locally, a picker of people that mints a local token.
import { config } from "../config.js";
import { signInLocally, signInWithCognito } from "../auth.js";
import { t } from "../i18n.js";
import { h, mount, field, formError, values, busy } from "../ui.js";

const PEOPLE = [
  { sub: "cashier", groups: ["staff"], key: "signin.cashier" },
  { sub: "owner", groups: ["admin"], key: "signin.owner" },
];

export function signInPage(main, done) {
  const failed = sessionStorage.getItem("loyalty-console-signin-error");
  sessionStorage.removeItem("loyalty-console-signin-error");
  if (config().auth === "cognito") {
    return mount(main, h("h1", {}, t("signin.title")),
      h("div", { class: "card" }, h("p", {}, t("signin.cognito")),
        failed ? h("p", { class: "error", role: "alert" }, failed) : null,
        h("button", { type: "button", onclick: () => signInWithCognito() }, t("signin.button"))));
  }
  const error = formError();
  const form = h("form", { class: "card", "aria-labelledby": "other-title", onsubmit: async (event) => {
    event.preventDefault();
    const { sub, role, partner_id: partnerId } = values(form);
    // A partner's token carries the partner it is (the claim partner_id), as Cognito's would.
    const extra = role === "partner" ? { partner_id: partnerId.trim() } : {};
    await go(sub.trim(), [role === "admin" || role === "partner" ? role : "staff"], form.querySelector("button"), error, extra);
  } },
  h("h2", { id: "other-title" }, t("signin.other")),
  h("div", { class: "row" },
    field({ name: "sub", label: t("signin.user"), value: "cashier-2", required: true }),
    field({ name: "role", label: t("signin.role"), value: "staff",
      options: [["staff", t("role.staff")], ["admin", t("role.admin")], ["partner", t("role.partner")]] }),
    field({ name: "partner_id", label: t("signin.partner_id"), hint: t("signin.partner_id.hint") })),
  error,
  h("button", { type: "submit" }, t("signin.button")));

  async function go(sub, groups, button, slot, extra = {}) {
    busy(button, true);
    try {
      await signInLocally(sub, groups, extra);
      done();
    } catch (e) {
      slot.textContent = String(e.message || e);
    } finally {
      busy(button, false);
    }
  }

  const quick = h("div", { class: "pickers" }, PEOPLE.map((person) => {
    const slot = h("p", { class: "error", role: "alert" });
    const button = h("button", { type: "button", "data-person": person.sub,
      onclick: () => go(person.sub, person.groups, button, slot) }, t(person.key));
    return h("div", { class: "card" }, button, h("p", { class: "hint" }, t(`${person.key}.hint`)), slot);
  }));
  mount(main, h("h1", {}, t("signin.title")), h("p", { class: "muted" }, t("signin.local")), quick, form);
}
