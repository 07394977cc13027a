// The wallet's arithmetic a page shows before the service is asked (docs/wallet.md): integers only, floors where the
// service floors. A top-up's bonus is the service's own quote (GET /v1/top-ups/quote), not computed here.

// What refunding a bundle card's unused uses gives back: floor(price × remaining / uses), shown before the cashier
// confirms (the refund's answer says what was refunded).
export function bundleRefund(price, uses, remaining) {
  return Math.floor((price * remaining) / uses);
}
