"""The identity pieces AWS would run, as the template declares them (docs/security-identity.md).

Members sign themselves up; staff and admin people need MFA (a TOTP app), enforced by a pre-token trigger
that withholds their groups until it is set up; the point-of-sale server has a machine identity (client
credentials for the scope ``loyalty/pos``); the HTTP API accepts tokens of both app clients.
"""

from __future__ import annotations

from typing import Any

import pytest

from localdev import template
from loyalty.identity.domain import POS_SCOPE


@pytest.fixture(scope="module")
def res() -> dict[str, Any]:
    loaded: dict[str, Any] = template.load()["Resources"]
    return loaded


def _ref(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return ".".join(value["Fn::GetAtt"])
    return str(value)


def test_members_sign_themselves_up_and_mfa_is_a_totp_app_for_who_needs_it(res: dict[str, Any]) -> None:
    pool = res["UserPool"]["Properties"]
    assert pool["MfaConfiguration"] == "OPTIONAL"  # "ON" would ask every member for an authenticator app
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]  # one issuer: no SMS codes
    assert pool.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly", False) is False


def test_the_pretoken_trigger_is_wired_and_may_be_called_by_cognito(res: dict[str, Any]) -> None:
    config = res["UserPool"]["Properties"]["LambdaConfig"]
    # V1_0 rewrites ID tokens (the Lite plan has no V2_0); the service honours staff and admin only there.
    assert config["PreTokenGenerationConfig"] == {"LambdaArn": {"Fn::GetAtt": ["PretokenFunction", "Arn"]},
                                                  "LambdaVersion": "V1_0"}
    assert "PreTokenGeneration" not in config  # one way to say it: two would have to agree
    permission = next(r["Properties"] for r in res.values() if r["Type"] == "AWS::Lambda::Permission"
                      and _ref(r["Properties"]["FunctionName"]) == "PretokenFunction.Arn")
    assert permission["Principal"] == "cognito-idp.amazonaws.com"
    assert _ref(permission["SourceArn"]) == "UserPool.Arn" and permission["Action"] == "lambda:InvokeFunction"
    function = res["PretokenFunction"]["Properties"]
    [statement] = function["Policies"][0]["Statement"]
    assert statement["Action"] == ["cognito-idp:AdminGetUser"]
    # Not the pool itself (the pool names the function: a cycle), but no wider than a pool of this account/region.
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*"}
    assert function["Timeout"] <= 5  # Cognito gives a trigger 5 seconds
    assert template.source_dir("PretokenFunction") == "pretoken"


def test_the_till_has_a_machine_identity_with_one_scope(res: dict[str, Any]) -> None:
    server = res["LoyaltyResourceServer"]["Properties"]
    assert (server["Identifier"], [s["ScopeName"] for s in server["Scopes"]]) == ("loyalty", ["pos"])
    assert f"{server['Identifier']}/{server['Scopes'][0]['ScopeName']}" == POS_SCOPE  # what auth.py checks
    till = res["TillClient"]["Properties"]
    assert till["GenerateSecret"] is True
    assert till["AllowedOAuthFlows"] == ["client_credentials"] and till["AllowedOAuthFlowsUserPoolClient"] is True
    assert till["AllowedOAuthScopes"] == [POS_SCOPE]
    assert till["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]  # no password sign-in through it
    assert "LoyaltyResourceServer" in [res["TillClient"].get("DependsOn")]  # the scope exists first
    assert _ref(res["UserPoolDomain"]["Properties"]["UserPoolId"]) == "UserPool"  # the token endpoint


def test_people_keep_signing_in_with_srp_and_no_client_but_the_till_has_a_scope(res: dict[str, Any]) -> None:
    app = res["AppClient"]["Properties"]
    assert app["GenerateSecret"] is False and "ALLOW_USER_SRP_AUTH" in app["ExplicitAuthFlows"]
    assert "ALLOW_USER_PASSWORD_AUTH" not in app["ExplicitAuthFlows"]
    assert not app.get("AllowedOAuthScopes")  # a person's token can never carry loyalty/pos
    scoped = {name for name, r in res.items() if r["Type"] == "AWS::Cognito::UserPoolClient"
              and POS_SCOPE in r["Properties"].get("AllowedOAuthScopes", [])}
    assert scoped == {"TillClient"}


def test_the_console_signs_people_in_through_the_hosted_ui_with_code_and_pkce_only(res: dict[str, Any]) -> None:
    console = res["ConsoleClient"]["Properties"]
    assert console["GenerateSecret"] is False  # a browser keeps no secret: PKCE instead
    assert console["AllowedOAuthFlows"] == ["code"] and console["AllowedOAuthFlowsUserPoolClient"] is True
    assert console["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert console["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]  # no password sign-in except the hosted UI
    assert console["CallbackURLs"] == [{"Fn::Sub": "https://${ConsoleDistribution.DomainName}/"}]
    assets = res["ConsoleAssets"]["Properties"]
    assert assets["RedirectUri"] == console["CallbackURLs"][0]  # what the console sends as redirect_uri
    assert _ref(assets["ClientId"]) == "ConsoleClient"


def test_the_api_accepts_tokens_of_the_pools_clients(res: dict[str, Any]) -> None:
    """The app's and the console's ID tokens, the till's client-credentials tokens."""
    jwt = res["HttpApi"]["Properties"]["Auth"]["Authorizers"]["CognitoJwt"]["JwtConfiguration"]
    assert sorted(_ref(a) for a in jwt["audience"]) == ["AppClient", "ConsoleClient", "TillClient"]
    assert "${UserPool}" in jwt["issuer"]["Fn::Sub"]
