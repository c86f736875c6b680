"""Lambda invocations, as the function would have received them.

moto without Docker answers every `Invoke` with a canned result, even for a function that does not exist.
The sandbox answers `ResourceNotFoundException` (404) for a missing function or qualifier, as Lambda does,
and keeps what each function was sent: `GET /moto-api/selfheal/lambda/invocations`.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import unquote

from moto.awslambda import responses as lambda_responses

INVOCATIONS: list[dict[str, Any]] = []
_lock = threading.Lock()


def install() -> None:
    original_invoke = lambda_responses.LambdaResponse.invoke

    def invoke(self: Any) -> Any:
        function_name = unquote(self.path.rsplit("/", 2)[-2])
        qualifier = self._get_param("qualifier")
        # Raises ResourceNotFoundException (404) when the function or the qualifier does not exist.
        function = self.backend.get_function(function_name, qualifier)
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
                    "at": time.time(),
                }
            )
        return result

    lambda_responses.LambdaResponse.invoke = invoke


def invocations() -> list[dict[str, Any]]:
    with _lock:
        return list(INVOCATIONS)


def reset() -> None:
    with _lock:
        INVOCATIONS.clear()
