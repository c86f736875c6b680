"""Lambda invocations as the function would have received them, provisioned concurrency, and faults.

moto without Docker answers every `Invoke` with a canned result, even for a function that does not exist.
The sandbox answers `ResourceNotFoundException` (404) for a missing function or qualifier, as Lambda does,
and keeps what each function was sent: `GET /moto-api/selfheal/lambda/invocations`.

moto lacks provisioned concurrency: the sandbox adds `PutProvisionedConcurrencyConfig`,
`GetProvisionedConcurrencyConfig`, `DeleteProvisionedConcurrencyConfig` and
`ListProvisionedConcurrencyConfigs` (`GET .../provisioned-concurrency?List=ALL`, each config with the
`FunctionArn` of its alias or version: botocore `lambda` model, ProvisionedConcurrencyConfigListItem) with
Lambda's errors. A config is `READY` at once (Lambda takes minutes to allocate it). Deleting a
configuration that is not there answers 204 like one that is: what Lambda answers then is not documented.

`POST /moto-api/selfheal/lambda/behaviour` makes one function slow or failing, as a real function or Lambda
itself can be: `{"account_id": ..., "function": name, "delay_ms": 200, "fail": "throttle" | "error", "times": n}`
(`times` absent: every call). Throttling is Lambda's `TooManyRequestsException` (429); an error is a
function error (200 with `X-Amz-Function-Error: Unhandled`).

moto appends a second statement when `AddPermission` repeats a statement id; Lambda refuses it with
`ResourceConflictException` (409: botocore `lambda` model, AddPermission errors), "The statement id (...)
provided already exists. Please provide a new statement id, or remove the existing statement." (the
message as the AWS CLI prints it). Each permission is specific to the ARN the `Qualifier` names (the same
model's AddPermission documentation), so an id may repeat across versions and aliases. The sandbox does
the same.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from moto.awslambda import policy as lambda_policy
from moto.awslambda import responses as lambda_responses
from moto.awslambda import urls as lambda_urls
from moto.core.exceptions import JsonRESTError

INVOCATIONS: list[dict[str, Any]] = []
PROVISIONED: dict[tuple[str, str, str, str], dict[str, Any]] = {}
BEHAVIOURS: dict[tuple[str, str], dict[str, Any]] = {}
_lock = threading.Lock()


class ProvisionedConcurrencyConfigNotFoundException(JsonRESTError):
    code = 404

    def __init__(self) -> None:
        super().__init__(
            "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function"
        )


class ResourceConflictException(JsonRESTError):
    code = 409

    def __init__(self, statement_id: str) -> None:
        super().__init__(
            "ResourceConflictException",
            f"The statement id ({statement_id}) provided already exists. Please provide a new statement id, "
            "or remove the existing statement.",
        )


class InvalidParameterValueException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValueException", message)


def _behaviour(account_id: str, function_name: str) -> dict[str, Any] | None:
    """The behaviour set for this function, spending one of its `times`."""
    with _lock:
        behaviour = BEHAVIOURS.get((account_id, function_name))
        if behaviour is None:
            return None
        if behaviour.get("times") is not None:
            if behaviour["times"] <= 0:
                return None
            behaviour["times"] -= 1
        return dict(behaviour)


def install() -> None:
    original_invoke = lambda_responses.LambdaResponse.invoke
    original_add_statement = lambda_policy.Policy.add_statement

    def add_statement(self: Any, raw: str, qualifier: str | None = None) -> Any:
        # Each version or alias has its policy of its own: a statement id repeats only within one.
        statement_id = json.loads(raw).get("StatementId")
        for statement in self.statements:
            parts = str(statement.get("Resource", "")).split(":")
            scope = parts[7] if len(parts) > 7 else None
            if statement.get("Sid") == statement_id and scope == (qualifier or None):
                raise ResourceConflictException(statement_id)
        return original_add_statement(self, raw, qualifier)

    lambda_policy.Policy.add_statement = add_statement
    prefix = r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/provisioned-concurrency"
    lambda_urls.url_paths[prefix + "/?$"] = lambda_responses.LambdaResponse.dispatch

    def invoke(self: Any) -> Any:
        function_name = unquote(self.path.rsplit("/", 2)[-2])
        # The SDKs send `?Qualifier=`; moto reads only the lower-case spelling.
        qualifier = self.querystring.get("Qualifier", [None])[0] or self._get_param("qualifier")
        # Raises ResourceNotFoundException (404) when the function or the qualifier does not exist.
        function = self.backend.get_function(function_name, qualifier)
        started = time.time()
        behaviour = _behaviour(self.current_account, function.function_name)
        if behaviour and behaviour.get("delay_ms"):
            time.sleep(behaviour["delay_ms"] / 1000)
        fail = behaviour.get("fail") if behaviour else None
        if fail == "throttle":
            result: Any = (
                429,
                {"X-Amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json", "status": 429},
                json.dumps(
                    {
                        "Type": "User",
                        "message": "Rate Exceeded.",
                        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                    }
                ),
            )
        elif fail == "error":
            result = (
                200,
                {"X-Amz-Function-Error": "Unhandled", "Content-Type": "application/json", "status": 200},
                json.dumps({"errorType": "Runtime.ExitError", "errorMessage": "the function failed (sandbox fault)"}),
            )
        else:
            result = original_invoke(self)
        body = self.body.decode() if isinstance(self.body, bytes) else self.body
        with _lock:
            INVOCATIONS.append(
                {
                    "account_id": self.current_account,
                    "function_name": function.function_name,
                    "qualifier": qualifier,
                    "invocation_type": self.headers.get("X-Amz-Invocation-Type", "RequestResponse"),
                    "payload": body,
                    "at": started,
                    "finished": time.time(),
                    "fault": fail,
                }
            )
        return result

    def _provisioned_key(self: Any) -> tuple[tuple[str, str, str, str], str]:
        function_name = unquote(self.path.split("/")[-2])
        qualifier = self._get_param("Qualifier") or self.querystring.get("Qualifier", [None])[0]
        if not qualifier or qualifier == "$LATEST":
            raise InvalidParameterValueException(
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
            )
        function = self.backend.get_function(function_name, qualifier)
        key = (self.current_account, self.region, function.function_name, qualifier)
        return key, function.function_arn

    def put_provisioned_concurrency_config(self: Any) -> Any:
        key, _ = _provisioned_key(self)
        requested = int(self.json_body.get("ProvisionedConcurrentExecutions", 0))
        if requested < 1:
            raise InvalidParameterValueException("ProvisionedConcurrentExecutions must be at least 1.")
        config = ready_config(requested)
        with _lock:
            PROVISIONED[key] = config
        return 202, {"Content-Type": "application/json", "status": 202}, json.dumps(config)

    def get_provisioned_concurrency_config(self: Any) -> Any:
        key, _ = _provisioned_key(self)
        with _lock:
            config = PROVISIONED.get(key)
        if config is None:
            raise ProvisionedConcurrencyConfigNotFoundException()
        return 200, {"Content-Type": "application/json", "status": 200}, json.dumps(config)

    def list_provisioned_concurrency_configs(self: Any) -> Any:
        function_name = unquote(self.path.split("/")[-2])
        function = self.backend.get_function(function_name, None)
        unqualified = ":".join(function.function_arn.split(":")[:7])
        with _lock:
            configs = [
                dict(config, FunctionArn=f"{unqualified}:{qualifier}")
                for (account, region, name, qualifier), config in sorted(PROVISIONED.items())
                if (account, region, name) == (self.current_account, self.region, function.function_name)
            ]
        return 200, {"Content-Type": "application/json", "status": 200}, json.dumps({"ProvisionedConcurrencyConfigs": configs})

    def delete_provisioned_concurrency_config(self: Any) -> Any:
        key, _ = _provisioned_key(self)
        with _lock:
            PROVISIONED.pop(key, None)
        return 204, {"status": 204}, ""

    lambda_responses.LambdaResponse.invoke = invoke
    lambda_responses.LambdaResponse.put_provisioned_concurrency_config = put_provisioned_concurrency_config
    lambda_responses.LambdaResponse.get_provisioned_concurrency_config = get_provisioned_concurrency_config
    lambda_responses.LambdaResponse.delete_provisioned_concurrency_config = delete_provisioned_concurrency_config
    lambda_responses.LambdaResponse.list_provisioned_concurrency_configs = list_provisioned_concurrency_configs


def set_behaviour(request: dict[str, Any]) -> dict[str, Any]:
    account_id = str(request["account_id"])
    function = str(request["function"])
    fail = request.get("fail")
    if fail not in (None, "throttle", "error"):
        raise ValueError(f"fail must be throttle or error, not {fail!r}")
    behaviour = {"delay_ms": int(request.get("delay_ms") or 0), "fail": fail, "times": request.get("times")}
    with _lock:
        if not behaviour["delay_ms"] and fail is None:
            BEHAVIOURS.pop((account_id, function), None)
        else:
            BEHAVIOURS[(account_id, function)] = behaviour
    return behaviour


def invocations() -> list[dict[str, Any]]:
    with _lock:
        return list(INVOCATIONS)


def ready_config(containers: int) -> dict[str, Any]:
    """A provisioned concurrency configuration of `containers`, allocated at once (`READY`)."""
    return {
        "RequestedProvisionedConcurrentExecutions": containers,
        "AvailableProvisionedConcurrentExecutions": containers,
        "AllocatedProvisionedConcurrentExecutions": containers,
        "Status": "READY",
        "LastModified": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
    }


def reset() -> None:
    with _lock:
        INVOCATIONS.clear()
        PROVISIONED.clear()
        BEHAVIOURS.clear()
