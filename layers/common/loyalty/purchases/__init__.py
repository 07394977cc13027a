"""Purchases and refunds: credits up the referral tree, reversed pro rata by the rules they were made under."""
