"""Pre-warming in the sandbox: what a sync of 100 targets costs in AWS calls, and how long a fan-out of
50 pings takes against one ping.

    cargo build --release -p selfheal --bin selfheal
    .venv/bin/python benchmarks/prewarm.py [--targets 100] [--fan-out 50] [--hold-ms 100]

The sync runs `selfheal prewarm sync` (the pre-warm function's code) three times on one account: from
empty (every rule created), unchanged (nothing to write), and with 5 schedules changed. The report's
`calls` counts the AWS calls the sync made (a ListRules call returning every page counts once).
The pings run `selfheal prewarm ping` against a function whose every invocation takes `--hold-ms`
(the sandbox's delay, standing for the guard's hold in a real container).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
from local_sandbox import start_sandbox

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
SELFHEAL = ROOT / "target" / "release" / "selfheal"


def post(endpoint: str, path: str, body: dict) -> None:
    request = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    urllib.request.urlopen(request).read()


def run(env: dict, *args: str) -> tuple[float, dict, int]:
    started = time.perf_counter()
    done = subprocess.run([str(SELFHEAL), *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"selfheal {' '.join(args)} failed: {done.stderr}")
    return elapsed, report, done.returncode


def rules(n: int, changed: int = 0) -> str:
    text = []
    for i in range(n):
        schedule = "rate(10 minutes)" if i < changed else "rate(5 minutes)"
        text.append(
            f'[[prewarm]]\nfunction = "target-{i:03}"\nschedule = "{schedule}"\nconcurrency = {1 + 2 * (i % 2)}\n'
        )
    return "\n".join(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--fan-out", type=int, default=50)
    parser.add_argument("--hold-ms", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not SELFHEAL.exists():
        sys.exit("build it first: cargo build --release -p selfheal --bin selfheal")

    endpoint, sandbox = start_sandbox()
    try:
        account = str(random.randint(100_000_000_000, 999_999_999_999))
        kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=account, aws_secret_access_key="x")
        iam, lam = boto3.client("iam", **kw), boto3.client("lambda", **kw)
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        empty_zip = b"PK\x05\x06" + b"\x00" * 18

        def function(name: str) -> str:
            return lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="h",
                                       Code={"ZipFile": empty_zip})["FunctionArn"]

        pinger = function("selfheal-prewarm")
        for i in range(args.targets):
            function(f"target-{i:03}")
        function("warm-target")
        env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": account,
               "AWS_SECRET_ACCESS_KEY": "x", "SELFHEAL_PREWARM_FUNCTION_ARN": pinger}

        print(f"sync of {args.targets} targets (half at concurrency 1: target = the function; half at 3: target = the pre-warm function)")
        print(f"{'run':<22} {'seconds':>8} {'reads':>6} {'writes':>7}  plan")
        with tempfile.TemporaryDirectory() as folder:
            rules_file = Path(folder) / "rules" / "prewarm.toml"
            rules_file.parent.mkdir()
            for label, changed in (("from empty", 0), ("unchanged", 0), ("5 schedules changed", 5)):
                rules_file.write_text(rules(args.targets, changed))
                elapsed, report, code = run(env, "prewarm", "sync", "--rules", str(rules_file.parent))
                if code != 0:
                    sys.exit(f"sync failed: {report['errors'][:3]}")
                plan = ", ".join(f"{k} {len(report[k])}" for k in ("create", "update", "delete", "unchanged"))
                print(f"{label:<22} {elapsed:8.2f} {report['calls']['reads']:6} {report['calls']['writes']:7}  {plan}")

        post(endpoint, "/moto-api/selfheal/lambda/behaviour",
             {"account_id": account, "function": "warm-target", "delay_ms": args.hold_ms})
        print(f"\npings to a function answering in {args.hold_ms} ms (median of {args.rounds} rounds, timed inside the pinger)")
        figures = {}
        for n in (1, args.fan_out):
            times = []
            for _ in range(args.rounds):
                _, report, code = run(env, "prewarm", "ping", "warm-target", "--concurrency", str(n))
                if code != 0 or report["warm"] != n:
                    sys.exit(f"pings failed: {report}")
                times.append(report["elapsed_ms"])
            figures[n] = statistics.median(times)
            print(f"  {n:3} at once: fan-out {figures[n]:7.1f} ms (min {min(times)}, max {max(times)})")
        print(f"  {args.fan_out} one after another would take {args.fan_out} x {figures[1]:.0f} ms = "
              f"{args.fan_out * figures[1]:.0f} ms; at once they took {figures[args.fan_out] / figures[1]:.2f}x one ping")
    finally:
        sandbox.terminate()
        sandbox.wait()


if __name__ == "__main__":
    main()
