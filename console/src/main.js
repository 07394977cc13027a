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

const PAGES = [
  { path: "counter", key: "nav.counter", role: "staff", render: counterPage },
  { path: "dashboard", key: "nav.dashboard", role: "staff", render: dashboardPage },
  { path: "program", key: "nav.program", role: "admin", render: programPage },
  { path: "reminders", key: "nav.reminders", role: "admin", render: remindersPage },
  { path: "verify", key: "nav.verify", role: "admin", render: verifyPage },
];

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
      PAGES.filter((p) => may[p.role]).map((p) => h("li", {},
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
  if (!may.staff) {
    header("");
    return mount(main, h("h1", {}, t("denied.title")), h("p", {}, t("denied.text")));
  }
  if (path === "member" && rest[0]) {
    header("counter");
    let id;
    try {
      id = decodeURIComponent(rest[0]);
    } catch {
      id = rest[0];
    }
    return memberPage(main, id);
  }
  const page = PAGES.find((p) => p.path === path && may[p.role]) || PAGES[0];
  if (page.path !== path) history.replaceState(null, "", `#/${page.path}`);
  header(page.path);
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
