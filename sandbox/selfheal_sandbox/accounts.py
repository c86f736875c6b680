"""One account per 12-digit access key id, so that tests and demo runs never share state.

moto maps an access key to an account only for keys created through its IAM (and only keys of 20
characters); any other key lands in the default account 123456789012. The sandbox also takes a 12-digit
access key id as the account id (as LocalStack does), so a test isolates itself by choosing a fresh key.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.responses import BaseResponse

_CREDENTIAL = re.compile(r"Credential=(\d{12})/")


def install() -> None:
    original = BaseResponse.get_current_account

    def get_current_account(self: Any) -> str:
        match = _CREDENTIAL.search(self.headers.get("Authorization", "") or "")
        if match:
            return match.group(1)
        return original(self)

    BaseResponse.get_current_account = get_current_account  # type: ignore[method-assign]
