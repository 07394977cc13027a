// A revealed surprise day checked in this browser (API-additions, "Earning beyond purchases"): the secret's SHA-256
// is the commitment published before the day, and every draw is recomputed: h = HMAC-SHA256(key = the secret's
// bytes, message = the order id); a hit when int(h[0:4], big-endian) mod 10000 < chance_bps, worth min_points +
// int(h[4:8], big-endian) mod (max_points − min_points + 1).

function hexBytes(hex) {
  const clean = String(hex || "").trim();
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new Error("not hex");
  return Uint8Array.from(clean.match(/../g) || [], (b) => parseInt(b, 16));
}

function toHex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function word(bytes, at) {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
}

// One draw: {hit, points} for an order under a day's secret and the rules it was drawn with.
export async function draw(secretHex, orderId, { chance_bps: chance, min_points: min, max_points: max }) {
  const key = await crypto.subtle.importKey("raw", hexBytes(secretHex), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const h = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(orderId)));
  const hit = word(h, 0) % 10000 < chance;
  return { hit, points: hit ? min + (word(h, 4) % (max - min + 1)) : 0 };
}

export async function sha256Hex(secretHex) {
  return toHex(await crypto.subtle.digest("SHA-256", hexBytes(secretHex)));
}

// A revealed day as the API answers it: how many of its draws this browser recomputes the same (hit and points),
// and whether the secret matches its commitment (undefined when the answer carries none). The rules a draw used are
// the draw's own (each draw carries chance_bps, min_points and max_points) or the day's.
export async function verifyDay(day) {
  const draws = day.draws || [];
  let ok = 0;
  for (const d of draws) {
    const rule = d.chance_bps !== undefined ? d : d.rule || day.surprise || day;
    const mine = await draw(day.secret, d.order_id, rule);
    if (mine.hit === Boolean(d.hit) && (!mine.hit || mine.points === d.points)) ok++;
  }
  const { commitment } = day;
  return { ok, n: draws.length, commitment: commitment ? (await sha256Hex(day.secret)) === commitment : undefined };
}
