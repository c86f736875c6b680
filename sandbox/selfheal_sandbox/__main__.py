"""Starts moto's server with selfheal's extensions: `python -m selfheal_sandbox [--host H] [--port P]`."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="selfheal_sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5050)
    args = parser.parse_args(argv)

    from . import accounts, autoscaling, awslambda, moto_api, servicequotas, sns, speed, sqs, sts

    accounts.install()
    servicequotas.install()
    sns.install()
    sqs.install()
    sts.install()
    awslambda.install()
    autoscaling.install()
    moto_api.install()
    speed.install()

    from moto import server

    # Lambda functions are answered without Docker (moto's "simple" Lambda).
    from moto.core.models import default_user_config

    default_user_config.setdefault("lambda", {})["use_docker"] = False
    server.main(["--host", args.host, "--port", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
