"""Points for actions (a review, a share, a daily check-in, a converted lead …) under per-day, per-month and
lifetime caps (docs/earning-actions.md)."""
