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
