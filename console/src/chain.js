// The hash chain checked in the browser from API output alone (docs/ledger.md, "The hash"): every entry's
// SHA-256 over its canonical JSON (keys sorted, no whitespace, non-ASCII unescaped, without `hash`), every
// prev_hash the hash before it, seq 1, 2, 3 … with no gap.
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Every entry of a holder's ledger, oldest first (the API pages it newest first, 100 a request).
export async function wholeLedger(api, path, max = 5000) {
  const all = [];
  let cursor = null;
  do {
    const page = await api("GET", `${path}/ledger?${new URLSearchParams(cursor ? { limit: 100, cursor } : { limit: 100 })}`);
    all.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && all.length < max);
  return { entries: all.reverse(), complete: !cursor };
}

// The browser's check against the service's report: the service read the chain first, so entries written since
// (a credit posted a moment later) may follow its head; what it vouched for is the entry at its `entries`.
export function agrees(result, entries, server) {
  const at = entries[server.entries - 1];
  return server.chain_valid && server.balances_match && (server.entries === 0 || (at && at.hash === server.head_hash));
}

// entries oldest first → {ok, entries, head, firstBad, reason}
export async function checkChain(entries) {
  let previous = "0".repeat(64);
  for (const [index, entry] of entries.entries()) {
    const seq = index + 1;
    const { hash, ...content } = entry;
    if (entry.seq !== seq) return { ok: false, entries: entries.length, firstBad: seq, reason: "gap" };
    if (entry.prev_hash !== previous) return { ok: false, entries: entries.length, firstBad: seq, reason: "link" };
    if ((await sha256(canonical(content))) !== hash) return { ok: false, entries: entries.length, firstBad: seq, reason: "hash" };
    previous = hash;
  }
  return { ok: true, entries: entries.length, head: previous, firstBad: null };
}
