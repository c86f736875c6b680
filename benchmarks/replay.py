"""DLQ replay throughput in the sandbox: selfheal against the loop an operator would write with boto3,
and against the emulator's own ceiling, on the same data and with the same correctness checks.

    cargo build --release -p selfheal --bin selfheal
    .venv/bin/python benchmarks/replay.py [--queue-messages 10000] [--function-messages 2000]
    .venv/bin/python benchmarks/replay.py --latency-ms 15 [--queue-messages 2000]
    ... [--baseline OTHER/target/release/selfheal]   # another build, side by side in the same run

Three ways to move N messages from a DLQ back to its source queue:
- selfheal: `selfheal replay --queue ...` (release build), the replay function's code;
- boto3 loop: receive 10, `send_message` each, `delete_message` each;
- ceiling: the same receive / send-batch / delete-batch cycle selfheal uses, driven by the thinnest client
  (hand-built JSON over one kept-alive HTTP connection, no SDK).
And N messages from a Lambda async DLQ back into the function: selfheal against a boto3 loop (receive 10,
`invoke` each, `delete_message` each). Each run starts from a freshly seeded DLQ; afterwards the DLQ must be
empty and the target must hold every message once.

`--latency-ms 15` puts `latency_proxy.py` between every client and the sandbox, adding that much to each
call (a realistic AWS round trip), and compares DLQ -> source queue side by side: selfheal, the boto3
loop, an 8-thread boto3 batch loop (each thread: receive 10, `send_message_batch`, `delete_message_batch`)
and, without the proxy, the emulator's own ceiling.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import boto3
from local_sandbox import start_sandbox

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"


class Bench:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.account = str(random.randint(100_000_000_000, 999_999_999_999))
        kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=self.account, aws_secret_access_key="x")
        self.sqs = boto3.client("sqs", **kw)
        self.lam = boto3.client("lambda", **kw)
        self.kw = kw

    def queue(self, name: str, attributes: dict | None = None) -> str:
        return self.sqs.create_queue(QueueName=name, Attributes=attributes or {})["QueueUrl"]

    def source_queues(self, methods) -> dict[str, tuple[str, str]]:
        """One DLQ and source queue per method, so that each starts from the same empty state."""
        pairs = {}
        for method in methods:
            dlq_url = self.queue(f"{method}-dlq")
            arn = f"arn:aws:sqs:{REGION}:{self.account}:{method}-dlq"
            redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
            pairs[method] = (dlq_url, self.queue(method, {"RedrivePolicy": redrive}))
        return pairs

    def seed(self, url: str, n: int, lambda_dlq: bool = False) -> None:
        attributes = {"tenant": {"DataType": "String", "StringValue": "acme"}}
        if lambda_dlq:
            attributes = {
                "RequestID": {"DataType": "String", "StringValue": "req"},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": "Task timed out"},
            }
        for start in range(0, n, 10):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps({"order": start + i, "pad": "x" * 200}), "MessageAttributes": attributes}
                for i in range(min(10, n - start))
            ]
            assert not self.sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")

    def depth(self, url: str) -> int:
        a = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return sum(int(v) for v in a.values())


def timed(fn) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process and its children) of fn()."""
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before))
    return wall, cpu


SELFHEAL = ROOT / "target/release/selfheal"


def selfheal_replay(b: Bench, queue: str, rules_dir: str, env: dict, binary: Path = SELFHEAL) -> dict:
    out = subprocess.run(
        [str(binary), "replay", "--queue", queue, "--rules", rules_dir],
        env=env, capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"selfheal replay failed: {out.stderr}")
    return json.loads(out.stdout)


def timed_selfheal(b: Bench, method: str, n: int, rules: str, env: dict, baseline: str | None) -> tuple[float, float]:
    """`selfheal replay` (or the baseline build) over `<method>-dlq`; every message must be replayed."""
    summary = {}
    binary = Path(baseline) if method == "baseline" and baseline else SELFHEAL
    wall, cpu = timed(lambda: summary.update(selfheal_replay(b, f"{method}-dlq", rules, env, binary)))
    assert summary["replayed"] == n and summary["failed"] == 0, summary
    return wall, cpu


def send_each(b: Bench, source: str):
    return lambda m: b.sqs.send_message(QueueUrl=source, MessageBody=m["Body"], MessageAttributes=m.get("MessageAttributes", {}))


def boto3_loop(b: Bench, dlq: str, send) -> None:
    while True:
        messages = b.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return
        for m in messages:
            send(m)
            b.sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])


class ThinClient:
    """SQS's JSON protocol by hand over one kept-alive connection: the least a client can do."""

    def __init__(self, endpoint: str, account: str) -> None:
        host = endpoint.removeprefix("http://")
        self.conn = http.client.HTTPConnection(host)
        self.auth = f"AWS4-HMAC-SHA256 Credential={account}/20260101/{REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0"

    def call(self, action: str, body: dict) -> dict:
        self.conn.request("POST", "/", json.dumps(body), {
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{action}", "Authorization": self.auth,
        })
        response = self.conn.getresponse()
        data = response.read()
        assert response.status == 200, data
        return json.loads(data or b"{}")


