// The wallet's arithmetic as the till shows it before sending (the service decides; these only preview its rules,
// docs/wallet.md): integers only, floors where the service floors.

// The bonus a top-up of `amount` earns under `tiers` ([{min_minor, bonus_bps}]): the highest tier reached; and the
// next tier up, with what topping up to it would earn, so the cashier can say "add 1,000 more for 5 %".
export function topUpBonus(tiers, amount) {
  const sorted = [...(tiers || [])].sort((a, b) => a.min_minor - b.min_minor);
  const reached = sorted.filter((tier) => amount >= tier.min_minor).pop() || null;
  const bonus = reached ? Math.floor((amount * reached.bonus_bps) / 10000) : 0;
  const up = sorted.find((tier) => tier.min_minor > amount && (!reached || tier.bonus_bps > reached.bonus_bps)) || null;
  const next = up ? { min_minor: up.min_minor, bonus_bps: up.bonus_bps, more_minor: up.min_minor - amount,
    bonus_minor: Math.floor((up.min_minor * up.bonus_bps) / 10000) } : null;
  return { bonus_minor: bonus, bonus_bps: reached ? reached.bonus_bps : 0, next };
}

// Whether a top-up fits under the cap on principal the member may hold.
export function roomUnderCap(principal, cap) {
  return Math.max(0, cap - principal);
}

// How a payment of `paid` from stored value splits: bonus in proportion, floor(paid × bonus / (principal + bonus)),
// the rest from principal. Null when the balance cannot pay it.
export function storedValueSplit(paid, principal, bonus) {
  if (paid <= 0 || paid > principal + bonus) return null;
  const fromBonus = Math.floor((paid * bonus) / (principal + bonus));
  return { principal_minor: paid - fromBonus, bonus_minor: fromBonus };
}

// A coupon template's discount on a subtotal: a fixed amount, or a share capped by max_off; never more than the
// subtotal; null below the minimum spend.
export function couponDiscount(template, subtotal) {
  if (subtotal < (template.min_spend_minor || 0)) return null;
  let off = template.amount_off_minor ?? Math.floor((subtotal * (template.percent_off_bps || 0)) / 10000);
  if (template.max_off_minor !== null && template.max_off_minor !== undefined) off = Math.min(off, template.max_off_minor);
  return Math.min(off, subtotal);
}

// What refunding a bundle card's unused uses gives back: floor(price × remaining / uses).
export function bundleRefund(price, uses, remaining) {
  return Math.floor((price * remaining) / uses);
}
