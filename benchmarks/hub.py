"""The hub's cost of acting in a spoke: one alarm of the hub's own account against one of a spoke (the
spoke role assumed through STS), each run of `selfheal alarm EVENT --rules DIR --dry-run` a new process
(so every spoke run pays its AssumeRole: a function pays it once per account per container), through a
proxy that adds a round trip's delay to every AWS call.

    cargo build --release --bin selfheal
    .venv/bin/python benchmarks/hub.py [--runs 20] [--latency-ms 15]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from local_sandbox import free_port, start_sandbox, stop_all

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"


def account() -> str:
    return str(random.randint(100_000_000_000, 999_999_999_999))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=15.0)
    args = parser.parse_args()
    binary = ROOT / "target" / "release" / "selfheal"
    if not binary.exists():
        sys.exit("build it first: cargo build --release --bin selfheal")
    processes = []
    try:
        endpoint, sandbox = start_sandbox()
        processes.append(sandbox)
        sandbox_port = int(endpoint.rsplit(":", 1)[1])
        proxy_port = free_port()
        processes.append(subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "latency_proxy.py"),
                                           "--listen", str(proxy_port), "--to", f"127.0.0.1:{sandbox_port}",
                                           "--delay-ms", str(args.latency_ms)]))
        time.sleep(1.0)
        hub, spoke = account(), account()
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"AWS": f"arn:aws:iam::{hub}:root"}}]}
        boto3.client("iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=spoke,
                     aws_secret_access_key="x").create_role(RoleName="selfheal-spoke",
                                                            AssumeRolePolicyDocument=json.dumps(trust))
        rules = Path(tempfile.mkdtemp())
        (rules / "quotas.toml").write_text((ROOT / "rules" / "quotas.toml").read_text())
        (rules / "accounts.toml").write_text(
            f'[hub]\nspoke_role = "selfheal-spoke"\n[[account]]\nid = "{spoke}"\nowner = "team-payments"\n')
        env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy_port}", "AWS_REGION": REGION,
               "AWS_ACCESS_KEY_ID": hub, "AWS_SECRET_ACCESS_KEY": "x", "SELFHEAL_ACCOUNT_ID": hub,
               "PATH": "/usr/bin:/bin"}
        fixture = (ROOT / "tests" / "fixtures" / "alarm-action-lambda-concurrency.json").read_text()
        events = {}
        for name, owner in [("own account", hub), ("spoke (AssumeRole)", spoke)]:
            path = rules / f"{owner}.json"
            path.write_text(fixture.replace("123456789012", owner))
            events[name] = path
        print(f"{args.latency_ms:g} ms added to each AWS call; {args.runs} runs each, interleaved")
        times: dict[str, list[float]] = {name: [] for name in events}
        decisions = {}
        for _ in range(args.runs):
            for name, path in events.items():
                started = time.perf_counter()
                out = subprocess.run([str(binary), "alarm", str(path), "--rules", str(rules), "--dry-run"],
                                     env=env, capture_output=True, text=True)
                times[name].append((time.perf_counter() - started) * 1000)
                if out.returncode != 0:
                    sys.exit(f"{name}: {out.stderr}")
                outcome = json.loads(out.stdout)
                decisions[name] = f"{outcome['decision']}/{outcome['reason']}"
        print(f"{'alarm of':<22} {'median ms':>9} {'p90 ms':>7}  decision")
        for name, values in times.items():
            values.sort()
            p90 = values[max(0, int(len(values) * 0.9) - 1)]
            print(f"{name:<22} {statistics.median(values):>9.1f} {p90:>7.1f}  {decisions[name]}")
    finally:
        stop_all(processes)


if __name__ == "__main__":
    main()
