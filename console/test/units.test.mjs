// The console's pure functions, under Node's own test runner (run by tests/e2e/test_console_units.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { toMinor, major, digitsOf } from "../src/ui.js";
import { canonical, checkChain } from "../src/chain.js";
import { toBps, paidOut, reportSeries, rowCommission, fileName } from "../src/commission.js";

test("amounts typed at the till become integer minor units in the currency's own digits", () => {
  assert.equal(toMinor("129", "CNY"), 12900);
  assert.equal(toMinor("129.5", "CNY"), 12950);
  assert.equal(toMinor(" 129,05 ", "CNY"), 12905);
  assert.equal(toMinor("0.10", "CNY"), 10);
  assert.equal(toMinor("1000", "JPY"), 1000);
  assert.equal(toMinor("1000.5", "JPY"), null);
  assert.equal(toMinor("1.234", "KWD"), 1234);
  for (const bad of ["", "abc", "1.234", "-5", "1e3", "12.3.4", "0x10"]) assert.equal(toMinor(bad, "CNY"), null, bad);
});

test("minor units are written back exactly", () => {
  assert.equal(major(12905, "CNY"), "129.05");
  assert.equal(major(5, "CNY"), "0.05");
  assert.equal(major(-250, "CNY"), "-2.50");
  assert.equal(major(1000, "JPY"), "1000");
  assert.equal(major(1234, "KWD"), "1.234");
  assert.deepEqual([digitsOf("CNY"), digitsOf("JPY"), digitsOf("KWD")], [2, 0, 3]);
});

function entry(seq, prev, content) {
  const body = { seq, prev_hash: prev, ...content };
  return { ...body, hash: createHash("sha256").update(canonical(body)).digest("hex") };
}

test("the chain check accepts a genuine chain and names the first bad entry of a tampered one", async () => {
  globalThis.crypto ??= (await import("node:crypto")).webcrypto;
  const first = entry(1, "0".repeat(64), { amount: 129, kind: "purchase", source: { type: "purchase", id: "O-1" }, parts: null, note: "李 \u2028 \"q\"" });
  const second = entry(2, first.hash, { amount: -29, kind: "refund", source: { type: "refund", id: "R-1" }, parts: [["O-1", 3]] });
  assert.deepEqual(await checkChain([first, second]), { ok: true, entries: 2, head: second.hash, firstBad: null });
  const edited = { ...second, amount: -1 };
  assert.equal((await checkChain([first, edited])).firstBad, 2);
  assert.equal((await checkChain([second])).firstBad, 1);
});

test("a commission rate typed as a percentage becomes basis points, exactly", () => {
  assert.equal(toBps("5"), 500);
  assert.equal(toBps("12.5"), 1250);
  assert.equal(toBps(" 7,25 % "), 725);
  assert.equal(toBps("0"), 0);
  assert.equal(toBps("100"), 10000);
  assert.equal(toBps("0.01"), 1);
  for (const bad of ["", "abc", "100.01", "101", "1.234", "-5", "1e2", "5..0"]) assert.equal(toBps(bad), null, bad);
});

test("paid out is what was earned less what is held or payable", () => {
  assert.equal(paidOut({ available: 0, pending: 645, lifetime_earned: 645, queued: 0 }), 0);
  assert.equal(paidOut({ available: 1000, pending: 0, lifetime_earned: 2500, queued: 0 }), 1500);
  assert.equal(paidOut({ available: 0, pending: 0, lifetime_earned: 430, queued: 120 }), 430);
  assert.equal(paidOut({ available: 50, pending: 0, lifetime_earned: 0 }), 0); // never below zero
});

test("the report's rows by day become the chart's series, commission net of refunds", () => {
  const rows = [
    { key: "2026-11-29", clicks: 3, sign_ups: 1, commission_pending_minor: 0, commission_available_minor: 0 },
    { key: "2026-11-30", clicks: 5, sign_ups: 2, commission_pending_minor: 645, commission_available_minor: 100 },
  ];
  assert.deepEqual(reportSeries(rows), { labels: ["2026-11-29", "2026-11-30"], clicks: [3, 5], signUps: [1, 2], commission: [0, 745] });
  assert.equal(rowCommission({ commission_pending_minor: 10, commission_available_minor: 5, commission_reversed_minor: 99 }), 15);
});

test("the CSV's name comes from Content-Disposition, never with a path in it", () => {
  assert.equal(fileName('attachment; filename="P-1-2026-11-01-2026-11-30-day.csv"', "x.csv"), "P-1-2026-11-01-2026-11-30-day.csv");
  assert.equal(fileName("attachment; filename=a.csv", "x.csv"), "a.csv");
  assert.equal(fileName('attachment; filename="../../etc/p.csv"', "x.csv"), ".._.._etc_p.csv");
  assert.equal(fileName("", "x.csv"), "x.csv");
});

