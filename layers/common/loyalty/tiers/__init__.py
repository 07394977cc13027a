"""Tiers and statuses (会员卡): the member's standing and the rules' settings (docs/earning-tiers.md)."""
