"""moto's own costs that no AWS behaviour depends on, cut so that a benchmark measures its client and not
the emulator (`benchmarks/replay.py`; profiled with cProfile over the receive / send-batch / delete-batch
cycle, 2,000 messages):
- moto works out which service a request is for by scanning its list of modules and URL patterns, twice
  per request (about 1.1 ms); the answer depends only on the host name, so it is remembered per host;
- an SQS receipt handle is 185 letters drawn one `random.choice` at a time (about 0.5 ms a message);
  drawn in one `choices` call instead: the same length, alphabet and random source.
"""

from __future__ import annotations

import string
from typing import Any


def install() -> None:
    from moto.moto_api._internal import mock_random
    from moto.moto_server import werkzeug_app
    from moto.sqs import models as sqs_models

    dispatcher = werkzeug_app.DomainDispatcherApplication
    find_backend = dispatcher.get_backend_for_host
    known: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = find_backend(self, host)
        return known[host]

    dispatcher.get_backend_for_host = get_backend_for_host

    def generate_receipt_handle() -> str:
        return "".join(mock_random.choices(string.ascii_lowercase, k=185))

    sqs_models.generate_receipt_handle = generate_receipt_handle
