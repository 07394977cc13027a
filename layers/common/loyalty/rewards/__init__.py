"""The rewards catalogue: rewards priced in points, with optional stock, redeemed through ``POST /v1/redemptions``."""
