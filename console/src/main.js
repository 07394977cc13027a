// The console's shell: configuration, sign-in, the header and a hash router over the pages.
import { loadConfig, config } from "./config.js";
import { session, roles, signOut, finishCognitoSignIn, cognitoSignOutUrl } from "./auth.js";
import { t, lang, setLang, LANGS } from "./i18n.js";
import { h, mount } from "./ui.js";
import { signInPage } from "./pages/signin.js";
import { counterPage } from "./pages/counter.js";
import { memberPage } from "./pages/member.js";
import { dashboardPage } from "./pages/dashboard.js";
import { programPage } from "./pages/program.js";
import { remindersPage } from "./pages/reminders.js";
import { verifyPage } from "./pages/verify.js";

// Pages loaded on first visit, each in a chunk of its own (esbuild's splitting): the partners' pages with their
// chart and QR parts are not in the first load of the till.
const partners = () => import("./pages/partners.js");
const reviews = () => import("./pages/reviews.js");
const feedback = () => import("./pages/feedback.js");
const segments = () => import("./pages/segments.js");
const wallet = () => import("./pages/wallet.js");
const earning = () => import("./pages/earning.js");
const simulation = () => import("./pages/simulation.js");

const PAGES = [
  { path: "counter", key: "nav.counter", role: "staff", render: counterPage },
  { path: "dashboard", key: "nav.dashboard", role: "staff", render: dashboardPage },
  { path: "reviews", key: "nav.reviews", role: "staff", render: async (main) => (await reviews()).reviewsPage(main) },
  { path: "feedback", key: "nav.feedback", role: "staff", render: async (main) => (await feedback()).feedbackPage(main) },
  { path: "segments", key: "nav.segments", role: "staff", render: async (main) => (await segments()).segmentsPage(main) },
  { path: "program", key: "nav.program", role: "admin", render: programPage },
  { path: "earning", key: "nav.earning", role: "admin", render: async (main) => (await earning()).earningPage(main) },
  { path: "simulation", key: "nav.earning", role: "admin", nav: "earning",
    render: async (main) => (await simulation()).simulationPage(main) },
  { path: "wallet", key: "nav.wallet", role: "admin", render: async (main) => (await wallet()).walletPage(main) },
  { path: "reminders", key: "nav.reminders", role: "admin", render: remindersPage },
  { path: "verify", key: "nav.verify", role: "admin", render: verifyPage },
  { path: "partners", key: "nav.partners", role: "admin", render: async (main) => (await partners()).partnersPage(main) },
  { path: "link-settings", key: "nav.partners", role: "admin", nav: "partners",
    render: async (main) => (await partners()).linkSettingsPage(main) },
];

function decoded(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function header(current) {
  const me = session();
  const may = roles();
  const top = document.getElementById("top");
  const language = h("select", { id: "lang", "aria-label": t("lang.label"),
    onchange: (event) => { setLang(event.target.value); route(); } },
    LANGS.map(([code, name]) => h("option", { value: code, selected: code === lang() }, name)));
  mount(top,
    h("span", { class: "brand" }, t("brand")),
    me ? h("nav", { "aria-label": t("nav.label") }, h("ul", {},
      may.partner ? h("li", {}, h("a", { href: `#/partner/${encodeURIComponent(may.partnerId)}`, "aria-current": current === "partner" ? "page" : null }, t("nav.partner"))) : null,
      PAGES.filter((p) => may[p.role] && !p.nav).map((p) => h("li", {},
        h("a", { href: `#/${p.path}`, "aria-current": current === p.path ? "page" : null }, t(p.key)))))) : null,
    language,
    me ? h("span", { class: "who" }, `${me.email || me.sub} · ${me.groups.join(", ") || t("role.member")}`) : null,
    me ? h("button", { class: "secondary", type: "button", onclick: () => {
      signOut();
      if (config().auth === "cognito") location.assign(cognitoSignOutUrl());
      else { location.hash = "#/signin"; route(); }
    } }, t("signout")) : null);
}

export async function route() {
  document.documentElement.lang = lang();
  document.title = t("brand");
  const main = document.getElementById("main");
  const [path, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const me = session();
  if (!me || path === "signin") {
    header("signin");
    return signInPage(main, () => { location.hash = "#/counter"; });
  }
  const may = roles();
  if (may.partner && !may.staff) { // a partner sees its own page, and no other partner's
    const own = may.partnerId;
    if (path === "partner" && rest[0] && decoded(rest[0]) !== own) {
      header("");
      return mount(main, h("h1", {}, t("partner.denied.title")), h("p", { "data-denied": "" }, t("partner.denied.text")),
        h("p", {}, h("a", { href: `#/partner/${encodeURIComponent(own)}` }, t("nav.partner"))));
    }
    if (path !== "partner" || !rest[0]) history.replaceState(null, "", `#/partner/${encodeURIComponent(own)}`);
    header("partner");
    return (await partners()).partnerPage(main, own);
  }
  if (path === "partner" && rest[0] && may.admin) {
    header("partners");
    return (await partners()).partnerPage(main, decoded(rest[0]));
  }
  if (!may.staff) {
    header("");
    return mount(main, h("h1", {}, t("denied.title")), h("p", {}, t("denied.text")));
  }
  if (path === "member" && rest[0]) {
    header("counter");
    return memberPage(main, decoded(rest[0]));
  }
  const page = PAGES.find((p) => p.path === path && may[p.role]) || PAGES[0];
  if (page.path !== path) history.replaceState(null, "", `#/${page.path}`);
  header(page.nav || page.path);
  return page.render(main);
}

async function start() {
  await loadConfig();
  try {
    await finishCognitoSignIn();
  } catch (error) {
    sessionStorage.setItem("loyalty-console-signin-error", String(error.message || error));
  }
  window.addEventListener("hashchange", () => {
    route();
    document.getElementById("main").focus();
  });
  await route();
}

start();
