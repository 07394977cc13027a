"""Adjustments: an admin corrects a member's points with a reason, as a new entry."""
