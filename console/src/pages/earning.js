// Earning (admin): points for actions with their caps, the calendar of multipliers and the programme's time zone,
// published through PUT /v1/program after a diff; points expiry (the programme's `expiry`), likewise; surprise points
// and their published commitments; tiers and statuses (GET|PUT /v1/tiers). Its own chunk, with its words; the
// simulation page is in simulation.js.
import { api } from "../api.js";
import { t, lang, addWords } from "../i18n.js";
import { h, mount, field, formError, clearErrors, setError, busy, major, toMinor, money, number, submitsOnce, pending, hold,
  newId } from "../ui.js";
import { timesToBps, bpsToTimes, percentToBps, bpsToPercent, multiplierOn, monthGrid, addMonths, localToday, tierProgress, monthsOf,
  instantText } from "../earning.js";
import { WORDS } from "./earning.words.js";

addWords(WORDS);

export const KNOWN_ACTIONS = ["review", "share", "check_in", "lead_converted"];
const CONTRACT = ["points_per_currency_unit", "referral_rates_bps", "hold_days", "currency", "compliance_profile"];

export function actionLabel(name) {
  return KNOWN_ACTIONS.includes(name) ? `${t(`action.${name}`)} (${name})` : name;
}

function failure(e) {
  return h("p", { class: "error", role: "alert" }, e.problem?.detail || e.problem?.title || e.message);
}

function slug(e) {
  return (e.problem?.type || "").split("/").pop();
}

// A refusal placed next to the field it names: `resolve(loc)` turns the API's `loc` (without "body") into the
// names of the form's fields to try, most precise first; the rest goes above the button.
function placeProblem(form, e, resolve, fieldOf = {}) {
  const problem = e.problem || { title: String(e.message || e) };
  let placed = false;
  for (const item of problem.errors || []) {
    const loc = (item.loc || []).filter((part) => part !== "body");
    for (const name of resolve(loc)) {
      if (setError(form, name, item.msg)) {
        placed = true;
        break;
      }
    }
  }
  const named = fieldOf[slug(e)];
  if (!placed && named) placed = setError(form, named, problem.detail || problem.title);
  if (!placed) {
    const general = form.querySelector(".form-error");
    if (general) general.textContent = `${problem.title}${problem.detail ? ": " + problem.detail : ""}`;
  }
  // The first invalid field takes the focus (setError focuses each in turn).
  form.querySelector("[aria-invalid=true]")?.focus();
}

function describeAction(a) {
  const caps = [["per_day", "earn.cap.day"], ["per_month", "earn.cap.month"], ["lifetime", "earn.cap.lifetime"]]
    .filter(([k]) => a[k] !== null && a[k] !== undefined).map(([k, key]) => t(key, { n: number(a[k]) }));
  return `${t("earn.action.text", { points: number(a.points) })} · ${caps.length ? caps.join(", ") : t("earn.no_cap")}`;
}

function describeMultiplier(m) {
  const on = m.day_of_month !== null && m.day_of_month !== undefined ? t("earn.multiplier.monthly", { day: m.day_of_month })
    : t("earn.multiplier.range", { from: m.from, to: m.to });
  return `${t("earn.times", { n: bpsToTimes(m.bps) })} · ${on}`;
}

function describeSurprise(s) {
  if (!s || !s.chance_bps) return t("surprise.off");
  return t("surprise.text", { chance: `${bpsToPercent(s.chance_bps)} %`, min: number(s.min_points), max: number(s.max_points),
    budget: number(s.daily_budget) });
}

function zones(currentZone) {
  let all = [];
  try {
    all = Intl.supportedValuesOf("timeZone");
  } catch {
    all = [];
  }
  return [...new Set([currentZone, "Asia/Shanghai", "UTC", ...all])].sort();
}

let rowIds = 0;

// --- the page ---------------------------------------------------------------------------------------------------

