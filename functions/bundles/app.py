"""Bundle cards (套餐卡): an admin puts products on sale; the till sells cards, uses them and refunds what is left
(docs/wallet.md)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from loyalty.bundles.http import (
    BundleCard,
    BundleProduct,
    BundleProductList,
    BundleRefund,
    BundleSale,
    BundleTerms,
    BundleUse,
    CardIdInPath,
    NewBundleRefund,
    NewBundleSale,
    NewBundleUse,
    ProductIdInPath,
)
from loyalty.http.api import Router, answer, create_app, lambda_entry, written
from loyalty.http.auth import ADMIN_ONLY, ANY_CALLER, STAFF_ONLY
from loyalty.wiring import bundles

router = Router(tags=["Bundle cards"])


@router.operation("PUT", "/v1/bundles/<product_id>", operation_id="putBundle", summary="Put a bundle product (admin)",
                  access=ADMIN_ONLY, model=BundleProduct, body=True,
                  description="A new product or its new terms; cards sold already keep the terms they were sold "
                              "with.")
def put_bundle(product_id: ProductIdInPath, body: BundleTerms) -> Response[BundleProduct]:
    return answer(BundleProduct, bundles().save_product(product_id=product_id, **body.model_dump()))


@router.operation("GET", "/v1/bundles", operation_id="listBundles", summary="The bundle products on sale",
                  access=ANY_CALLER, model=BundleProductList)
def list_bundles() -> Response[BundleProductList]:
    return answer(BundleProductList, bundles().products())


@router.operation("POST", "/v1/bundle-sales", operation_id="sellBundle", summary="Sell a bundle card (staff)",
                  access=STAFF_ONLY, ok=201, model=BundleSale, replays=True, body=True, refusals=(404, 409),
                  description="A purchase of the product's price with `order_id` = `sale_id` (points, referral "
                              "credits, commission, reminders), and the card's uses on the buyer's chain "
                              "(`bundle:<card_id>`), in one write. Exactly once by `sale_id`; a `sale_id` an "
                              "ordinary purchase took → `409 idempotency-mismatch`. Unknown member or product → "
                              "`404`.")
def sell_bundle(body: NewBundleSale) -> Response[BundleSale]:
    outcome = bundles().sell(sale_id=body.sale_id, member_id=body.member_id, product_id=body.product_id,
                             requested_by=router.caller().sub)
    return written(BundleSale, outcome, "BundlesSold")


@router.operation("GET", "/v1/bundle-cards/<card_id>", operation_id="readBundleCard", summary="A bundle card (staff)",
                  access=STAFF_ONLY, model=BundleCard, refusals=(404, 422))
def read_bundle_card(card_id: CardIdInPath) -> Response[BundleCard]:
    return answer(BundleCard, bundles().card(card_id))


@router.operation("POST", "/v1/bundle-cards/<card_id>/uses", operation_id="useBundle", summary="Use a bundle card "
                  "once (staff)", access=STAFF_ONLY, ok=201, model=BundleUse, replays=True, body=True,
                  refusals=(404, 409),
                  description="One use, exactly once by `use_id` on this card, whatever races: `409 bundle-used-up` "
                              "when none is left, `409 bundle-expired` from `expires_at` on.")
def use_bundle(card_id: CardIdInPath, body: NewBundleUse) -> Response[BundleUse]:
    outcome = bundles().use(card_id=card_id, use_id=body.use_id, requested_by=router.caller().sub)
    return written(BundleUse, outcome, "BundleUses")


@router.operation("POST", "/v1/bundle-cards/<card_id>/refunds", operation_id="refundBundle",
                  summary="Refund a bundle card's unused uses (staff)", access=STAFF_ONLY, ok=201, model=BundleRefund,
                  replays=True, body=True, refusals=(404, 409),
                  description="The unused uses (an expired card's too), `amount_minor = floor(price × remaining / "
                              "uses)`, refunded as a refund of the sale's purchase (its points, referral credits and "
                              "commission reversed pro rata), in one write. Nothing left → `409 bundle-used-up`.")
def refund_bundle(card_id: CardIdInPath, body: NewBundleRefund) -> Response[BundleRefund]:
    outcome = bundles().refund(card_id=card_id, refund_id=body.refund_id, requested_by=router.caller().sub)
    return written(BundleRefund, outcome, "BundlesRefunded")


app = create_app(router)
handler = lambda_entry(app)
