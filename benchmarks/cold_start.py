"""Cold start of Lambda runtime clients: process start to the first poll of the runtime API, and peak
memory (VmHWM) at that moment. Runs are interleaved so that every binary sees the same machine.

    cargo build --release -p selfheal --bin quota-alarm --bin dlq-replay --bin prewarm -p bare-clients --bin bare-clients
    .venv/bin/python benchmarks/cold_start.py [--runs 30] [--python] [--baseline DIR]

`--baseline DIR` adds the three functions of another build (say, a worktree of the previous commit,
`DIR` its `target/release`) to the same interleaved runs, so that a change is measured side by side.

`bare-clients` (benchmarks/bare-clients) only loads aws-config and builds the same SDK clients;
`--python` adds a Python function that builds the same boto3 clients (what existing tools run on).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PYTHON_FUNCTION = r"""
import os, urllib.request
import boto3
session = boto3.session.Session()
clients = [session.client(s) for s in ("service-quotas", "sns", "dynamodb")]
urllib.request.urlopen("http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/next")
"""


class Poll:
    """The first `invocation/next` of the process being measured."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.at_ns = 0
        self.hwm_kb = 0
        self.pid = 0


current = Poll()


def vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RuntimeApi(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path.endswith("/runtime/invocation/next") and not current.event.is_set():
            current.at_ns = time.perf_counter_ns()
            current.hwm_kb = vm_hwm_kb(current.pid)
            current.event.set()
        # Never answer: the process is killed once measured.
        time.sleep(5)

    def log_message(self, *args) -> None:
        pass


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    global current
    current = Poll()
    start = time.perf_counter_ns()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    current.pid = proc.pid
    if not current.event.wait(10):
        proc.kill()
        raise SystemExit(f"{command[0]} did not poll the runtime API within 10 s")
    proc.kill()
    proc.wait()
    return (current.at_ns - start) / 1e6, current.hwm_kb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--python", action="store_true", help="also measure a boto3 function")
    parser.add_argument("--target", default=str(ROOT / "target" / "release"))
    parser.add_argument("--baseline", help="another build's target/release, measured in the same runs")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
        "SELFHEAL_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t", "SELFHEAL_TABLE": "t",
    }
    subjects = {
        "quota-alarm": [f"{args.target}/quota-alarm"],
        "dlq-replay": [f"{args.target}/dlq-replay"],
        "prewarm": [f"{args.target}/prewarm"],
        "bare-clients": [f"{args.target}/bare-clients"],
    }
    if args.baseline:
        for name in ("quota-alarm", "dlq-replay", "prewarm"):
            subjects[f"{name}@base"] = [f"{args.baseline}/{name}"]
    if args.python:
        subjects["python-boto3"] = [sys.executable, "-c", PYTHON_FUNCTION]
    results: dict[str, list[tuple[float, int]]] = {name: [] for name in subjects}
    for name, command in subjects.items():  # warm the page cache once
        measure(command, env)
    for _ in range(args.runs):
        for name, command in subjects.items():
            results[name].append(measure(command, env))

    print(f"{'binary':<18} {'median ms':>9} {'p90 ms':>8} {'min ms':>7} {'peak MB':>8}  ({args.runs} interleaved runs)")
    medians = {}
    for name, samples in results.items():
        times = sorted(t for t, _ in samples)
        mem = statistics.median(m for _, m in samples) / 1024
        medians[name] = statistics.median(times)
        p90 = times[int(len(times) * 0.9) - 1]
        print(f"{name:<18} {medians[name]:>9.2f} {p90:>8.2f} {times[0]:>7.2f} {mem:>8.1f}")
    print(f"\nquota-alarm / bare-clients (median): {medians['quota-alarm'] / medians['bare-clients']:.3f}")
    if args.baseline:
        for name in ("quota-alarm", "dlq-replay", "prewarm"):
            print(f"{name} / baseline (median): {medians[name] / medians[name + '@base']:.3f}")
    server.shutdown()


if __name__ == "__main__":
    main()
