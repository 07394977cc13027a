// A member: balances (and the points that will expire, soonest first), the ledger (newest first, paged) with its chain
// checked in this browser, the referral tree as a picture, the send log and the preferences.
import { api } from "../api.js";
import { roles } from "../auth.js";
import { agrees, checkChain, wholeLedger } from "../chain.js";
import { drawTree } from "../tree.js";
import { t, lang } from "../i18n.js";
import { h, mount, money, number, when } from "../ui.js";
import { bpsToTimes, dayText, expiringSummary, expiryDay } from "../earning.js";

const PAGE = 20;
const wallet = () => import("./wallet.js");
const MAX_CHECKED = 5000;
const ZONE = "Asia/Shanghai"; // the programme's time zone when the programme cannot be read (a fresh install's)
const EXPIRING_SHOWN = 3;

export async function memberPage(main, memberId) {
  const path = `/v1/members/${encodeURIComponent(memberId)}`;
  mount(main, h("p", { class: "muted" }, t("loading")));
  let member;
  const programme = api("GET", "/v1/program").catch(() => ({ currency: "CNY", referral_rates_bps: [], timezone: ZONE }));
  try {
    member = await api("GET", path);
  } catch (e) {
    return mount(main, h("h1", {}, t("member.title")), h("p", { class: "error", role: "alert" }, e.problem?.detail || e.message));
  }
  const p = member.balances.points;
  const { currency, timezone: zone = ZONE } = await programme;
  const badge = h("span", { class: "badge muted", "data-chain": "checking" }, t("chain.checking"));
  const ledger = h("div");
  const treeSlot = h("div", { class: "scroll", tabindex: 0 }, h("p", { class: "muted" }, t("loading")));
  const messages = h("div", { class: "scroll", tabindex: 0 });
  const assets = h("div");
  wallet().then((w) => mount(assets, w.memberAssets(member, currency))).catch(() => {});
  const standing = h("div");
  if ("tier" in member || "statuses" in member) { // the earning chunk only where the service tells a tier
    import("./earning.js").then((e) => mount(standing, e.memberStanding(member, currency))).catch(() => {});
  }
  mount(main,
    h("h1", {}, member.display_name),
    h("p", { class: "muted" }, [member.email, member.phone, `${t("member.code")} ${member.referral_code}`, `${t("member.joined")} ${when(member.joined_at)}`].filter(Boolean).join(" · "),
      member.referrer_id ? [" · ", h("a", { href: `#/member/${encodeURIComponent(member.referrer_id)}` }, t("member.referrer"))] : null),
    h("div", { class: "stats" },
      stat(t("points.available"), number(p.available), "available"), stat(t("points.pending"), number(p.pending), "pending"),
      stat(t("points.queued"), number(p.queued || 0), "queued"), stat(t("points.lifetime"), number(p.lifetime_earned), "lifetime")),
    expiringPoints(p),
    standing,
    assets,
    h("section", { class: "card", "aria-labelledby": "ledger-title" },
      h("h2", { id: "ledger-title" }, t("member.ledger"), " ", badge), ledger),
    h("section", { class: "card", "aria-labelledby": "tree-title" }, h("h2", { id: "tree-title" }, t("member.tree")), treeSlot),
    h("div", { class: "grid" },
      h("section", { class: "card", "aria-labelledby": "msg-title" }, h("h2", { id: "msg-title" }, t("member.messages")), messages),
      h("section", { class: "card", "aria-labelledby": "pref-title" }, h("h2", { id: "pref-title" }, t("member.preferences")),
        h("dl", {},
          h("dt", {}, t("pref.locale")), h("dd", {}, member.locale),
          h("dt", {}, t("pref.marketing")), h("dd", {}, member.marketing_opt_in ? t("yes") : t("no")),
          h("dt", {}, t("pref.time_zone")), h("dd", {}, member.time_zone || "—"),
          h("dt", {}, t("pref.birthday")), h("dd", {}, member.birthday || "—")))));

  const failed = (slot) => (e) => mount(slot, h("p", { class: "error", role: "alert" }, e.problem?.detail || e.message));
  showLedger(ledger, path, null, currency, zone).catch(failed(ledger));
  verify(badge, path);
  showTree(treeSlot, member, path).catch(failed(treeSlot));
  api("GET", `${path}/messages`).then(({ items }) => mount(messages, items.length ? h("table", {},
    h("thead", {}, h("tr", {}, [t("msg.kind"), t("msg.occasion"), t("msg.status"), t("msg.when")].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, items.map((m) => h("tr", {}, h("td", {}, t(`reminder.${m.kind}`)), h("td", {}, m.occasion),
      h("td", {}, `${m.status}${m.reason ? ` (${m.reason})` : ""}`), h("td", {}, when(m.sent_at || m.updated_at))))))
    : h("p", { class: "muted" }, t("member.no_messages")))).catch((e) => mount(messages, h("p", { class: "error" }, e.message)));
}

// The available points that will expire (the member read's `expiring`, soonest first): the first few days, what the
// later ones add up to, and the total; nothing when no point is dated.
function expiringPoints(points) {
  const found = expiringSummary(points.expiring, EXPIRING_SHOWN);
  if (!found.first.length) return null;
  const on = (date) => dayText(date, lang());
  return h("section", { class: "card", "aria-labelledby": "expiring-title", "data-expiring": found.total },
    h("h2", { id: "expiring-title" }, t("expiring.title")),
    h("ul", { class: "list" }, found.first.map((e) => h("li", { "data-on": e.on, "data-points": e.points },
      t(e.points === 1 ? "expiring.item.one" : "expiring.item", { points: number(e.points), date: on(e.on) })))),
    found.laterDays ? h("p", { "data-later": found.later },
      t("expiring.later", { points: number(found.later), date: on(found.first[found.first.length - 1].on) })) : null,
    found.first.length > 1 ? h("p", { class: "muted", "data-total": found.total },
      t("expiring.total", { points: number(found.total), date: on(found.last) })) : null);
}

function stat(label, value, name) {
  return h("div", { class: "stat", "data-stat": name }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
}

// An entry's amount in its asset's unit: points as a number, stored value as money, a bundle card's uses as uses.
function amountOf(entry, currency) {
  const sign = entry.amount > 0 ? "+" : "";
  if (entry.asset === "stored_value" || entry.asset === "commission") return `${sign}${money(entry.amount, currency)}`;
  if ((entry.asset || "").startsWith("bundle:")) return `${sign}${t("ledger.uses", { n: number(entry.amount) })}`;
  return `${sign}${number(entry.amount)}`;
}

// The rule that made an entry (issue 14): a multiplier's name and multiple, an action's name; nothing for the rest.
function ruleOf(entry) {
  if (!entry.rule) return "";
  const name = entry.rule.slice(entry.rule.indexOf(":") + 1);
  return entry.multiplier_bps ? `${name} ×${bpsToTimes(entry.multiplier_bps)}` : name;
}

// When an entry's points expire (points that arrived in `available` under an expiry rule), or which dated points an
// `expiry` entry ended: each lot's local day in the programme's time zone, as the member's `expiring` names it.
function datesOf(entry, zone) {
  const lots = (entry.expires || []).map(([at, points]) => [dayText(expiryDay(at, zone) || at, lang()), points]);
  if (!lots.length) return "";
  const kind = entry.kind === "expiry" ? "ledger.expired" : "ledger.expires";
  if (lots.length === 1) return t(kind, { date: lots[0][0] });
  return t(`${kind}.lots`, { lots: lots.map(([date, points]) => t("ledger.lot", { date, points: number(points) })).join(", ") });
}

function describe(entry, zone) {
  const rule = ruleOf(entry);
  // An expiry entry's source names its last lot's instant: its dates say it in words instead.
  const from = entry.source && entry.kind !== "expiry" ? `${t(`source.${entry.source.type}`)} ${entry.source.id}` : "";
  const source = [from, rule, datesOf(entry, zone)].filter(Boolean).join(" · ");
  const level = entry.level === null || entry.level === undefined ? "" : t(`level.${Math.min(entry.level, 2)}`, { n: entry.level });
  return { kind: t(`kind.${entry.kind}`), source, level };
}

async function showLedger(slot, path, cursor, currency = "CNY", zone = ZONE) {
  const page = await api("GET", `${path}/ledger?${new URLSearchParams(cursor ? { limit: PAGE, cursor } : { limit: PAGE })}`);
  const older = page.next_cursor ? h("button", { type: "button", class: "secondary", "data-action": "older",
    onclick: () => showLedger(slot, path, page.next_cursor, currency, zone).catch(() => {}) }, t("ledger.older")) : null;
  const first = h("button", { type: "button", class: "secondary", onclick: () => showLedger(slot, path, null, currency, zone).catch(() => {}) }, t("ledger.newest"));
  mount(slot, page.items.length ? h("div", { class: "scroll", tabindex: 0 }, h("table", { "data-ledger": "" },
    h("thead", {}, h("tr", {}, [["#", "num"], [t("ledger.when")], [t("ledger.kind")], [t("ledger.what")], [t("ledger.level")], [t("ledger.bucket")], [t("ledger.amount"), "num"]]
      .map(([c, cls]) => h("th", { scope: "col", class: cls }, c)))),
    h("tbody", {}, page.items.map((e) => {
      const d = describe(e, zone);
      return h("tr", { "data-seq": e.seq }, h("td", { class: "num" }, e.seq), h("td", {}, when(e.created_at)), h("td", { class: "kind" }, d.kind),
        h("td", {}, d.source), h("td", {}, d.level), h("td", {}, t(`bucket.${e.bucket}`)),
        h("td", { class: "num", "data-asset": e.asset || "points" }, amountOf(e, currency)));
    })))) : h("p", { class: "muted" }, t("ledger.empty")),
  h("div", { class: "row" }, cursor ? first : null, older));
}

async function verify(badge, path) {
  try {
    // The service's report first (admins): entries written after it only extend the chain the browser checks.
    const server = roles().admin ? await api("GET", `${path}/ledger/verify`).catch(() => null) : null;
    const { entries, complete } = await wholeLedger(api, path, MAX_CHECKED);
    const result = await checkChain(entries);
    const ok = result.ok && complete && (!server || agrees(result, entries, server));
    badge.className = `badge ${ok ? "ok" : "bad"}`;
    badge.dataset.chain = ok ? "verified" : "broken";
    badge.textContent = ok ? t("chain.verified", { n: result.entries }) :
      !complete && result.ok ? t("chain.partial", { n: result.entries }) : t("chain.broken", { seq: result.firstBad ?? server?.first_invalid_seq ?? "?" });
    badge.title = result.head ? `${t("chain.head")} ${result.head}` : "";
  } catch {
    badge.className = "badge bad";
    badge.textContent = t("chain.failed");
  }
}

async function showTree(slot, member, path) {
  const [tree, program] = await Promise.all([api("GET", `${path}/referrals`), api("GET", "/v1/program").catch(() => ({ referral_rates_bps: [] }))]);
  const credited = Math.max(1, program.referral_rates_bps.length);
  const root = { name: member.display_name, children: [] };
  const SHOWN = 8;
  for (const person of tree.direct.slice(0, SHOWN)) root.children.push({ name: person.display_name, id: person.member_id, children: [] });
  const level1 = tree.levels.find((l) => l.level === 1)?.members || 0;
  if (level1 > SHOWN) root.children.push({ name: t("tree.more", { n: level1 - SHOWN }), count: level1 - SHOWN });
  let drawn = 1;
  if (credited >= 2) {
    drawn = 2;
    await Promise.all(root.children.filter((c) => c.id).map(async (child) => {
      const below = await api("GET", `/v1/members/${encodeURIComponent(child.id)}/referrals`).catch(() => null);
      if (!below) return;
      for (const person of below.direct.slice(0, 3)) child.children.push({ name: person.display_name, children: [] });
      const n = below.levels.find((l) => l.level === 1)?.members || 0;
      if (n > 3) child.children.push({ name: t("tree.more", { n: n - 3 }), count: n - 3 });
    }));
  }
  // Levels beyond those drawn person by person: one node per level with its count, on a branch of their own
  // (spacers keep each at its level's row), so no count looks like one person's referrals.
  const beyond = tree.levels.filter((l) => l.level > drawn).sort((a, b) => a.level - b.level);
  if (beyond.length) {
    let parent = root;
    for (let depth = 1; depth < beyond[0].level; depth++) {
      const spacer = { name: "", spacer: true, children: [] };
      parent.children.push(spacer);
      parent = spacer;
    }
    for (const level of beyond) {
      const node = { name: t("tree.level", { level: level.level, n: level.members }), count: level.members, children: [] };
      parent.children.push(node);
      parent = node;
    }
  }
  const summary = tree.levels.map((l) => t("tree.summary", { level: l.level, n: l.members })).join(" · ");
  mount(slot, root.children.length ? drawTree(root, { title: t("tree.title", { name: member.display_name }) }) : h("p", { class: "muted" }, t("tree.none")),
    h("p", { class: "muted" }, summary ? `${summary} · ` : "", t("tree.points", { n: number(tree.points_from_referrals) })));
}
