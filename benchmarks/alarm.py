"""Alarm handling: latency of one alarm through the real quota function, and the AWS calls it makes.

    cargo build --release -p selfheal --bin quota-alarm
    .venv/bin/python benchmarks/alarm.py [--runs 20]

The release `quota-alarm` binary runs as a Lambda runtime client under `cargo lambda watch`; each alarm is
POSTed to the standard Invoke URL and timed from the client (so the emulator's hop is included). Its AWS
calls go through a counting proxy in front of the sandbox. Scenarios, in order, on one account: the first
alarm (a raise), the same state change delivered again (a duplicate: nothing read), the alarm entering ALARM
again (a request is pending), an alarm on a quota already at its rule's ceiling (the page), that alarm
entering ALARM again (the cooldown holds the page back). "Again" is a new state change: the fixture's `state.timestamp`
moved to the run's own millisecond.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from local_sandbox import free_port, start_sandbox, stop_all

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
CALLS: Counter = Counter()


def counting_proxy(upstream_port: int) -> ThreadingHTTPServer:
    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The answer goes out in two writes (head, body): without this, Nagle's algorithm and the client's
        # delayed ACK hold every answer about 40 ms, which measured the proxy, not the function.
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            target = self.headers.get("X-Amz-Target", "")
            action = next((p[7:] for p in body.decode(errors="replace").split("&") if p.startswith("Action=")), "")
            CALLS[(target.split(".")[-1] if target else action) or self.path] += 1
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            upstream.request("POST", self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for k, v in answer.getheaders():
                if k.lower() not in ("connection", "content-length", "transfer-encoding", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Forward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_port(port: int) -> None:
    # `cargo lambda watch` runs `cargo metadata` before it listens: allow 30 s.
    for _ in range(600):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--binary", help="the quota-alarm binary (default: target/release/quota-alarm)")
    args = parser.parse_args()
    binary = Path(args.binary) if args.binary else ROOT / "target" / "release" / "quota-alarm"
    if not binary.exists():
        sys.exit("build it first: cargo build --release -p selfheal --bin quota-alarm")
    processes = []
    try:
        endpoint, sandbox = start_sandbox()
        processes.append(sandbox)
        sandbox_port = int(endpoint.rsplit(":", 1)[1])
        proxy = counting_proxy(sandbox_port)
        account = str(random.randint(100_000_000_000, 999_999_999_999))
        kw = dict(endpoint_url=f"http://127.0.0.1:{sandbox_port}", region_name=REGION,
                  aws_access_key_id=account, aws_secret_access_key="x")
        sns = boto3.client("sns", **kw)
        topic = sns.create_topic(Name="escalations")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")
        boto3.client("dynamodb", **kw).create_table(
            TableName="ledger", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])

        # Targets per ALB already at the rule's ceiling (2000): its alarm is paged, never raised.
        urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{sandbox_port}/moto-api/selfheal/servicequotas/set-value", method="POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"AccountId": account, "Region": REGION, "ServiceCode": "elasticloadbalancing",
                             "QuotaCode": "L-7E6692B2", "Value": 2000}).encode()))

        watch_port = free_port()
        processes.append(subprocess.Popen(["cargo", "lambda", "watch", "--only-lambda-apis", "--invoke-address",
                                           "127.0.0.1", "--invoke-port", str(watch_port)], cwd=ROOT,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(watch_port)
        processes.append(subprocess.Popen([str(binary)], env={
            **os.environ, "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{watch_port}/.rt/quota-alarm",
            "AWS_LAMBDA_FUNCTION_NAME": "quota-alarm", "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.server_address[1]}", "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "x",
            "SELFHEAL_TOPIC_ARN": topic, "SELFHEAL_TABLE": "ledger", "SELFHEAL_ACCOUNT_ID": account}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        stamps = iter(range(1, 1_000_000))

        def invoke(fixture: str, new_transition: bool) -> tuple[float, dict]:
            # The fixtures' alarms are of 123456789012: made the function's own account here.
            event = json.loads((ROOT / "tests" / "fixtures" / fixture).read_text().replace("123456789012", account))
            if new_transition:
                later = time.gmtime(time.time() + next(stamps))
                event["alarmData"]["state"]["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", later)
            body = json.dumps(event).encode()
            started = time.perf_counter()
            request = urllib.request.Request(
                f"http://127.0.0.1:{watch_port}/2015-03-31/functions/quota-alarm/invocations", data=body, method="POST")
            answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
            return (time.perf_counter() - started) * 1000, answer["outcomes"][0]

        print(f"{'scenario':<34} {'runs':>4} {'median ms':>9} {'p90 ms':>7}  AWS calls per alarm")
        for label, fixture, runs, new_transition in [
            ("first alarm: raise", "alarm-action-lambda-concurrency.json", 1, False),
            ("same delivery again: duplicate", "alarm-action-lambda-concurrency.json", args.runs, False),
            ("fires again: request pending", "alarm-action-lambda-concurrency.json", args.runs, True),
            ("at its ceiling: page", "alarm-action-alb-targets.json", 1, True),
            ("fires again: cooldown, no page", "alarm-action-alb-targets.json", args.runs, True),
        ]:
            CALLS.clear()
            times, outcome = [], {}
            for _ in range(runs):
                elapsed, outcome = invoke(fixture, new_transition)
                times.append(elapsed)
            times.sort()
            calls = ", ".join(f"{op} {n / runs:g}" for op, n in sorted(CALLS.items()))
            p90 = times[max(0, int(len(times) * 0.9) - 1)]
            print(f"{label:<34} {runs:>4} {statistics.median(times):>9.1f} {p90:>7.1f}  "
                  f"[{outcome['decision']}/{outcome['reason']}] {calls}")
    finally:
        stop_all(processes)


if __name__ == "__main__":
    main()