def ceiling(b: Bench, dlq: str, source: str) -> None:
    c = ThinClient(b.endpoint, b.account)
    while True:
        messages = c.call("ReceiveMessage", {"QueueUrl": dlq, "MaxNumberOfMessages": 10, "MessageAttributeNames": ["All"]}).get("Messages", [])
        if not messages:
            return
        sent = c.call("SendMessageBatch", {"QueueUrl": source, "Entries": [
            {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": m.get("MessageAttributes", {})} for i, m in enumerate(messages)
        ]})
        ok = {e["Id"] for e in sent.get("Successful", [])}
        c.call("DeleteMessageBatch", {"QueueUrl": dlq, "Entries": [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in ok
        ]})


def boto3_threads(kw: dict, dlq: str, source: str, threads: int = 8) -> None:
    """The loop an operator writes to go faster: `threads` threads, each receive 10 -> send batch -> delete batch."""
    import threading

    def worker() -> None:
        sqs = boto3.client("sqs", **kw)
        while True:
            messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
            if not messages:
                return
            sent = sqs.send_message_batch(QueueUrl=source, Entries=[
                {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": m.get("MessageAttributes", {})}
                for i, m in enumerate(messages)
            ])
            ok = {e["Id"] for e in sent.get("Successful", [])}
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in ok]
            if entries:
                sqs.delete_message_batch(QueueUrl=dlq, Entries=entries)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def latency_mode(args: argparse.Namespace) -> None:
    from local_sandbox import free_port

    endpoint, sandbox = start_sandbox()
    proxy = None
    try:
        port = free_port()
        proxy = subprocess.Popen([sys.executable, str(ROOT / "benchmarks/latency_proxy.py"), "--listen", str(port),
                                  "--to", endpoint.removeprefix("http://"), "--delay-ms", str(args.latency_ms)])
        slow = f"http://127.0.0.1:{port}"
        b = Bench(endpoint)
        slow_kw = {**b.kw, "endpoint_url": slow}
        methods = ("ceiling", "boto3", "threads", "selfheal") + (("baseline",) if args.baseline else ())
        pairs = b.source_queues(methods)
        topic = boto3.client("sns", **b.kw).create_topic(Name="bench")["TopicArn"]
        boto3.client("dynamodb", **b.kw).create_table(
            TableName="bench-ledger", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        rules = tempfile.mkdtemp()
        Path(rules, "replay.toml").write_text(
            '[[dlq]]\nname = "bench"\nqueue = "selfheal-dlq"\n\n[[dlq]]\nname = "baseline"\nqueue = "baseline-dlq"\n')
        env = {**os.environ, "AWS_ENDPOINT_URL": slow, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": b.account,
               "AWS_SECRET_ACCESS_KEY": "x", "SELFHEAL_TOPIC_ARN": topic, "SELFHEAL_TABLE": "bench-ledger"}
        slow_bench = Bench(slow)
        slow_bench.account, slow_bench.kw = b.account, slow_kw
        slow_bench.sqs = boto3.client("sqs", **slow_kw)
        print(f"DLQ -> source queue, {args.queue_messages} messages, {args.latency_ms:g} ms added to each call")
        results = {}
        names = {"ceiling": "emulator ceiling (no proxy)", "boto3": "boto3 loop", "threads": "8-thread boto3",
                 "selfheal": "selfheal", "baseline": "selfheal (baseline)"}
        counts = {}
        for method in methods:
            dlq, source = pairs[method]
            # The one-at-a-time loop needs two round trips a message: a sample of it is enough.
            n = min(args.queue_messages, 300) if method == "boto3" else args.queue_messages
            counts[names[method]] = n
            b.seed(dlq, n)
            assert b.depth(dlq) == n
            if method in ("selfheal", "baseline"):
                wall, cpu = timed_selfheal(b, method, n, rules, env, args.baseline)
            elif method == "boto3":
                wall, cpu = timed(lambda: boto3_loop(slow_bench, dlq, send_each(slow_bench, source)))
            elif method == "threads":
                wall, cpu = timed(lambda: boto3_threads(slow_kw, dlq, source))
            else:
                wall, cpu = timed(lambda: ceiling(b, dlq, source))
            assert b.depth(dlq) == 0, f"{method}: DLQ not empty"
            arrived = b.depth(source)
            # Concurrent receivers may each be handed the same message (moto does it, and so may SQS): the
            # plain threaded loop delivers it twice; selfheal delivers it once per run.
            if method == "threads" and arrived > n:
                print(f"  (8-thread boto3 delivered {arrived - n} messages twice)")
            else:
                assert arrived == n, f"{method}: source holds {arrived}"
            results[names[method]] = (wall, cpu)
        threads = counts["8-thread boto3"] / results["8-thread boto3"][0]
        for name, (wall, cpu) in results.items():
            n = counts[name]
            rate = n / wall
            extra = f"  {rate / threads:5.2f}x the 8-thread boto3 loop" if name != "8-thread boto3" else ""
            print(f"  {name:<28} {n:5} msgs {wall:7.2f} s  {rate:7.0f} msg/s  CPU {1e6 * cpu / n:7.0f} us/msg{extra}")
    finally:
        if proxy:
            proxy.terminate()
            proxy.wait()
        sandbox.terminate()
        sandbox.wait()


def report(name: str, n: int, wall: float, cpu: float, base: float | None = None, top: float | None = None) -> None:
    rate = n / wall
    extra = ""
    if base:
        extra += f"  {rate / base:5.1f}x the boto3 loop"
    if top:
        extra += f"  {100 * rate / top:5.1f}% of the ceiling"
    print(f"  {name:<12} {wall:7.2f} s  {rate:7.0f} msg/s  CPU {1e6 * cpu / n:7.0f} us/msg{extra}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queue-messages", type=int, default=10_000)
    parser.add_argument("--function-messages", type=int, default=2_000)
    parser.add_argument("--baseline", help="another build's selfheal binary, run side by side (queue path)")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="add this much to each call through a proxy (DLQ -> queue only)")
    args = parser.parse_args()
    if args.latency_ms > 0:
        latency_mode(args)
        return

    endpoint, sandbox = start_sandbox()
    try:
        b = Bench(endpoint)
        pairs = b.source_queues(("ceiling", "boto3", "selfheal", "baseline"))
        fdlq = b.queue("worker-dlq")
        role = boto3.client("iam", **b.kw).create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("index.py", "def handler(event, context):\n    return event\n")
        b.lam.create_function(FunctionName="worker", Runtime="python3.11", Role=role, Handler="index.handler",
                              Code={"ZipFile": archive.getvalue()})
        topic = boto3.client("sns", **b.kw).create_topic(Name="bench")["TopicArn"]
        boto3.client("dynamodb", **b.kw).create_table(
            TableName="bench-ledger", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        rules = tempfile.mkdtemp()
        Path(rules, "replay.toml").write_text(
            '[[dlq]]\nname = "bench"\nqueue = "selfheal-dlq"\n\n[[dlq]]\nname = "baseline"\nqueue = "baseline-dlq"\n\n'
            '[[dlq]]\nname = "worker"\nqueue = "worker-dlq"\nfunction = "worker"\n')
        env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": b.account,
               "AWS_SECRET_ACCESS_KEY": "x", "SELFHEAL_TOPIC_ARN": topic, "SELFHEAL_TABLE": "bench-ledger"}

        n = args.queue_messages
        print(f"DLQ -> source queue, {n} messages")
        results = {}
        for name in ("ceiling", "boto3 loop", "selfheal") + (("baseline",) if args.baseline else ()):
            dlq, source = pairs[name.split()[0]]
            b.seed(dlq, n)
            assert b.depth(dlq) == n
            if name in ("selfheal", "baseline"):
                wall, cpu = timed_selfheal(b, name, n, rules, env, args.baseline)
            elif name == "boto3 loop":
                wall, cpu = timed(lambda: boto3_loop(b, dlq, send_each(b, source)))
            else:
                wall, cpu = timed(lambda: ceiling(b, dlq, source))
            assert b.depth(dlq) == 0, f"{name}: DLQ not empty"
            assert b.depth(source) == n, f"{name}: source holds {b.depth(source)}"
            results[name] = (wall, cpu)
        base = n / results["boto3 loop"][0]
        top = n / results["ceiling"][0]
        for name, (wall, cpu) in results.items():
            chosen = name in ("selfheal", "baseline")
            report(name, n, wall, cpu, base if chosen else None, top if chosen else None)

        n = args.function_messages
        print(f"Lambda async DLQ -> function, {n} messages")
        results = {}
        invocations_url = endpoint + "/moto-api/selfheal/lambda/invocations"
        for name in ("boto3 loop", "selfheal"):
            before = len(json.loads(urllib.request.urlopen(invocations_url).read())["invocations"])
            b.seed(fdlq, n, lambda_dlq=True)
            if name == "selfheal":
                summary = {}
                wall, cpu = timed(lambda: summary.update(selfheal_replay(b, "worker-dlq", rules, env)))
                assert summary["replayed"] == n and summary["failed"] == 0, summary
            else:
                wall, cpu = timed(lambda: boto3_loop(b, fdlq, lambda m: b.lam.invoke(
                    FunctionName="worker", InvocationType="Event", Payload=m["Body"].encode())))
            after = len(json.loads(urllib.request.urlopen(invocations_url).read())["invocations"])
            assert b.depth(fdlq) == 0 and after - before == n, f"{name}: {after - before} invocations"
            results[name] = (wall, cpu)
        base = n / results["boto3 loop"][0]
        for name, (wall, cpu) in results.items():
            report(name, n, wall, cpu, base if name == "selfheal" else None)
        print("\nCPU is this script plus its children: for selfheal, the replay process alone; for the "
              "boto3 loop and the ceiling, the Python client (the emulator's own CPU is not counted).")
    finally:
        sandbox.terminate()
        sandbox.wait()


if __name__ == "__main__":
    main()
