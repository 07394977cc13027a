"""Screening: whether a referral or partner credit looks like fraud (self-referral, shared devices or cards,
bursts, rings), scored from signals kept as keyed hashes; a credit over the threshold is held for review."""
