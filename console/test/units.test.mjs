// The console's pure functions, under Node's own test runner (run by tests/e2e/test_console_units.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { toMinor, major, digitsOf } from "../src/ui.js";
import { canonical, checkChain } from "../src/chain.js";

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
