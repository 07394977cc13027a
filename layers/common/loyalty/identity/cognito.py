"""The identity feature's adapter: its only boto3 code (Cognito's user directory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class CognitoUsers:
    """Reads a user as Cognito keeps it (``AdminGetUser``: attributes and MFA settings)."""

    def __init__(self, cognito: Any) -> None:
        self._cognito = cognito

    def __call__(self, user_pool_id: str, user_name: str) -> Mapping[str, Any]:
        answer: Mapping[str, Any] = self._cognito.admin_get_user(UserPoolId=user_pool_id, Username=user_name)
        return answer
