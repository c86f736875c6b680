"""STS `AssumeRole` that refuses as AWS does when the role cannot be assumed.

moto hands out credentials for any role ARN, existing or not ("the role does not need to exist", its
`assume_role` docstring); its credentials then act in the role's account, which is what the hub's tests
need. AWS answers `AccessDenied` (HTTP 403, "User: <caller> is not authorized to perform: sts:AssumeRole on
resource: <role>"; the same whether the role is missing or does not trust the caller: IAM user guide,
troubleshooting; re:Post knowledge center "iam-assume-role-error") unless the role exists and its trust
policy allows the caller. The sandbox checks both:

- the role must exist in the IAM of the account its ARN names;
- an `Allow` statement of its trust policy must grant `sts:AssumeRole` to `*`, to the caller's account
  (`123456789012` or `arn:aws:iam::123456789012:root`) or to an ARN in the caller's account. The sandbox
  knows the caller's account, not which of its roles calls (test credentials are plain access keys), so
  a role ARN counts for its whole account. Conditions (`aws:PrincipalOrgID`, `sts:ExternalId`) are not
  evaluated: the sandbox has no organization.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import AccessDeniedError
from moto.iam.models import iam_backends
from moto.sts import responses as sts_responses


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def trusts(policy_document: str, caller_account: str) -> bool:
    """Whether a trust policy lets the caller's account assume the role (conditions not evaluated)."""
    try:
        policy = json.loads(policy_document)
    except (TypeError, ValueError):
        return False
    for statement in _list(policy.get("Statement", [])):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = _list(statement.get("Action", []))
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = statement.get("Principal", {})
        principals = ["*"] if principal == "*" else _list(principal.get("AWS", [])) if isinstance(principal, dict) else []
        for p in principals:
            if p == "*" or p == caller_account or _account_of(p) == caller_account:
                return True
    return False


def install() -> None:
    original = sts_responses.TokenResponse.assume_role

    def assume_role(self: Any) -> Any:
        role_arn = self._get_param("RoleArn") or ""
        caller = self.current_account
        refused = AccessDeniedError(
            user_arn=f"arn:aws:sts::{caller}:assumed-role/selfheal-sandbox/caller",
            action=f"sts:AssumeRole on resource: {role_arn}",
        )
        target = _account_of(role_arn)
        try:
            role = iam_backends[target]["aws"].get_role_by_arn(role_arn)
        except Exception:
            raise refused from None
        if not trusts(role.assume_role_policy_document, caller):
            raise refused
        return original(self)

    sts_responses.TokenResponse.assume_role = assume_role