test("every string is in both languages", async () => {
  const { DICTIONARIES } = await import("../src/i18n.js");
  const en = Object.keys(DICTIONARIES.en).sort();
  const zh = Object.keys(DICTIONARIES["zh-CN"]).sort();
  assert.deepEqual(en.filter((k) => !zh.includes(k)), []);
  assert.deepEqual(zh.filter((k) => !en.includes(k)), []);
  // The words of the pages loaded later (partners, reviews): both languages, none overriding a word of the first
  // load, and no page's word another's.
  const later = [];
  for (const file of ["partners.words.js", "reviews.words.js"]) {
    const { WORDS } = await import(`../src/pages/${file}`);
    const pen = Object.keys(WORDS.en);
    const pzh = Object.keys(WORDS["zh-CN"]);
    assert.deepEqual(pen.filter((k) => !pzh.includes(k)), [], file);
    assert.deepEqual(pzh.filter((k) => !pen.includes(k)), [], file);
    assert.deepEqual(pen.filter((k) => en.includes(k) || later.includes(k)), [], file);
    later.push(...pen);
  }
});

test("refunding a bundle card's unused uses gives back the price's share, floored", async () => {
  const { bundleRefund } = await import("../src/wallet.js");
  assert.equal(bundleRefund(28800, 6, 5), 24000);
  assert.equal(bundleRefund(10000, 3, 1), 3333);
  assert.equal(bundleRefund(10000, 3, 3), 10000);
});

// --- earning (issue 14) ------------------------------------------------------------------------------------------
import { timesToBps, bpsToTimes, percentToBps, bpsToPercent, multiplierOn, monthGrid, addMonths, localToday, tierProgress } from "../src/earning.js";
import { draw, verifyDay } from "../src/surprise.js";
import { WORDS as EARNING_WORDS } from "../src/pages/earning.words.js";

test("a multiplier typed as times the base becomes basis points, exactly, and back", () => {
  assert.equal(timesToBps("2"), 20000);
  assert.equal(timesToBps("1.5"), 15000);
  assert.equal(timesToBps(" ×1,25 "), 12500);
  assert.equal(timesToBps("1.0001"), 10001);
  assert.equal(timesToBps("10"), 100000);
  for (const bad of ["", "double", "10.01", "11", "1.23456", "-2", "2e1"]) assert.equal(timesToBps(bad), null, bad);
  assert.deepEqual([20000, 15000, 12500, 10001, 10000].map(bpsToTimes), ["2", "1.5", "1.25", "1.0001", "1"]);
  assert.deepEqual([percentToBps("5"), percentToBps("2.5"), percentToBps("100"), percentToBps("101")], [500, 250, 10000, null]);
  assert.deepEqual([bpsToPercent(500), bpsToPercent(250), bpsToPercent(1), bpsToPercent(1500)], ["5", "2.5", "0.01", "15"]);
});

test("a date's calendar multiplier is the highest that applies, as the service picks it", () => {
  const rules = [{ name: "Spring Festival", from: "2027-02-06", to: "2027-02-12", bps: 20000 },
    { name: "Member day", day_of_month: 8, bps: 30000 }, { name: "Month end", day_of_month: 31, bps: 15000 },
    { name: "Half", from: "2027-02-01", to: "2027-02-02", bps: 5000 }];
  assert.equal(multiplierOn("2027-02-06", rules).name, "Spring Festival");
  assert.equal(multiplierOn("2027-02-12", rules).name, "Spring Festival"); // both ends included
  assert.equal(multiplierOn("2027-02-13", rules), null);
  assert.equal(multiplierOn("2027-02-08", rules).name, "Member day"); // the highest of the two that apply
  assert.equal(multiplierOn("2027-03-08", rules).name, "Member day");
  assert.equal(multiplierOn("2027-01-31", rules).name, "Month end");
  assert.equal(multiplierOn("2027-02-01", rules), null); // below the base: none
  assert.equal(multiplierOn("2027-02-09", [{ name: "A", day_of_month: 9, bps: 20000 }, { name: "B", day_of_month: 9, bps: 20000 }]).name, "A");
});

test("a month's grid starts on Monday and holds every day once", () => {
  const feb = monthGrid(2027, 2); // 1 February 2027 is a Monday
  assert.equal(feb[0][0], "2027-02-01");
  assert.equal(feb.flat().filter(Boolean).length, 28);
  const dec = monthGrid(2026, 12); // 1 December 2026 is a Tuesday
  assert.deepEqual(dec[0].slice(0, 2), [null, "2026-12-01"]);
  assert.equal(dec.flat().filter(Boolean).at(-1), "2026-12-31");
  assert.ok(dec.every((week) => week.length === 7));
  assert.deepEqual([addMonths(2026, 12, 1), addMonths(2027, 1, -1), addMonths(2027, 1, -13)], [[2027, 1], [2026, 12], [2025, 12]]);
  assert.equal(localToday("Asia/Shanghai", new Date("2026-11-30T16:30:00Z")), "2026-12-01");
  assert.equal(localToday("America/New_York", new Date("2026-11-27T04:30:00Z")), "2026-11-26");
});

test("a member's progress to the next tier is the spend against the next tier's threshold", () => {
  assert.deepEqual(tierProgress({ tier: "silver", spend_12m_minor: 200000, next: { tier: "gold", spend_needed_minor: 300000 } }),
    { tier: "gold", spend: 200000, needed: 300000, target: 500000, percent: 40 });
  assert.equal(tierProgress({ tier: "gold", spend_12m_minor: 600000, next: null }), null);
  assert.equal(tierProgress(null), null);
});

