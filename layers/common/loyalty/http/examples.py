"""The documented examples: one story, so every example the OpenAPI document shows can be sent in order to a
fresh server and succeed (``tests/e2e/test_documented_examples.py`` does).

Li Wei (the example member, a Cognito sub) signs up; the till records her purchase ``POS-2026-000123`` and
refunds part of it (``R-2026-000045``); an admin adds goodwill points (``A-2026-000007``) that she redeems
for a car wash; an admin starts the campaign ``spring-tyres-2027`` and previews her check-in email, whose
one-click unsubscribe link she then follows. Every model and route takes its example ids from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import Example

MEMBER_ID = "4f2c1e8a-9b3d-4c7e-a1f0-6d5b2e9c8a41"
MEMBER_EMAIL = "li.wei@example.com"
MEMBER_PHONE = "+8613800138000"
# The summary of a query parameter's example that is an alternative to another's (a look-up takes one of them):
# the story sends the first and leaves these out.
ALTERNATIVE = "Or by"
ORDER_ID = "POS-2026-000123"
REFUND_ID = "R-2026-000045"
ADJUSTMENT_ID = "A-2026-000007"
CAMPAIGN_ID = "spring-tyres-2027"
METRICS_FROM, METRICS_TO = "2026-11-01", "2026-11-30"  # a month of the dashboard
IDEMPOTENCY_KEY = "9b1d7e52-3c4a-4f6e-8a2b-5d0c1e7f9a36"
PROGRAM_VERSION = 1  # the first version: every install has it
LEDGER_PAGE_SIZE = 20
# An unsubscribe token as the service signs them (an unsubscribe id and opt-in generation, a dot, an HMAC),
# under a secret no server holds, so it is refused (404). A real one is in an email's List-Unsubscribe header,
# or a preview's (POST /v1/outreach/preview of a marketing email).
# A partner (an influencer the shop pays a commission), the link it shares in a post, and a link code as the
# service issues them but under a key no server holds (so it answers 404; a real one is in createLink's answer).
PARTNER_ID = "p-wang-tyres-vlog"
DEVICE_ID = "ios-7F3A9C21"  # the example member's phone (screening keeps only its keyed hash)
REVIEW_ID = "rv_5d41402abc4b2a76b9719d91"  # a review's id is drawn from its purchase and holder: this one is no one's
LINK_ID = "spring-post-42"
PAYOUT_ID = "payout-2026-11"
SIMULATION_ID = "sim-2026-11-rates"  # an admin rehearses higher referral rates (docs/earning-simulations.md)
LINK_CODE = "K7Q2M9XDHT4F7HR"
# Bundle cards (docs/wallet.md): the product an admin puts on sale, Li Wei's card of it (its id is derived from the
# sale: bundles.domain.card_id_of), one use at the till and the refund of what is left.
BUNDLE_PRODUCT_ID = "WASH-6"
BUNDLE_SALE_ID = "BS-2026-000031"
BUNDLE_CARD_ID = "bc_b11b1ba8280e79a68979"
BUNDLE_USE_ID = "U-2026-000101"
BUNDLE_REFUND_ID = "BR-2026-000002"
UNSUBSCRIBE_TOKEN = "q8Zr2VnK0cTfW5xYb3LmQgHs4Dp9Aa.q3Vd1mE8xK2pR7tLw0sN4aYh"


def shown(value: Any, summary: str, description: str | None = None) -> dict[str, Example]:
    """A parameter's documented example (``openapi_examples``), under one name for every parameter.

    A plain mapping of Example's fields, not an ``Example``: that module builds the whole OpenAPI object model
    at import (about 100 ms of every function's cold start), and only the document generator reads examples.
    """
    example = {"summary": summary, "value": value, **({"description": description} if description else {})}
    return cast("dict[str, Example]", {"example": example})
# The wallet's coupons and rewards (docs/wallet.md)
COUPON_TEMPLATE_ID = "welcome-20"
COUPON_CODE = "7KQ2M9XDHT4F7"  # a code's shape (13 of the unambiguous alphabet): this one is no one's
COUPON_ISSUE_ID = "issue-2026-000311"
COUPON_REDEMPTION_ID = "POS-2026-000123-c1"
REWARD_ID = "free-car-wash"
# Feedback (docs/feedback.md): Li Wei's complaint about the example order, and staff's reply to it.
FEEDBACK_ID = "fb-2026-11-23-0001"
FEEDBACK_REPLY_ID = "re-2026-11-23-0001"
# Leads (docs/leads.md): Li Wei's form naming two friends who agreed to hear from the shop; its first lead.
LEAD_FORM_ID = "lf-2026-11-23-0001"
LEAD_ID = "lf-2026-11-23-0001.1"
