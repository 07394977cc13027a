"""Partners and referral links: partners, their links and landing page, and what they earn (commission)."""
