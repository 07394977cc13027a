"""The pydantic types every feature's HTTP models share (contract v1, ``../shared/API.md``).

Integers are strict (a float, a numeric string or a boolean is refused, never rounded); unknown fields
are refused, so a misspelt field cannot be silently ignored in a money-like request. Names are one line of
printable text: control characters (NUL, CR, LF …), bidirectional overrides and line separators are
refused, so a name can neither break a header or a log line nor display as something it is not.
"""

from __future__ import annotations

from typing import Annotated, Any, Self, cast

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from loyalty.http import examples
from loyalty.http.auth import MEMBER_ID_PATTERN

# C0 and C1 controls, line and paragraph separators, bidirectional embeddings, overrides and isolates.
_UNPRINTABLE = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069"
# Prose may also break lines and tab.
_UNPRINTABLE_IN_PROSE = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069"

ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$"),
                     Field(description="A client-supplied id: 1–64 of [A-Za-z0-9._:-]")]
MemberId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=MEMBER_ID_PATTERN),
                     Field(description="The member's id: their Cognito sub", examples=[examples.MEMBER_ID])]
MemberIdInPath = Annotated[MemberId, Path(openapi_examples=examples.shown(examples.MEMBER_ID,
                                                                          "Li Wei, the example member"))]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"),
                     Field(description="ISO 4217 code", examples=["CNY"])]
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
                  Field(examples=["li.wei@example.com"])]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"),
                   Field(description="BCP 47 language tag", examples=["zh-CN"])]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=f"^[^{_UNPRINTABLE}]+$")]
Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=f"^[^{_UNPRINTABLE_IN_PROSE}]+$")]
TimeZone = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"),
                     Field(description="IANA time zone", examples=["Asia/Shanghai"])]
Timestamp = Annotated[str, Field(description="RFC 3339, UTC", examples=["2026-11-23T09:30:00Z"],
                                 json_schema_extra={"format": "date-time"})]
MAX_MINOR = 10**12  # ten billion in a two-decimal currency: far above any real order
MAX_POINTS = 10**12


class Body(BaseModel):
    """A JSON body, built from a use case's result with ``of``.

    Its validator is built when first used, not at import (``defer_build``): a cold start builds only the models
    of the route it serves."""

    model_config = ConfigDict(defer_build=True)

    @classmethod
    def of(cls, result: Any) -> Self:
        """The body for a use case's result; by default its attributes (or keys) of the same names."""
        return cls.model_validate(result)


class Request(Body):
    """A request body: unknown fields are refused. (Settings the client writes and reads back whole are the
    same model both ways.)"""

    model_config = ConfigDict(extra="forbid")


class Answer(Body):
    """A response body."""

    model_config = ConfigDict(from_attributes=True)


class ValidationErrorItem(BaseModel):
    model_config = ConfigDict(defer_build=True)

    loc: list[str | int] = Field(description='Where: ["body", "amount_minor"], ["query", "limit"] …')
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details; ``type`` ends in the problem's slug."""

    model_config = ConfigDict(defer_build=True)

    type: str = Field(examples=["https://loyalty-ledger.example/problems/validation-error"])
    title: str
    status: int
    detail: str
    errors: list[ValidationErrorItem] | None = None


def _a_date(schema: dict[str, Any]) -> None:
    """``format: date`` on the parameter's string (not beside the ``anyOf`` with null), so that clients and the
    fuzz suite's generator see a date."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            branch["format"] = "date"


DATE = cast(dict[str, Any], _a_date)  # pydantic takes a function here; the annotation only names the mapping
# A period of local days (the dashboard's, a partner's report), checked by metrics.domain.period_of, which names
# the parameter in its 422.
PeriodFrom = Annotated[str | None, Query(alias="from", max_length=10, json_schema_extra=DATE, description=(
    "The period's first local date, YYYY-MM-DD (default: 29 days before to)"),
    openapi_examples=examples.shown(examples.METRICS_FROM, "November 2026"))]
PeriodTo = Annotated[str | None, Query(alias="to", max_length=10, json_schema_extra=DATE, description=(
    "The period's last local date, YYYY-MM-DD (default: today); at most 366 days after from"),
    openapi_examples=examples.shown(examples.METRICS_TO, "November 2026"))]


# Screening's signals, which sign-up and purchases accept (docs/screening.md).
_SIGNAL = StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
DeviceId = Annotated[str, _SIGNAL, Field(
    description="The app's id of the device (screening: only a keyed hash is kept)", examples=[examples.DEVICE_ID])]
PaymentFingerprint = Annotated[str, _SIGNAL, Field(
    description="The payment provider's fingerprint of the card or account paid with (screening: only a keyed "
                "hash is kept)", examples=["fp_1NxQ2Y"])]
