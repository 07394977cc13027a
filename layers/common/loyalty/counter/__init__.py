"""Finding a member at the counter: look-ups by email, phone, referral code or member code; the member's card."""
