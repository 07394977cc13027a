// The earning pages' pure parts (no DOM), shared with the unit tests: multipliers typed as "2" or "1.5" (times the
// base) to basis points and back, which calendar multiplier a local date gets (as the service picks it), a month's
// grid, a member's progress to the next tier, a rehearsal's answer read by level, by day and by progress, and points
// expiry: the months typed, the local day a dated lot ends on, a member's expiring points summed for the page.

const BPS = 10000;

// A multiplier typed as times the base ("2", "1.5", "1,25", "×3") to basis points, exactly (no floats); null when
// it is not one. At most four decimals (a basis point) and at most ×10, as the API takes.
export function timesToBps(text) {
  const found = /^\s*[×xX]?\s*(\d{1,2})(?:[.,](\d{1,4}))?\s*$/.exec(text || "");
  if (!found) return null;
  const bps = Number(found[1]) * BPS + Number((found[2] || "").padEnd(4, "0") || "0");
  return bps <= 100000 ? bps : null;
}

// Basis points as times the base: 20000 → "2", 15000 → "1.5", 12500 → "1.25".
export function bpsToTimes(bps) {
  const whole = Math.trunc(bps / BPS);
  const rest = String(bps % BPS).padStart(4, "0").replace(/0+$/, "");
  return rest ? `${whole}.${rest}` : String(whole);
}

// A percentage typed as "5" or "2.5" to basis points, exactly (0 to 100 %); null when it is not one.
export function percentToBps(text) {
  const found = /^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$/.exec(text || "");
  if (!found) return null;
  const bps = Number(found[1]) * 100 + Number((found[2] || "").padEnd(2, "0") || "0");
  return bps <= BPS ? bps : null;
}

export function bpsToPercent(bps) {
  const rest = String(bps % 100).padStart(2, "0").replace(/0+$/, "");
  return rest ? `${Math.trunc(bps / 100)}.${rest}` : String(Math.trunc(bps / 100));
}

// "YYYY-MM-DD" of a year, a month (1–12) and a day, without time zones (calendar arithmetic only).
export function isoDate(year, month, day) {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

export function daysIn(year, month) {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

// The calendar multiplier of a local date ("YYYY-MM-DD"): the highest of the rules that apply (a date range, both
// ends included, or every month's day_of_month; day 31 never applies in a 30-day month), the first of equals, as the
// service picks it; null when none raises the base.
export function multiplierOn(date, multipliers) {
  const day = Number(date.slice(8, 10));
  let best = null;
  for (const m of multipliers) {
    const applies = m.day_of_month !== null && m.day_of_month !== undefined ? m.day_of_month === day
      : m.from && m.to && m.from <= date && date <= m.to;
    if (applies && (!best || m.bps > best.bps)) best = m;
  }
  return best && best.bps > BPS ? best : null;
}

// A month as weeks of seven local dates, Monday first; days of the months around it are null.
export function monthGrid(year, month) {
  const first = (new Date(Date.UTC(year, month - 1, 1)).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const cells = Array.from({ length: first }, () => null);
  for (let day = 1; day <= daysIn(year, month); day++) cells.push(isoDate(year, month, day));
  while (cells.length % 7) cells.push(null);
  const weeks = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}

export function addMonths(year, month, n) {
  const index = year * 12 + (month - 1) + n;
  return [Math.floor(index / 12), (index % 12) + 1];
}

// The programme's local date now ("YYYY-MM-DD") in its IANA time zone.
export function localToday(timeZone, now = new Date()) {
  try {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(now).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day}`;
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

// A member's progress to the next tier (the member read's `tier`): the spend counted, the next tier's threshold and
// what is still needed; null when there is no next tier (the top one, or no tiers).
export function tierProgress(tier) {
  if (!tier || !tier.next || !tier.next.tier) return null;
  const spend = Math.max(0, tier.spend_12m_minor || 0);
  const needed = Math.max(0, tier.next.spend_needed_minor || 0);
  const target = spend + needed;
  return { tier: tier.next.tier, spend, needed, target, percent: target ? Math.floor((spend * 100) / target) : 100 };
}

// --- a rehearsal's answer (POST /v1/program/simulations) -------------------------------------------------------

// A side's points by level as [level, points] pairs, whatever the list holds (numbers by position from level 0,
// or {level, points} objects).
export function levels(side) {
  const list = side?.by_level || [];
  return list.map((item, i) => (typeof item === "number" ? [i, item]
    : [item.level ?? i, item.points ?? item.points_issued ?? 0]));
}

// The result's days as [date, [current, proposed]] (the answer's top-level `by_day`, or each side's own).
export function days(r) {
  if (Array.isArray(r.by_day)) return r.by_day.map((d) => [d.date, [d.current ?? 0, d.proposed ?? 0]]);
  const merged = new Map();
  for (const d of r.current?.by_day || []) merged.set(d.date, [d.points ?? 0, 0]);
  for (const d of r.proposed?.by_day || []) merged.set(d.date, [merged.get(d.date)?.[0] || 0, d.points ?? 0]);
  return [...merged.entries()];
}

// How far a running simulation is, in whole percent (parts of the recorded purchases read), or null when unknown.
export function progressPercent(p) {
  if (!p || !p.parts) return null;
  return Math.min(100, Math.floor((p.parts_done * 100) / p.parts));
}

// --- points expiry (PUT /v1/program `expiry`; a member's `balances.points.expiring`) ----------------------------

// The months typed for the expiry rule: a whole number from 0 (points never expire) to 120, as the API takes; null
// when it is not one.
export function monthsOf(text) {
  const found = /^\s*(\d{1,3})\s*$/.exec(text ?? "");
  if (!found) return null;
  const months = Number(found[1]);
  return months <= 120 ? months : null;
}

// The local date ("YYYY-MM-DD", the programme's time zone) at whose end points dated `instant` expire. A lot's instant
// is the start of the next local day, so the day is the one just before it: what the service's `on` says.
export function expiryDay(instant, timeZone) {
  const at = new Date(instant);
  if (Number.isNaN(at.getTime())) return null;
  return localToday(timeZone, new Date(at.getTime() - 1));
}

// A member's expiring points as the member page shows them: the first `shown` days (soonest first, as the service
// lists them), what the later days add up to, the total and the last day.
export function expiringSummary(expiring, shown = 3) {
  const all = (expiring || []).filter((e) => e && e.points > 0);
  const sum = (items) => items.reduce((total, e) => total + e.points, 0);
  const later = all.slice(shown);
  return { first: all.slice(0, shown), later: sum(later), laterDays: later.length, total: sum(all),
    last: all.length ? all[all.length - 1].on : null };
}

// A local date ("YYYY-MM-DD") in words of the locale, as it is (no time zone moves it: it is a calendar date).
export function dayText(date, locale) {
  const d = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? String(date) : new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(d);
}

// An instant in words of the locale at the programme's time zone (the expiry rule's `since`).
export function instantText(instant, timeZone, locale) {
  const d = new Date(instant);
  if (Number.isNaN(d.getTime())) return String(instant);
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone }).format(d);
  } catch {
    return d.toISOString();
  }
}
