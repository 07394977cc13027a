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