test("a surprise draw is recomputed from the revealed secret as the contract says", async () => {
  globalThis.crypto ??= (await import("node:crypto")).webcrypto;
  const secret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  const rule = { chance_bps: 6000, min_points: 10, max_points: 100 };
  // Worked with Python's hmac: int(h[0:4]) mod 10000 is 2943, 9399, 5320, 8814, 3549; points 10 + int(h[4:8]) mod 91.
  const found = await Promise.all(["POS-1", "POS-2", "POS-3", "POS-4", "POS-5"].map((o) => draw(secret, o, rule)));
  assert.deepEqual(found, [{ hit: true, points: 14 }, { hit: false, points: 0 }, { hit: true, points: 77 }, { hit: false, points: 0 },
    { hit: true, points: 16 }]);
  const day = { secret, commitment: "4773d12e2371bb935b9a0f5439b4a1c3ad3f2414b86980f8418d1cfabdfadfef", surprise: rule,
    draws: [{ order_id: "POS-1", hit: true, points: 14 }, { order_id: "POS-2", hit: false }, { order_id: "POS-3", hit: true, points: 70 }] };
  assert.deepEqual(await verifyDay(day), { ok: 2, n: 3, commitment: true });
  assert.equal((await verifyDay({ ...day, commitment: "00".repeat(32) })).commitment, false);
});

test("the earning words exist in both languages", () => {
  assert.deepEqual(Object.keys(EARNING_WORDS["zh-CN"]).sort(), Object.keys(EARNING_WORDS.en).sort());
});

import { levels, days, progressPercent } from "../src/earning.js";

test("a rehearsal's answer is read by level, by day and by progress", () => {
  assert.deepEqual(levels({ by_level: [4000, 800, 0] }), [[0, 4000], [1, 800], [2, 0]]);
  assert.deepEqual(days({ by_day: [{ date: "2026-11-02", purchases: 3, current: 30, proposed: 45 }] }), [["2026-11-02", [30, 45]]]);
  assert.deepEqual(days({ current: {}, proposed: {} }), []);
  assert.equal(progressPercent({ parts: 4, parts_done: 3 }), 75);
  assert.equal(progressPercent({ parts: 3, parts_done: 1 }), 33);
  assert.equal(progressPercent({ parts: 0, parts_done: 0 }), null);
  assert.equal(progressPercent(undefined), null);
});

// --- points expiry -----------------------------------------------------------------------------------------------
import { monthsOf, expiryDay, expiringSummary, dayText, instantText } from "../src/earning.js";

test("the expiry rule's months are a whole number from 0 (never) to 120", () => {
  assert.deepEqual(["12", " 0 ", "1", "120"].map(monthsOf), [12, 0, 1, 120]);
  for (const bad of ["", "twelve", "121", "-1", "1.5", "12 months", "1e1", null, undefined]) assert.equal(monthsOf(bad), null, String(bad));
});

test("a dated lot's instant ends the local day before it, as the service's `on` says", () => {
  // Midnight in Shanghai is 16:00 UTC the day before: points dated 2027-03-31T16:00:00Z expire at the end of 31 March.
  assert.equal(expiryDay("2027-03-31T16:00:00Z", "Asia/Shanghai"), "2027-03-31");
  assert.equal(expiryDay("2027-04-01T00:00:00Z", "UTC"), "2027-03-31");
  assert.equal(expiryDay("2027-03-14T05:00:00Z", "America/New_York"), "2027-03-13"); // the night clocks go forward
  assert.equal(expiryDay("not a date", "UTC"), null);
});

test("a member's expiring points: the first few days, the later ones summed, the total", () => {
  const expiring = [{ points: 15, on: "2027-01-01" }, { points: 30, on: "2027-01-04" }, { points: 40, on: "2027-01-07" },
    { points: 50, on: "2027-01-10" }, { points: 5, on: "2027-02-01" }];
  assert.deepEqual(expiringSummary(expiring), { first: expiring.slice(0, 3), later: 55, laterDays: 2, total: 140, last: "2027-02-01" });
  assert.deepEqual(expiringSummary(expiring.slice(0, 1)), { first: expiring.slice(0, 1), later: 0, laterDays: 0, total: 15, last: "2027-01-01" });
  assert.deepEqual(expiringSummary([]), { first: [], later: 0, laterDays: 0, total: 0, last: null });
  assert.deepEqual(expiringSummary(undefined).total, 0);
});

test("a calendar date reads the same in every time zone; the rule's start reads in the programme's", () => {
  assert.equal(dayText("2027-03-31", "en"), "Mar 31, 2027");
  assert.equal(dayText("2027-03-31", "zh-CN"), "2027年3月31日");
  assert.equal(instantText("2026-11-30T21:40:00Z", "Asia/Shanghai", "en"), "Dec 1, 2026, 5:40 AM");
  assert.equal(instantText("2026-11-30T21:40:00Z", "UTC", "en"), "Nov 30, 2026, 9:40 PM");
});
