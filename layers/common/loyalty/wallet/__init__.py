"""Stored value (储值卡): top-ups with bonus tiers, paying with it, refunds giving it back, withdrawals
(docs/wallet.md)."""
