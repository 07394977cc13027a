"""Coupons: templates, single-use coupons issued by staff or automatically, their use at the till and its void."""
