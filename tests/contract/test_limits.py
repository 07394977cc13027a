"""Limits on abuse and loss, as the template declares them: what a flood of anonymous requests may use, where a
failed SES event goes, what traces may carry, and what outlives the stack."""

from __future__ import annotations

from typing import Any

import pytest

from localdev import template
from tests.contract.test_deployable import _expanded

# Routes anyone may call without a token (API Gateway route keys), and the functions that answer them.
PUBLIC_ROUTES = {"GET /u/{token}", "POST /u/{token}", "GET /docs", "GET /docs/{asset}", "GET /openapi.json",
                 "$default", "GET /r/{code}", "GET /r/{code}/qr.svg", "GET /r/{code}/qr.png",
                 "GET /v1/program/surprise/commitments", "GET /v1/program/surprise/days/{day}"}
# What a stack replacement or deletion must not take with it: the members' identities, the key every sent
# unsubscribe link is signed with, the key of every link code printed or shared, and every table of record.
RETAINED = {"UserPool", "UnsubscribeSecret", "LinkSecret", "MembersTable", "AccountsTable", "LedgerTable",
            "OperationsTable", "ProgramTable", "OutreachTable", "AnchorBucket", "CreditQueueTable", "MetricsTable",
            "PartnersTable", "ScreeningTable", "WalletTable", "EarningTable", "SurpriseSecret", "FeedbackTable",
            "SegmentsTable",
            "LeadsTable"}


@pytest.fixture(scope="module")
def expanded() -> dict[str, Any]:
    return _expanded()


def _resources() -> dict[str, Any]:
    return dict(template.load()["Resources"])


def test_every_anonymous_route_has_its_own_lower_throttle(expanded: dict[str, Any]) -> None:
    anonymous = {route.route_key for spec in template.functions() for route in spec.routes if not route.authorized}
    assert anonymous == PUBLIC_ROUTES
    stages = [r for r in expanded["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    assert len(stages) == 1
    settings = stages[0]["Properties"]["RouteSettings"]
    assert set(settings) == PUBLIC_ROUTES
    for key in PUBLIC_ROUTES:
        assert settings[key] == {"ThrottlingBurstLimit": {"Ref": "PublicBurstLimit"},
                                 "ThrottlingRateLimit": {"Ref": "PublicRateLimit"}}, key
    parameters = template.load()["Parameters"]
    default = stages[0]["Properties"]["DefaultRouteSettings"]
    assert default == {"ThrottlingBurstLimit": {"Ref": "StageBurstLimit"},
                       "ThrottlingRateLimit": {"Ref": "StageRateLimit"}}
    assert parameters["PublicBurstLimit"]["Default"] < parameters["StageBurstLimit"]["Default"]
    assert parameters["PublicRateLimit"]["Default"] < parameters["StageRateLimit"]["Default"]


def test_functions_answering_anonymous_routes_reserve_concurrency_only_when_asked() -> None:
    parameters, conditions = template.load()["Parameters"], template.load()["Conditions"]
    assert parameters["PublicConcurrency"]["Default"] == 0  # new accounts have 10: nothing to reserve from
    assert conditions["HasPublicConcurrency"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "PublicConcurrency"}, 0]}]}
    public = {spec.logical_id for spec in template.functions() for route in spec.routes if not route.authorized}
    assert public == {"DocsFunction", "PreferencesFunction", "LandingFunction", "SurprisesFunction"}
    for name in public:
        assert _resources()[name]["Properties"]["ReservedConcurrentExecutions"] == {
            "Fn::If": ["HasPublicConcurrency", {"Ref": "PublicConcurrency"}, {"Ref": "AWS::NoValue"}]}, name


def test_docs_can_be_switched_off_and_an_edge_with_waf_is_optional() -> None:
    resources, parameters = _resources(), template.load()["Parameters"]
    assert parameters["ServeDocs"]["Default"] == "true"
    assert resources["DocsFunction"]["Properties"]["Environment"]["Variables"]["SERVE_DOCS"] == {"Ref": "ServeDocs"}
    edge = resources["EdgeDistribution"]
    assert edge["Condition"] == "HasWebAcl" and parameters["WebAclArn"]["Default"] == ""
    assert edge["Properties"]["DistributionConfig"]["WebACLId"] == {"Ref": "WebAclArn"}


def test_ses_events_that_fail_are_kept_not_lost(expanded: dict[str, Any]) -> None:
    function = _resources()["SesEventsFunction"]["Properties"]
    failure = function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["SesEventsDeadLetters", "Arn"]}}
    rule = function["Events"]["BouncesAndComplaints"]["Properties"]
    assert rule["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["SesEventsDeadLetters", "Arn"]}}
    configs = [r for r in expanded["Resources"].values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert [c["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] for c in configs] == [
        {"Fn::GetAtt": ["SesEventsDeadLetters", "Arn"]}]
    assert configs[0]["Properties"]["MaximumRetryAttempts"] == 2
    queue = _resources()["SesEventsDeadLetters"]["Properties"]
    assert queue["MessageRetentionPeriod"] == 1209600  # 14 days to look at them


def test_cognito_sends_its_emails_through_our_ses_identity_once_it_is_verified() -> None:
    """Through SES when CognitoEmailViaSes is "true"; Cognito's own mail before (it refuses an unverified
    identity, so a first deploy, before the DKIM records are in, must not ask for it)."""
    resources = _resources()
    condition, via_ses, default = resources["UserPool"]["Properties"]["EmailConfiguration"]["Fn::If"]
    assert condition == "CognitoViaSes"
    assert (via_ses["EmailSendingAccount"], via_ses["From"]) == ("DEVELOPER", {"Ref": "SenderAddress"})
    assert "${SenderIdentity}" in via_ses["SourceArn"]["Fn::Sub"]
    assert default == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert template.load()["Parameters"]["CognitoEmailViaSes"]["Default"] == "false"


def test_traces_carry_no_answers_and_no_error_messages() -> None:
    environment = template.global_environment()
    assert environment["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert environment["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
    for name, res in template.resources("AWS::Serverless::Function").items():
        variables = res["Properties"].get("Environment", {}).get("Variables", {})
        assert not {k for k in variables if k.startswith("POWERTOOLS_TRACER_")}, name


def test_identities_keys_and_records_survive_a_replacement_or_deletion() -> None:
    resources = _resources()
    kept = {name for name, res in resources.items()
            if res.get("DeletionPolicy") == "Retain" and res.get("UpdateReplacePolicy") == "Retain"}
    assert kept == RETAINED
    tables = set(template.resources("AWS::DynamoDB::Table"))
    assert tables <= kept