export async function earningPage(main, notice = null) {
  mount(main, h("p", { class: "muted" }, t("loading")));
  // The published commitments say whether this server draws surprises at all (the programme's `surprise` key is
  // left out when there is none): only an answer means yes (the form then carries the surprise settings); a 404 means
  // no; another failure is said where the commitments go, and the form leaves surprises as they are.
  const [current, commitments] = await Promise.all([api("GET", "/v1/program"),
    api("GET", "/v1/program/surprise/commitments").catch((e) => (e.status === 404 ? null : e))]);
  const hasSurprise = commitments !== null && !(commitments instanceof Error);
  // After publishing, the page reads the new version and says what was done above it (unless the person has gone
  // to another page meanwhile).
  const again = (said) => {
    if (location.hash.replace(/^#\/?/, "").split("/")[0] === "earning") earningPage(main, said);
  };
  const rules = rulesCard(current, hasSurprise, again);
  const expiry = expiryCard(current, again);
  const tiers = h("div");
  const published = h("div");
  mount(main, h("h1", {}, t("earn.title")), h("p", { class: "muted" }, t("earn.intro"),
    " ", h("a", { href: "#/simulation", "data-link": "simulation" }, t("sim.link"))),
  notice ? h("div", { "data-notice": "" }, h("p", { class: "result", role: "status" }, notice)) : null,
  rules, expiry, tiers, published);
  tiersCard(tiers, current.currency, again);
  if (commitments !== null) commitmentsCard(published, commitments);
}

// The programme's earning rules as one form: the time zone, the actions, the multipliers (and surprise points
// when the service has them); the calendar drawn from what the form holds; a diff, then PUT /v1/program.
function rulesCard(current, hasSurprise, reload) {
  const diff = h("div", { "aria-live": "polite" });
  const result = h("div", { "aria-live": "polite" });
  const actionRows = h("div", { "data-actions": "" });
  const multiplierRows = h("div", { "data-multipliers": "" });
  const calendar = h("div", { "data-calendar": "" });
  const today = localToday(current.timezone);
  let shown = [Number(today.slice(0, 4)), Number(today.slice(5, 7))];

  const zone = field({ name: "timezone", label: t("earn.timezone"), value: current.timezone, hint: t("earn.timezone.hint"),
    options: zones(current.timezone).map((z) => [z, z]) });

  const actionRow = (name, a) => {
    const id = ++rowIds;
    const legend = h("legend", {}, name ? actionLabel(name) : t("earn.action.new"));
    const row = h("fieldset", { "data-action-row": id, "data-name": name || "" }, legend,
      h("div", { class: "row" },
        field({ name: `a${id}.name`, label: t("earn.action.name"), value: name || "", hint: t("earn.action.name.hint"),
          attrs: { autocomplete: "off", autocapitalize: "none", spellcheck: "false" } }),
        field({ name: `a${id}.points`, label: t("earn.action.points"), value: a?.points ?? "", attrs: { inputmode: "numeric" } }),
        ...["per_day", "per_month", "lifetime"].map((cap) => field({ name: `a${id}.${cap}`, label: t(`earn.action.${cap}`),
          value: a?.[cap] ?? "", hint: t("earn.cap.hint"), attrs: { inputmode: "numeric" } })),
        h("button", { type: "button", class: "secondary", "data-action": "remove-action",
          "aria-label": t("earn.action.remove", { what: name ? actionLabel(name) : t("earn.action.new") }),
          onclick: () => { row.remove(); changed(); } }, t("remove"))));
    row.querySelector(`[name="a${id}.name"]`).addEventListener("input", (event) => {
      legend.textContent = event.target.value.trim() ? actionLabel(event.target.value.trim()) : t("earn.action.new");
    });
    return row;
  };

  const multiplierRow = (m) => {
    const id = ++rowIds;
    const monthly = m ? m.day_of_month !== null && m.day_of_month !== undefined : false;
    const legend = h("legend", {}, m ? m.name : t("earn.multiplier.new"));
    const kind = field({ name: `m${id}.kind`, label: t("earn.multiplier.kind"), value: monthly ? "day" : "range",
      options: [["range", t("earn.multiplier.kind.range")], ["day", t("earn.multiplier.kind.day")]] });
    const from = field({ name: `m${id}.from`, label: t("earn.multiplier.from"), type: "date", value: m?.from || "" });
    const to = field({ name: `m${id}.to`, label: t("earn.multiplier.to"), type: "date", value: m?.to || "" });
    const day = field({ name: `m${id}.day_of_month`, label: t("earn.multiplier.day"), value: m?.day_of_month ?? "",
      attrs: { inputmode: "numeric" } });
    const show = () => {
      const isDay = kind.querySelector("select").value === "day";
      from.hidden = isDay;
      to.hidden = isDay;
      day.hidden = !isDay;
    };
    kind.querySelector("select").addEventListener("change", show);
    const row = h("fieldset", { "data-multiplier-row": id }, legend,
      h("div", { class: "row" },
        field({ name: `m${id}.name`, label: t("earn.multiplier.name"), value: m?.name || "", attrs: { autocomplete: "off" } }),
        field({ name: `m${id}.times`, label: t("earn.multiplier.times"), value: m ? bpsToTimes(m.bps) : "2",
          hint: t("earn.multiplier.times.hint"), attrs: { inputmode: "decimal" } }),
        kind, from, to, day,
        h("button", { type: "button", class: "secondary", "data-action": "remove-multiplier",
          "aria-label": t("earn.multiplier.remove", { what: m ? m.name : t("earn.multiplier.new") }),
          onclick: () => { row.remove(); changed(); } }, t("remove"))));
    row.querySelector(`[name="m${id}.name"]`).addEventListener("input", (event) => {
      legend.textContent = event.target.value.trim() || t("earn.multiplier.new");
    });
    show();
    return row;
  };

  const surpriseFields = hasSurprise ? h("fieldset", { "data-surprise": "" }, h("legend", {}, t("surprise.title")),
    h("p", { class: "muted" }, t("surprise.intro")),
    h("div", { class: "row" },
      field({ name: "surprise.chance", label: t("surprise.chance"), value: current.surprise ? bpsToPercent(current.surprise.chance_bps) : "0",
        attrs: { inputmode: "decimal" } }),
      field({ name: "surprise.min_points", label: t("surprise.min"), value: current.surprise?.min_points ?? "0", attrs: { inputmode: "numeric" } }),
      field({ name: "surprise.max_points", label: t("surprise.max"), value: current.surprise?.max_points ?? "0", attrs: { inputmode: "numeric" } }),
      field({ name: "surprise.daily_budget", label: t("surprise.budget"), value: current.surprise?.daily_budget ?? "0",
        hint: t("surprise.budget.hint"), attrs: { inputmode: "numeric" } }))) : null;

  const form = h("form", { class: "card", "data-form": "earning", novalidate: true, "aria-labelledby": "earning-rules-title" },
    h("h2", { id: "earning-rules-title" }, t("earn.rules")),
    zone,
    h("h3", {}, t("earn.actions")), actionRows,
    h("button", { type: "button", class: "secondary", "data-action": "add-action", onclick: () => {
      const row = actionRow("", null);
      actionRows.append(row);
      row.querySelector("input").focus();
    } }, t("earn.action.add")),
    h("h3", {}, t("earn.multipliers")), multiplierRows,
    h("button", { type: "button", class: "secondary", "data-action": "add-multiplier", onclick: () => {
      const row = multiplierRow(null);
      multiplierRows.append(row);
      row.querySelector("input").focus();
      changed();
    } }, t("earn.multiplier.add")),
    h("section", { "aria-labelledby": "calendar-title" }, h("h3", { id: "calendar-title" }, t("earn.calendar")),
      h("p", { class: "muted" }, t("earn.calendar.hint")), calendar),
    surpriseFields,
    formError(),
    h("div", { class: "row" },
      h("button", { type: "button", class: "secondary", "data-action": "preview", onclick: () => preview() }, t("program.preview")),
      h("button", { type: "submit" }, t("program.publish"))),
    diff, result);

  for (const [name, a] of Object.entries(current.actions || {})) actionRows.append(actionRow(name, a));
  for (const m of current.multipliers || []) multiplierRows.append(multiplierRow(m));

  // The form's multipliers as the API takes them; with `strict`, a bad row is marked and the result is null.
  function readMultipliers(strict) {
    const out = [];
    for (const row of multiplierRows.querySelectorAll("[data-multiplier-row]")) {
      const id = row.dataset.multiplierRow;
      const get = (k) => (form.querySelector(`[name="m${id}.${k}"]`)?.value || "").trim();
      const bps = timesToBps(get("times"));
      const m = { name: get("name"), bps };
      if (get("kind") === "day") m.day_of_month = /^\d{1,2}$/.test(get("day_of_month")) ? Number(get("day_of_month")) : null;
      else Object.assign(m, { from: get("from") || null, to: get("to") || null });
      if (strict) {
        if (!m.name) return setError(form, `m${id}.name`, t("earn.bad.name")) && null;
        if (bps === null) return setError(form, `m${id}.times`, t("earn.bad.times")) && null;
        if (get("kind") === "day" && m.day_of_month === null) return setError(form, `m${id}.day_of_month`, t("earn.bad.whole")) && null;
        if (get("kind") !== "day" && !m.from) return setError(form, `m${id}.from`, t("earn.bad.date")) && null;
        if (get("kind") !== "day" && !m.to) return setError(form, `m${id}.to`, t("earn.bad.date")) && null;
      } else if (bps === null) continue;
      out.push(m);
    }
    return out;
  }

  function readActions() {
    const out = {};
    for (const row of actionRows.querySelectorAll("[data-action-row]")) {
      const id = row.dataset.actionRow;
      const get = (k) => (form.querySelector(`[name="a${id}.${k}"]`)?.value || "").trim();
      const name = get("name");
      if (!name) return setError(form, `a${id}.name`, t("earn.bad.name")) && null;
      if (name in out) return setError(form, `a${id}.name`, t("earn.bad.duplicate")) && null;
      if (!/^\d{1,7}$/.test(get("points"))) return setError(form, `a${id}.points`, t("earn.bad.whole")) && null;
      const a = { points: Number(get("points")) };
      for (const cap of ["per_day", "per_month", "lifetime"]) {
        if (!get(cap)) continue;
        if (!/^\d{1,7}$/.test(get(cap))) return setError(form, `a${id}.${cap}`, t("earn.bad.whole")) && null;
        a[cap] = Number(get(cap));
      }
      out[name] = a;
    }
    return out;
  }

  function readSurprise() {
    const get = (k) => (form.querySelector(`[name="surprise.${k}"]`)?.value || "").trim();
    const chance = percentToBps(get("chance"));
    if (chance === null) return setError(form, "surprise.chance", t("tier.bad.percent")) && null;
    const s = { chance_bps: chance };
    for (const k of ["min_points", "max_points", "daily_budget"]) {
      if (!/^\d{1,10}$/.test(get(k))) return setError(form, `surprise.${k}`, t("earn.bad.whole")) && null;
      s[k] = Number(get(k));
    }
    return s;
  }

  function drawCalendar() {
    const multipliers = readMultipliers(false);
    const [year, month] = shown;
    const title = new Intl.DateTimeFormat(lang(), { year: "numeric", month: "long", timeZone: "UTC" }).format(new Date(Date.UTC(year, month - 1, 1)));
    const weekdays = Array.from({ length: 7 }, (_, i) => new Intl.DateTimeFormat(lang(), { weekday: "short", timeZone: "UTC" })
      .format(new Date(Date.UTC(2024, 0, 1 + i)))); // 2024-01-01 was a Monday
    const used = new Map();
    const weeks = monthGrid(year, month).map((week) => h("tr", {}, week.map((date) => {
      if (!date) return h("td", { class: "empty" });
      const m = multiplierOn(date, multipliers);
      if (m) used.set(m.name, m);
      return h("td", { "data-date": date, "data-bps": m ? m.bps : 10000, class: [m ? "boosted" : "", date === today ? "today" : ""].join(" ").trim() },
        h("span", { class: "day" }, Number(date.slice(8))),
        m ? h("span", { class: "times" }, t("earn.times", { n: bpsToTimes(m.bps) })) : null,
        h("span", { class: "sr" }, m ? ` ${m.name}` : ` ${t("earn.calendar.none")}`, date === today ? ` (${t("earn.calendar.today")})` : ""));
    })));
    const move = (n) => { shown = addMonths(shown[0], shown[1], n); drawCalendar(); };
    mount(calendar,
      h("div", { class: "actions calendar-nav" },
        h("button", { type: "button", class: "secondary", "data-action": "prev-month", "aria-label": t("earn.calendar.prev"), onclick: () => move(-1) }, "‹"),
        h("strong", { "data-month": `${year}-${String(month).padStart(2, "0")}`, "aria-live": "polite" }, title),
        h("button", { type: "button", class: "secondary", "data-action": "next-month", "aria-label": t("earn.calendar.next"), onclick: () => move(1) }, "›")),
      h("table", { class: "calendar" },
        h("caption", { class: "sr" }, `${t("earn.calendar")}: ${title}`),
        h("thead", {}, h("tr", {}, weekdays.map((d) => h("th", { scope: "col" }, d)))),
        h("tbody", {}, weeks)),
      used.size ? h("ul", { class: "list legend", "data-legend": "" }, [...used.values()].map((m) =>
        h("li", {}, h("strong", {}, m.name), " ", describeMultiplier(m)))) : h("p", { class: "muted" }, t("earn.multipliers.none")));
  }

  function changed() {
    drawCalendar();
  }
  form.addEventListener("input", (event) => {
    if (event.target.name?.startsWith("m")) changed();
  });
  form.addEventListener("change", (event) => {
    if (event.target.name?.startsWith("m")) changed();
  });

  function planned() {
    clearErrors(form);
    const next = { timezone: form.querySelector("[name=timezone]").value };
    const actions = readActions();
    if (!actions) return null;
    const multipliers = readMultipliers(true);
    if (!multipliers) return null;
    next.actions = actions;
    next.multipliers = multipliers;
    if (hasSurprise) {
      const s = readSurprise();
      if (!s) return null;
      next.surprise = s.chance_bps ? s : null;
    }
    return next;
  }

  // The changes rule by rule: the time zone, each action and each multiplier (by name), the surprise points.
  function changes(next) {
    const rows = [];
    if (next.timezone !== current.timezone) rows.push([t("earn.diff.timezone"), current.timezone, next.timezone, "timezone"]);
    const names = [...new Set([...Object.keys(current.actions || {}), ...Object.keys(next.actions)])];
    for (const name of names) {
      const was = current.actions?.[name];
      const now = next.actions[name];
      const norm = (a) => a && JSON.stringify([a.points, a.per_day ?? null, a.per_month ?? null, a.lifetime ?? null]);
      if (norm(was) !== norm(now)) rows.push([t("earn.diff.action", { name: actionLabel(name) }), was ? describeAction(was) : t("earn.diff.none"),
        now ? describeAction(now) : t("earn.diff.none"), `action:${name}`]);
    }
    const key = (m) => JSON.stringify([m.bps, m.from ?? null, m.to ?? null, m.day_of_month ?? null]);
    const before = new Map((current.multipliers || []).map((m) => [m.name, m]));
    const after = new Map(next.multipliers.map((m) => [m.name, m]));
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      const was = before.get(name);
      const now = after.get(name);
      if (!was || !now || key(was) !== key(now)) rows.push([t("earn.diff.multiplier", { name }), was ? describeMultiplier(was) : t("earn.diff.none"),
        now ? describeMultiplier(now) : t("earn.diff.none"), `multiplier:${name}`]);
    }
    if (hasSurprise && describeSurprise(current.surprise) !== describeSurprise(next.surprise)) {
      rows.push([t("earn.diff.surprise"), describeSurprise(current.surprise), describeSurprise(next.surprise), "surprise"]);
    }
    return rows;
  }

  function preview() {
    const next = planned();
    if (!next) return null;
    const rows = changes(next);
    mount(diff, h("div", { class: "scroll", tabindex: 0 }, h("table", { "data-diff": "" },
      h("caption", { class: "muted" }, rows.length ? t("program.changes", { n: rows.length }) : t("program.unchanged")),
      h("thead", {}, h("tr", {}, [t("program.rule"), t("program.now", { v: current.version }), t("program.next")].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map(([rule, was, now, id]) => h("tr", { class: "changed", "data-rule": id },
        h("td", {}, rule), h("td", {}, was), h("td", {}, now)))))));
    return { next, rows };
  }

  // Where the API's `loc` points in this form: an action by its name, a multiplier by its position.
  function resolve(loc) {
    const [head, second, third] = loc;
    if (head === "actions" && typeof second === "string") {
      const row = [...actionRows.querySelectorAll("[data-action-row]")]
        .find((r) => form.querySelector(`[name="a${r.dataset.actionRow}.name"]`).value.trim() === second);
      if (!row) return [];
      const id = row.dataset.actionRow;
      return [third && third !== "[key]" ? `a${id}.${third}` : `a${id}.name`, `a${id}.name`];
    }
    if (head === "multipliers" && typeof second === "number") {
      const row = multiplierRows.querySelectorAll("[data-multiplier-row]")[second];
      if (!row) return [];
      const id = row.dataset.multiplierRow;
      const monthly = form.querySelector(`[name="m${id}.kind"]`).value === "day";
      const name = { bps: "times", start: "from", end: "to", from: "from", to: "to", day_of_month: "day_of_month", name: "name" }[third];
      // A rule about the whole row (to before from, both kinds) is said at its dates.
      return [name ? `m${id}.${name}` : monthly ? `m${id}.day_of_month` : `m${id}.to`, `m${id}.name`];
    }
    if (head === "surprise") return third === undefined && second ? [`surprise.${second}`] : ["surprise.max_points"];
    if (head === "timezone") return ["timezone"];
    return [];
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const plan = preview();
    if (!plan) return;
    if (!plan.rows.length) return setError(form, "timezone", t("program.nothing"));
    const button = form.querySelector("button[type=submit]");
    busy(button, true);
    try {
      // The contract's keys as they are now (the API keeps what a body leaves out, but these it needs), this
      // page's keys as edited, and the version shown: someone else's publishing in between is a 409, not lost.
      const body = { ...Object.fromEntries(CONTRACT.filter((k) => k in current).map((k) => [k, current[k]])), ...plan.next, version: current.version };
      const published = await api("PUT", "/v1/program", { body });
      mount(result, h("p", { class: "result", role: "status" }, t("program.published", { v: published.version })));
      setTimeout(() => reload(t("program.published", { v: published.version })), 600);
    } catch (e) {
      const share = [...actionRows.querySelectorAll("[data-action-row]")]
        .find((r) => form.querySelector(`[name="a${r.dataset.actionRow}.name"]`).value.trim() === "share");
      placeProblem(form, e, resolve, { "compliance-profile": share ? `a${share.dataset.actionRow}.points` : null });
    } finally {
      busy(button, false);
    }
  });

  drawCalendar();
  return form;
}

// --- points expiry ----------------------------------------------------------------------------------------------

function describeExpiry(months) {
  return months ? t(months === 1 ? "exp.diff.months.one" : "exp.diff.months", { months }) : t("exp.diff.never");
}

// The programme's expiry rule: what it is now (the months, and since when it counts, in the programme's time zone), how
// it works, and a form for the months (0: never) that publishes through PUT /v1/program as the rules above do: the
// contract's keys as they are, `expiry` as typed and the version shown (someone else's publishing in between is a
// 409, not lost). What changes is said as it is typed, in the same diff as the rules'.
function expiryCard(current, reload) {
  const rule = current.expiry && current.expiry.months ? current.expiry : null;
  const zone = current.timezone;
  const months = rule ? rule.months : 0;
  const diff = h("div", { "aria-live": "polite" });
  const result = h("div", { "aria-live": "polite" });
  const now = rule
    ? h("div", { "data-expiry-current": rule.months, "data-since": rule.since },
      h("p", {}, h("strong", {}, t(rule.months === 1 ? "exp.rule.one" : "exp.rule", { months: rule.months }))),
      h("p", { class: "muted" }, t("exp.since", { when: instantText(rule.since, zone, lang()), zone })))
    : h("div", { "data-expiry-current": 0 }, h("p", {}, h("strong", {}, t("exp.none"))));
  const form = h("form", { class: "card", "data-form": "expiry", novalidate: true, "aria-labelledby": "expiry-title" },
    h("h2", { id: "expiry-title" }, t("exp.title")),
    now,
    h("h3", {}, t("exp.how")),
    h("ul", { class: "explain", "data-explain": "" },
      ["exp.how.oldest", "exp.how.since", "exp.how.reminder", "exp.how.gone"].map((key) => h("li", {}, t(key, { zone })))),
    h("div", { class: "row" },
      field({ name: "expiry.months", label: t("exp.months"), value: months, hint: t("exp.months.hint"),
        attrs: { inputmode: "numeric", autocomplete: "off" } }),
      h("button", { type: "submit" }, t("program.publish"))),
    formError(), diff, result);

  // What publishing would change, as typed: one row, or "nothing changes".
  function planned() {
    const typed = monthsOf(form.querySelector("[name='expiry.months']").value);
    if (typed === null) {
      mount(diff);
      return { typed, rows: [] };
    }
    const rows = typed === months ? [] : [[t("exp.diff"), describeExpiry(months),
      typed ? `${describeExpiry(typed)} (${t("exp.diff.from")})` : `${describeExpiry(0)} (${t("exp.diff.kept")})`]];
    mount(diff, rows.length ? h("div", { class: "scroll", tabindex: 0 }, h("table", { "data-diff": "expiry" },
      h("caption", { class: "muted" }, t("program.changes", { n: rows.length })),
      h("thead", {}, h("tr", {}, [t("program.rule"), t("program.now", { v: current.version }), t("program.next")].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map(([what, was, next]) => h("tr", { class: "changed", "data-rule": "expiry" },
        h("td", {}, what), h("td", {}, was), h("td", {}, next)))))) : null);
    return { typed, rows };
  }
  form.addEventListener("input", () => {
    clearErrors(form);
    planned();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const plan = planned();
    if (plan.typed === null) return setError(form, "expiry.months", t("exp.bad"));
    if (!plan.rows.length) return setError(form, "expiry.months", t("program.nothing"));
    const button = form.querySelector("button[type=submit]");
    busy(button, true);
    try {
      const body = { ...Object.fromEntries(CONTRACT.filter((k) => k in current).map((k) => [k, current[k]])),
        expiry: { months: plan.typed }, version: current.version };
      const published = await api("PUT", "/v1/program", { body });
      mount(result, h("p", { class: "result", role: "status" }, t("program.published", { v: published.version })));
      setTimeout(() => reload(t("program.published", { v: published.version })), 600);
    } catch (e) {
      placeProblem(form, e, ([head]) => (head === "expiry" ? ["expiry.months"] : []));
    } finally {
      busy(button, false);
    }
  });
  return form;
}

// --- tiers and statuses -----------------------------------------------------------------------------------------

// Tiers and statuses are rules of the programme: saving them makes a new version (sent with the version read, so
// someone else's change in between is a 409), and the page reads everything again.
async function tiersCard(slot, currency, reload) {
  let settings;
  try {
    settings = await api("GET", "/v1/tiers");
  } catch (e) {
    return mount(slot, h("section", { class: "card", "aria-labelledby": "tiers-title" }, h("h2", { id: "tiers-title" }, t("tier.title")),
      h("p", { class: "muted", "data-unavailable": "tiers" }, e.status === 404 || e.status === 405 ? t("tier.unavailable") : null),
      e.status === 404 || e.status === 405 ? null : failure(e)));
  }
  const result = h("div", { "aria-live": "polite" });
  const tierRows = h("div", { "data-tiers": "" });
  const statusRows = h("div", { "data-statuses": "" });
  const tierRow = (tier) => {
    const id = ++rowIds;
    const legend = h("legend", {}, tier?.tier || t("tier.new"));
    const row = h("fieldset", { "data-tier-row": id }, legend, h("div", { class: "row" },
      field({ name: `t${id}.tier`, label: t("tier.name"), value: tier?.tier || "", attrs: { autocomplete: "off" } }),
      field({ name: `t${id}.min_spend`, label: t("tier.min_spend", { currency }), value: tier ? major(tier.min_spend_12m_minor, currency) : "",
        attrs: { inputmode: "decimal" } }),
      field({ name: `t${id}.discount`, label: t("tier.discount"), value: tier ? bpsToPercent(tier.discount_bps) : "0", attrs: { inputmode: "decimal" } }),
      field({ name: `t${id}.times`, label: t("tier.times"), value: tier ? bpsToTimes(tier.points_multiplier_bps) : "1", attrs: { inputmode: "decimal" } }),
      h("button", { type: "button", class: "secondary", "data-action": "remove-tier", "aria-label": t("tier.remove", { what: tier?.tier || t("tier.new") }),
        onclick: () => row.remove() }, t("remove"))));
    row.querySelector(`[name="t${id}.tier"]`).addEventListener("input", (event) => { legend.textContent = event.target.value.trim() || t("tier.new"); });
    return row;
  };
  const statusRow = (status) => {
    const id = ++rowIds;
    const legend = h("legend", {}, status?.status || t("tier.status.new"));
    const row = h("fieldset", { "data-status-row": id }, legend, h("div", { class: "row" },
      field({ name: `s${id}.status`, label: t("tier.status"), value: status?.status || "", attrs: { autocomplete: "off" } }),
      field({ name: `s${id}.min`, label: t("tier.status.min"), value: status?.min_qualified_referrals ?? "", attrs: { inputmode: "numeric" } }),
      field({ name: `s${id}.times`, label: t("tier.times"), value: status ? bpsToTimes(status.points_multiplier_bps) : "1", attrs: { inputmode: "decimal" } }),
      h("button", { type: "button", class: "secondary", "data-action": "remove-status", "aria-label": t("tier.remove", { what: status?.status || t("tier.status.new") }),
        onclick: () => row.remove() }, t("remove"))));
    row.querySelector(`[name="s${id}.status"]`).addEventListener("input", (event) => { legend.textContent = event.target.value.trim() || t("tier.status.new"); });
    return row;
  };
  const form = h("form", { class: "card", "data-form": "tiers", novalidate: true, "aria-labelledby": "tiers-title" },
    h("h2", { id: "tiers-title" }, t("tier.title")), h("p", { class: "muted" }, t("tier.intro")),
    h("h3", {}, t("tier.tiers")), tierRows,
    h("button", { type: "button", class: "secondary", "data-action": "add-tier", onclick: () => {
      const row = tierRow(null);
      tierRows.append(row);
      row.querySelector("input").focus();
    } }, t("tier.add")),
    h("h3", {}, t("tier.statuses")), statusRows,
    h("button", { type: "button", class: "secondary", "data-action": "add-status", onclick: () => {
      const row = statusRow(null);
      statusRows.append(row);
      row.querySelector("input").focus();
    } }, t("tier.status.add")),
    formError(), h("div", { class: "row" }, h("button", { type: "submit" }, t("save"))), result);
  const fill = (s) => {
    mount(tierRows, (s.tiers || []).map(tierRow));
    mount(statusRows, (s.statuses || []).map(statusRow));
  };
  fill(settings);

  function read() {
    const tiers = [];
    for (const row of tierRows.querySelectorAll("[data-tier-row]")) {
      const id = row.dataset.tierRow;
      const get = (k) => (form.querySelector(`[name="t${id}.${k}"]`)?.value || "").trim();
      if (!get("tier")) return setError(form, `t${id}.tier`, t("earn.bad.name")) && null;
      const min = toMinor(get("min_spend"), currency);
      if (min === null) return setError(form, `t${id}.min_spend`, t("tier.bad.amount")) && null;
      const discount = percentToBps(get("discount"));
      if (discount === null) return setError(form, `t${id}.discount`, t("tier.bad.percent")) && null;
      const times = timesToBps(get("times"));
      if (times === null) return setError(form, `t${id}.times`, t("earn.bad.times")) && null;
      tiers.push({ tier: get("tier"), min_spend_12m_minor: min, discount_bps: discount, points_multiplier_bps: times, _row: id });
    }
    const statuses = [];
    for (const row of statusRows.querySelectorAll("[data-status-row]")) {
      const id = row.dataset.statusRow;
      const get = (k) => (form.querySelector(`[name="s${id}.${k}"]`)?.value || "").trim();
      if (!get("status")) return setError(form, `s${id}.status`, t("earn.bad.name")) && null;
      if (!/^\d{1,6}$/.test(get("min"))) return setError(form, `s${id}.min`, t("earn.bad.whole")) && null;
      const times = timesToBps(get("times"));
      if (times === null) return setError(form, `s${id}.times`, t("earn.bad.times")) && null;
      statuses.push({ status: get("status"), min_qualified_referrals: Number(get("min")), points_multiplier_bps: times, _row: id });
    }
    tiers.sort((a, b) => a.min_spend_12m_minor - b.min_spend_12m_minor); // lowest first, as the service keeps them
    return { tiers, statuses };
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const sent = read();
    if (!sent) return;
    const strip = (rows) => rows.map(({ _row, ...rest }) => rest);
    const button = form.querySelector("button[type=submit]");
    busy(button, true);
    try {
      const body = { tiers: strip(sent.tiers), statuses: strip(sent.statuses) };
      if (settings.version !== undefined) body.version = settings.version;
      await api("PUT", "/v1/tiers", { body });
      mount(result, h("p", { class: "result", role: "status" }, t("saved")));
      setTimeout(() => reload(t("tier.saved")), 600);
    } catch (e) {
      const names = { min_spend_12m_minor: "min_spend", discount_bps: "discount", points_multiplier_bps: "times", tier: "tier",
        status: "status", min_qualified_referrals: "min" };
      placeProblem(form, e, ([head, index, key]) => {
        const rows = head === "tiers" ? sent.tiers : head === "statuses" ? sent.statuses : null;
        if (!rows || typeof index !== "number" || !rows[index]) return [];
        const prefix = `${head === "tiers" ? "t" : "s"}${rows[index]._row}`;
        return [names[key] ? `${prefix}.${names[key]}` : `${prefix}.${head === "tiers" ? "min_spend" : "min"}`];
      });
    } finally {
      busy(button, false);
    }
  });
  mount(slot, form);
}

// --- the surprise commitments -----------------------------------------------------------------------------------

async function commitmentsCard(slot, found) {
  const body = h("div", { "data-commitments": "" });
  mount(slot, h("section", { class: "card", "aria-labelledby": "commitments-title" },
    h("h2", { id: "commitments-title" }, t("surprise.commitments")), body,
    h("details", {}, h("summary", {}, t("surprise.verify")), h("p", {}, t("surprise.verify.text")))));
  if (found instanceof Error) return mount(body, failure(found));
  const items = found.items || [];
  if (!items.length) return mount(body, h("p", { class: "muted" }, t("surprise.commitments.none")));
  const draws = h("div", { "aria-live": "polite" });
  mount(body, h("div", { class: "scroll", tabindex: 0 }, h("table", { "data-commitment-list": "" },
    h("thead", {}, h("tr", {}, [t("surprise.day"), t("surprise.commitment"), t("surprise.secret")].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, items.map((c) => {
      const { date, revealed } = c;
      return h("tr", { "data-day": date, class: date === found.today ? "today" : "" },
        h("td", {}, date, date === found.today ? ` (${t("earn.calendar.today")})` : ""), h("td", { class: "mono" }, c.commitment),
        h("td", {}, revealed ? h("button", { type: "button", class: "secondary", "data-action": "draws", onclick: () => showDay(draws, date) },
          t("surprise.show")) : h("span", { class: "muted" }, t("surprise.not_yet"))));
    })))), draws);
}

// A revealed day: its secret, every draw, and the check of them all recomputed here with WebCrypto.
async function showDay(slot, date) {
  mount(slot, h("p", { class: "muted" }, t("loading")));
  let day;
  try { // every page of the day's draws (next_cursor)
    const path = `/v1/program/surprise/days/${encodeURIComponent(date)}`;
    day = await api("GET", path);
    const all = [...(day.draws || [])];
    for (let cursor = day.next_cursor, pages = 0; cursor && pages < 50; pages++) {
      const more = await api("GET", `${path}?${new URLSearchParams({ cursor })}`);
      all.push(...(more.draws || []));
      cursor = more.next_cursor;
    }
    day = { ...day, draws: all };
  } catch (e) {
    return mount(slot, failure(e));
  }
  const { verifyDay } = await import("../surprise.js");
  const check = await verifyDay(day).catch(() => null);
  const draws = day.draws || [];
  mount(slot, h("h3", {}, `${t("surprise.draws")} ${date}`),
    h("p", { class: "mono", "data-secret": "" }, `${t("surprise.secret")}: ${day.secret}`),
    day.paid_points !== undefined ? h("p", { "data-paid-points": day.paid_points }, t("surprise.paid_points", { n: number(day.paid_points) })) : null,
    check ? h("p", { class: `badge ${check.ok === check.n && check.commitment !== false ? "ok" : "bad"}`, "data-check": "" },
      t("surprise.check", { ok: check.ok, n: check.n }),
      check.commitment === undefined ? "" : ` · ${check.commitment ? t("surprise.check.commitment") : t("surprise.check.bad")}`) : null,
    h("div", { class: "scroll", tabindex: 0 }, h("table", { "data-draws": "" },
      h("thead", {}, h("tr", {}, [[t("surprise.order")], [t("surprise.hit")], [t("surprise.points"), "num"], [t("surprise.paid")]]
        .map(([c, cls]) => h("th", { scope: "col", class: cls }, c)))),
      h("tbody", {}, draws.map((d) => h("tr", { "data-order": d.order_id }, h("td", {}, d.order_id), h("td", {}, d.hit ? t("yes") : t("no")),
        h("td", { class: "num" }, d.hit ? number(d.points) : "—"),
        h("td", {}, d.hit ? (d.paid === false ? t("surprise.paid.budget") : t("yes")) : "—")))))));
}

function day(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(lang(), { dateStyle: "medium" });
}

// --- on the member page -----------------------------------------------------------------------------------------

// The member's tier, progress to the next (spend over the last 12 months against the next tier's threshold),
// the review date and statuses; nothing when the service does not say (no tiers on this server).
export function memberStanding(member, currency) {
  if (!("tier" in member) && !("statuses" in member)) return null;
  const tier = member.tier || {};
  const progress = tierProgress(tier);
  const spend = tier.spend_12m_minor || 0;
  const statuses = member.statuses || [];
  return h("section", { class: "card", "aria-labelledby": "standing-title", "data-standing": "" },
    h("h2", { id: "standing-title" }, t("tier.member")),
    h("div", { class: "stats" },
      h("div", { class: "stat", "data-stat": "tier" }, h("div", { class: "label" }, t("tier.name")),
        h("div", { class: "value" }, tier.tier || t("tier.member.none")),
        tier.tier && tier.since ? h("div", { class: "muted" }, t("tier.member.since", { when: day(tier.since) })) : null),
      tier.tier ? h("div", { class: "stat", "data-stat": "benefits" }, h("div", { class: "label" }, t("tier.member.benefits", {
        discount: `${bpsToPercent(tier.discount_bps || 0)} %`, times: bpsToTimes(tier.points_multiplier_bps || 10000) })),
      h("div", { class: "value" }, tier.review_at ? t("tier.member.review", { when: day(tier.review_at) }) : "—")) : null,
      h("div", { class: "stat", "data-stat": "statuses" }, h("div", { class: "label" }, t("tier.member.statuses")),
        h("div", { class: "value" }, statuses.length ? statuses.map((s) => h("span", { class: "badge ok", "data-status": s }, s)) : t("tier.member.no_statuses")))),
    h("p", { "data-spend": spend }, t("tier.member.spend", { spend: money(spend, currency) })),
    progress ? h("div", { class: "field", "data-progress": progress.tier },
      h("label", { for: "tier-progress" }, t("tier.member.progress", { tier: progress.tier })),
      h("progress", { id: "tier-progress", max: progress.target, value: progress.spend, "aria-describedby": "tier-progress-text" }),
      h("span", { id: "tier-progress-text", class: "hint" }, t("tier.member.next", { more: money(progress.needed, currency), tier: progress.tier })))
      : tier.tier ? h("p", { class: "muted" }, t("tier.member.top")) : null);
}

// --- at the counter ---------------------------------------------------------------------------------------------

// Crediting an action to the member at the till (POST /v1/actions, staff): the programme's actions in a select, a
// reference, and an action number kept until an answer says what happened (a lost answer and a second press send
// the same id: the API replays the first credit). The member's counts against each cap, when the service tells them.
export function actionPane(member, ctx) {
  const actions = ctx.program().actions || {};
  const names = Object.keys(actions);
  if (!names.length) return h("p", { class: "muted" }, t("act.none"));
  const slot = `action:${member.member_id}`;
  const result = h("div", { "aria-live": "polite" });
  const counts = h("div", { "data-action-counts": "" });
  const showCounts = async () => {
    try {
      const found = await api("GET", `/v1/members/${encodeURIComponent(member.member_id)}/actions`);
      mount(counts, h("ul", { class: "list" }, (found.actions || []).map((c) => h("li", { "data-count": c.action },
        h("strong", {}, actionLabel(c.action)), " ", describeAction({ points: c.points, per_day: c.per_day, per_month: c.per_month,
          lifetime: c.lifetime_cap }), " · ", h("span", { class: "muted" }, t("act.counts", { today: number(c.today),
          month: number(c.this_month), lifetime: number(c.lifetime) }))))));
    } catch {
      mount(counts);
    }
  };
  const form = h("form", { "data-form": "action", novalidate: true },
    h("div", { class: "row" },
      field({ name: "action_id", label: t("act.id"), value: pending(slot, () => newId("ACT")), required: true }),
      field({ name: "action", label: t("act.action"), value: names[0],
        options: names.map((n) => [n, `${actionLabel(n)} · ${describeAction(actions[n])}`]) }),
      field({ name: "ref", label: t("act.ref"), hint: t("act.ref.hint"), attrs: { autocomplete: "off" } })),
    formError(), h("button", { type: "submit" }, t("act.button")), result);
  form.addEventListener("submit", submitsOnce(form, slot, async ({ action_id: actionId, action, ref }) => {
    const body = { action_id: actionId.trim(), member_id: member.member_id, action, ...(ref.trim() ? { ref: ref.trim() } : {}) };
    hold(slot, body.action_id);
    const done = await api("POST", "/v1/actions", { body });
    mount(result, h("p", { class: "result", role: "status" }, t("act.done", { action: actionLabel(action), points: number(done.points) })));
    form.querySelector("[name=action_id]").value = newId("ACT");
    form.querySelector("[name=ref]").value = "";
    await ctx.refresh();
    await showCounts();
  }, { "action-capped": "action", "unknown-action": "action", "idempotency-mismatch": "action_id" }));
  showCounts();
  return h("div", {}, form, h("h3", {}, t("act.standing")), counts);
}
