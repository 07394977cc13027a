"""Partners and referral links: partners, links with checked codes and QR codes, the landing page and its clicks,
and what partners earn (commission, payouts, reports)."""
