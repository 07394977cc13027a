// Pure helpers of the partners' pages: a commission rate typed as a percentage, what was paid out, the report's
// series for its chart, the CSV's file name.

// "5" → 500, "12.5" → 1250, "7,25" → 725 basis points; at most two decimals and at most 100 %; else null. Read by a
// pattern, not parseFloat (12.3 % is 1230 bps exactly).
export function toBps(text) {
  const found = /^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$/.exec(text || "");
  if (!found) return null;
  const bps = Number(found[1]) * 100 + Number((found[2] || "").padEnd(2, "0") || "0");
  return bps <= 10000 ? bps : null;
}

// Paid out so far: what was earned (net of refunds) less what is still held or payable. Payouts are the only
// entries that take from available without taking from what was earned.
export function paidOut(balance) {
  return Math.max(0, (balance.lifetime_earned || 0) - (balance.available || 0) - (balance.pending || 0));
}

// Commission a report row counts (net of refunds): what is on hold and what is past it.
export function rowCommission(row) {
  return (row.commission_pending_minor || 0) + (row.commission_available_minor || 0);
}

// The report's rows by day as the chart's series: clicks, sign-ups and commission (in minor units).
export function reportSeries(rows) {
  return {
    labels: rows.map((r) => r.key),
    clicks: rows.map((r) => r.clicks),
    signUps: rows.map((r) => r.sign_ups),
    commission: rows.map(rowCommission),
  };
}

// The file name a Content-Disposition header gives (`attachment; filename="a.csv"`), else the fallback.
export function fileName(disposition, fallback) {
  const found = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition || "");
  if (!found) return fallback;
  try {
    return decodeURIComponent(found[1]).replace(/[/\\]/g, "_");
  } catch {
    return found[1].replace(/[/\\]/g, "_");
  }
}
