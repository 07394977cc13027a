"""Bundle cards' HTTP models (docs/wallet.md)."""

from __future__ import annotations

from typing import Annotated, Any, Self

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from loyalty.http import examples
from loyalty.http.types import MAX_MINOR, Answer, ClientId, MemberId, Name, Request, Timestamp

ProductIdInPath = Annotated[ClientId, Path(openapi_examples=examples.shown(examples.BUNDLE_PRODUCT_ID,
                                                                           "The example product: 6 car washes"))]
CardIdInPath = Annotated[str, StringConstraints(pattern=r"^bc_[0-9a-f]{20}$"), Path(
    description="A card's id, as its sale answered it",
    openapi_examples=examples.shown(examples.BUNDLE_CARD_ID, "Li Wei's card of 6 car washes"))]


class BundleTerms(Request):
    """A product's terms. Cards sold already keep the terms they were sold with."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "6 car washes", "uses": 6, "price_minor": 28800, "valid_days": 365}]})

    name: Annotated[Name, StringConstraints(max_length=200), Field(examples=["6 car washes"])]
    uses: Annotated[StrictInt, Field(ge=1, le=1000, description="Uses a card of it holds", examples=[6])]
    price_minor: Annotated[StrictInt, Field(gt=0, le=MAX_MINOR, description="What a card costs (minor units): a "
                                                                            "purchase of this amount",
                                            examples=[28800])]
    valid_days: Annotated[StrictInt, Field(ge=1, le=3650, description="A card takes uses until this many days "
                                                                      "(x 24 hours) after its sale",
                                           examples=[365])]


class BundleProduct(Answer):
    product_id: str
    name: str
    uses: int
    price_minor: int
    valid_days: int
    updated_at: Timestamp


class BundleProductList(Answer):
    items: list[BundleProduct] = Field(description="Every product, by product_id")

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls(items=[BundleProduct.of(p) for p in sorted(result, key=lambda p: p.product_id)])


class NewBundleSale(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"sale_id": examples.BUNDLE_SALE_ID, "member_id": examples.MEMBER_ID,
         "product_id": examples.BUNDLE_PRODUCT_ID}]})

    sale_id: ClientId = Field(description="The till's id of the sale: also the order_id of the purchase it is")
    member_id: MemberId
    product_id: ClientId


class BundleSale(Answer):
    card_id: str
    product_id: str
    remaining: int = Field(description="Uses on the card")
    expires_at: Timestamp = Field(description="From this instant on the card takes no use")
    price_minor: int


class NewBundleUse(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"use_id": examples.BUNDLE_USE_ID}]})

    use_id: ClientId = Field(description="The till's id of this use (once per card)")


class BundleUse(Answer):
    card_id: str
    remaining: int = Field(description="Uses left after this one")


class NewBundleRefund(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"refund_id": examples.BUNDLE_REFUND_ID}]})

    refund_id: ClientId


class BundleRefund(Answer):
    refund_id: str
    uses_refunded: int = Field(description="The unused uses taken back")
    amount_minor: int = Field(description="floor(price × uses_refunded / uses): refunded as a refund of the sale's "
                                          "purchase (its points and referral credits reversed pro rata)")


class BundleCard(Answer):
    """A card as the till sees it."""

    card_id: str
    product_id: str
    name: str
    member_id: str
    sale_id: str
    uses: int
    remaining: int
    price_minor: int
    sold_at: Timestamp
    expires_at: Timestamp

    @classmethod
    def of(cls, result: Any) -> Self:
        card = result.card
        return cls(card_id=card.card_id, product_id=card.product_id, name=card.name, member_id=card.member_id,
                   sale_id=card.sale_id, uses=card.uses, remaining=result.remaining, price_minor=card.price_minor,
                   sold_at=card.sold_at, expires_at=card.expires_at)

