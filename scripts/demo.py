"""Drives the demo of every path (quota healing, pre-warming, DLQ replay) through the real handler
binaries under `cargo lambda watch`; run through scripts/demo, which installs and builds first."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
# The example rules (checkout-api, orders-dlq...) replace the shipped files of the same name.
EXAMPLES = str(Path(__file__).resolve().parent.parent / "rules" / "examples")
SANDBOX_PORT = int(os.environ.get("SELFHEAL_DEMO_SANDBOX_PORT", "5060"))
SANDBOX = f"http://127.0.0.1:{SANDBOX_PORT}"
REGION = "us-east-1"
ACCOUNT = str(random.randint(200_000_000_000, 899_999_999_999))
PHONE, EMAIL = "+15555550100", "oncall@example.com"


def fail(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr)
    sys.exit(1)


def port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what: str, seconds: float = 20) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    fail(f"{what} did not start within {seconds:.0f}s")


def start(stack: ExitStack, args: list[str], env: dict | None = None, log: str = "") -> subprocess.Popen:
    out = open(ROOT / ".sandbox" / log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()

    stack.callback(stop)
    return proc


def aws(service: str):
    return boto3.client(service, endpoint_url=SANDBOX, region_name=REGION,
                        aws_access_key_id=ACCOUNT, aws_secret_access_key="demo")


def sandbox_up() -> bool:
    try:
        urllib.request.urlopen(SANDBOX + "/moto-api/selfheal/health", timeout=1)
        return True
    except OSError:
        return False


def seed() -> tuple[str, str, dict]:
    """An account with a topic (SMS and email subscribers), the ledger table and usage alarms."""
    sns = aws("sns")
    topic = sns.create_topic(Name="selfheal-escalations")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=PHONE)
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    aws("dynamodb").create_table(
        TableName="selfheal-ledger", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    cw = aws("cloudwatch")
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:selfheal-quota-alarm"

    def usage_alarm(name: str, namespace: str, metric: str, dimensions: dict, description: str) -> None:
        cw.put_metric_alarm(
            AlarmName=name, AlarmDescription=description, ActionsEnabled=True,
            AlarmActions=[function_arn], OKActions=[function_arn],
            EvaluationPeriods=1, Threshold=80, ComparisonOperator="GreaterThanOrEqualToThreshold",
            Metrics=[
                {"Id": "m1", "ReturnData": False, "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": metric,
                               "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]},
                    "Period": 60, "Stat": "Maximum"}},
                {"Id": "e1", "Expression": "(m1/SERVICE_QUOTA(m1))*100", "Label": "% of quota", "ReturnData": True},
            ],
        )

    usage_alarm("demo-lambda-concurrent-executions", "AWS/Lambda", "ConcurrentExecutions", {},
                "Lambda concurrent executions above 80% of the account quota")
    usage_alarm("demo-ec2-standard-vcpus", "AWS/Usage", "ResourceCount",
                {"Service": "EC2", "Type": "Resource", "Resource": "vCPU", "Class": "Standard/OnDemand"},
                "On-Demand Standard vCPUs above 80% of the quota")
    usage_alarm("demo-alb-targets", "AWS/ApplicationELB", "HealthyHostCount", {},
                "Targets of the checkout ALB near the 1000-target limit")
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
    return topic, "selfheal-ledger", alarms


_last_stamp_ms = 0


def state_change_time() -> str:
    """Now, as CloudWatch writes a state change's time; each call a later millisecond, so that each event
    the demo makes is a state change of its own (one transition is acted on once)."""
    global _last_stamp_ms
    _last_stamp_ms = max(int(time.time() * 1000), _last_stamp_ms + 1)
    seconds, ms = divmod(_last_stamp_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}+0000"


def alarm_action_event(alarm: dict, state: str, previous: str, value: float) -> dict:
    """The payload CloudWatch sends to a Lambda alarm action (moto does not run alarm actions)."""
    now = state_change_time()
    metrics = []
    for m in alarm["Metrics"]:
        entry = {"id": m["Id"], "returnData": m.get("ReturnData", True)}
        if "Expression" in m:
            entry["expression"], entry["label"] = m["Expression"], m.get("Label", "")
        else:
            stat = m["MetricStat"]
            entry["metricStat"] = {
                "metric": {"namespace": stat["Metric"]["Namespace"], "name": stat["Metric"]["MetricName"],
                           "dimensions": {d["Name"]: d["Value"] for d in stat["Metric"].get("Dimensions", [])}},
                "period": stat["Period"], "stat": stat["Stat"]}
        metrics.append(entry)
    verb = "was greater than or equal to" if state == "ALARM" else "was not greater than or equal to"
    reason = f"Threshold Crossed: 1 out of the last 1 datapoints [{value}] {verb} the threshold (80.0)."
    return {
        "source": "aws.cloudwatch", "alarmArn": alarm["AlarmArn"], "accountId": ACCOUNT, "time": now, "region": REGION,
        "alarmData": {
            "alarmName": alarm["AlarmName"],
            "state": {"value": state, "reason": reason, "timestamp": now},
            "previousState": {"value": previous, "reason": "", "timestamp": now},
            "configuration": {"description": alarm.get("AlarmDescription"), "metrics": metrics},
        },
    }


def sns_wrapped(alarm: dict, value: float) -> dict:
    """The same alarm delivered through an SNS topic (alarm -> SNS -> Lambda)."""
    m1 = next(m for m in alarm["Metrics"] if "MetricStat" in m)["MetricStat"]
    message = {
        "AlarmName": alarm["AlarmName"], "AlarmDescription": alarm.get("AlarmDescription"), "AWSAccountId": ACCOUNT,
        "NewStateValue": "ALARM", "OldStateValue": "OK", "AlarmArn": alarm["AlarmArn"], "Region": "US East (N. Virginia)",
        "NewStateReason": f"Threshold Crossed: 1 out of the last 1 datapoints [{value}] was greater than or equal to the threshold (80.0).",
        "StateChangeTime": state_change_time(),
        "Trigger": {"Period": 60, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "Threshold": 80.0, "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": "",
                    "Metrics": [{"Id": "m1", "ReturnData": False, "MetricStat": {"Metric": {
                        "Namespace": m1["Metric"]["Namespace"], "MetricName": m1["Metric"]["MetricName"],
                        "Dimensions": [{"name": d["Name"], "value": d["Value"]} for d in m1["Metric"].get("Dimensions", [])]},
                        "Period": 60, "Stat": "Maximum"}},
                        {"Id": "e1", "Expression": "(m1/SERVICE_QUOTA(m1))*100", "Label": "% of quota", "ReturnData": True}]},
    }
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                         "EventSubscriptionArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:quota-alarms:demo",
                         "Sns": {"Type": "Notification", "MessageId": "demo", "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:quota-alarms",
                                 "Subject": f"ALARM: {alarm['AlarmName']}", "Message": json.dumps(message),
                                 "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                                 "SignatureVersion": "1", "Signature": "demo", "SigningCertUrl": "https://example.com/cert.pem",
                                 "UnsubscribeUrl": "https://example.com/unsubscribe", "MessageAttributes": {}}}]}


def call(port: int, function: str, event: dict) -> dict:
    """Invokes `function` through the standard Invoke API that `cargo lambda watch` serves."""
    path = ROOT / ".sandbox" / "demo-event.json"
    path.write_text(json.dumps(event))
    done = subprocess.run(["cargo", "lambda", "invoke", function, "--invoke-address", "127.0.0.1",
                           "--invoke-port", str(port), "--data-file", str(path)],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"invoking {function} failed: {done.stderr.strip() or done.stdout.strip()}")
    return json.loads(done.stdout)


def invoke(port: int, event: dict) -> dict:
    return call(port, "quota-alarm", event)["outcomes"][0]


def runtime_env(port: int, function: str, extra: dict) -> dict:
    return {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{port}/.rt/{function}",
        "AWS_LAMBDA_FUNCTION_NAME": function, "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_ENDPOINT_URL": SANDBOX, "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": ACCOUNT, "AWS_SECRET_ACCESS_KEY": "demo",
        **extra,
    }


def lambda_function(name: str, alias: str | None = None) -> str:
    iam, lam = aws("iam"), aws("lambda")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    arn = lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler",
                              Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18})["FunctionArn"]
    if alias:
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    return arn


def invocations(function: str) -> list[dict]:
    seen = json.loads(urllib.request.urlopen(SANDBOX + "/moto-api/selfheal/lambda/invocations").read())["invocations"]
    return [i for i in seen if i["account_id"] == ACCOUNT and i["function_name"] == function]


def prewarm_demo(port: int) -> None:
    rule("Pre-warming: rules/prewarm.toml -> EventBridge rules -> pings")
    plan = call(port, "prewarm", {"action": "sync", "dryRun": True})
    print("* Dry run of the sync (from the console: {\"action\": \"sync\", \"dryRun\": true})")
    for change in plan["create"]:
        print(f"    would create {change['rule']}: {change['changes'][0]}")
    scheduled = json.loads((ROOT / "tests" / "fixtures" / "eventbridge-scheduled-event.json").read_text())
    report = call(port, "prewarm", scheduled)
    print(f"* The daily schedule's event: {len(report['create'])} rules created, "
          f"{report['calls']['reads']} reads, {report['calls']['writes']} writes")
    events = aws("events")
    for r in events.list_rules(NamePrefix="selfheal-prewarm-")["Rules"]:
        target = events.list_targets_by_rule(Rule=r["Name"])["Targets"][0]
        print(f"    {r['Name']:<38} {r['ScheduleExpression']:<28} -> {target['Arn'].split(':function:')[1]}")
    again = call(port, "prewarm", {"action": "sync"})
    print(f"* Sync again: {len(again['unchanged'])} unchanged, {again['calls']['writes']} writes")
    rule_input = json.loads(events.list_targets_by_rule(Rule="selfheal-prewarm-checkout-api.live")["Targets"][0]["Input"])
    pings = call(port, "prewarm", rule_input)
    print(f"* The checkout-api rule fires (EventBridge's input to the pre-warm function): {pings['sent']} pings at once, "
          f"{pings['warm']} answered, fan-out {pings['elapsed_ms']} ms")
    print(f"    checkout-api:live received {len(invocations('checkout-api'))} synchronous invocations with {rule_input['selfhealPrewarm']['payload']}")


def replay_demo(port: int) -> None:
    rule("DLQ replay: an operator's console request")
    sqs = aws("sqs")
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(QueueName="orders", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"]
    for i in range(25):
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"order": i, "status": "failed" if i % 5 else "retry"}))
    worker_dlq = sqs.create_queue(QueueName="orders-worker-dlq")["QueueUrl"]
    for i in range(5):
        sqs.send_message(QueueUrl=worker_dlq, MessageBody=json.dumps({"orderId": i}), MessageAttributes={
            "RequestID": {"DataType": "String", "StringValue": f"req-{i}"},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": "Task timed out after 3.00 seconds"}})
    print("Seeded: orders-dlq (25 dead letters, source queue orders), orders-worker-dlq (5, from the function orders-worker).")
    for title, request in [
        ("Dry run", {"queue": "orders-dlq", "dryRun": True}),
        ("Replay the 'failed' ones only", {"queue": "orders-dlq", "filter": {"jsonField": {"path": "status", "equals": "failed"}}}),
        ("Replay the rest", {"queue": "orders-dlq"}),
        ("Replay a Lambda DLQ back into its function", {"queue": "orders-worker-dlq"}),
    ]:
        summary = call(port, "dlq-replay", request)
        print(f"* {title}: {json.dumps(request)}\n    received {summary['received']}, {'would replay' if summary['dryRun'] else 'replayed'} {summary['replayed']}, "
              f"skipped by filter {summary['skippedByFilter']}, failed {summary['failed']}, left in the DLQ {summary['remaining']}, "
              f"target {summary['target']}")
    depth = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    print(f"    orders now holds {depth['ApproximateNumberOfMessages']} messages; orders-worker was invoked "
          f"{len(invocations('orders-worker'))} times (asynchronously, original bodies)")


def rule(title: str) -> None:
    print(f"\n{'=' * 78}\n{title}\n{'=' * 78}")


def main() -> None:
    (ROOT / ".sandbox").mkdir(exist_ok=True)
    if port_taken(SANDBOX_PORT):
        fail(f"port {SANDBOX_PORT} is in use; free it or set SELFHEAL_DEMO_SANDBOX_PORT to another port")
    with ExitStack() as stack:
        start(stack, [sys.executable, "-m", "selfheal_sandbox", "--port", str(SANDBOX_PORT)],
              env={**os.environ, "PYTHONPATH": str(ROOT / "sandbox")}, log="demo-sandbox.log")
        wait_until(sandbox_up, "the sandbox")
        topic, table, alarms = seed()

        runtime_port = free_port()
        start(stack, ["cargo", "lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1",
                      "--invoke-port", str(runtime_port)], log="demo-watch.log")
        wait_until(lambda: port_taken(runtime_port), "cargo lambda watch")
        function_env = {
            **os.environ,
            "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{runtime_port}/.rt/quota-alarm",
            "AWS_LAMBDA_FUNCTION_NAME": "quota-alarm", "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_ENDPOINT_URL": SANDBOX, "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ACCOUNT, "AWS_SECRET_ACCESS_KEY": "demo",
            "SELFHEAL_TOPIC_ARN": topic, "SELFHEAL_TABLE": table, "SELFHEAL_ACCOUNT_ID": ACCOUNT,
            "SELFHEAL_RUNBOOK_BASE_URL": "https://github.com/selfheal-dev/selfheal/blob/main/runbooks",
        }
        start(stack, [str(ROOT / "target" / "debug" / "quota-alarm")], env=function_env, log="demo-function.log")
        pinger = lambda_function("selfheal-prewarm")
        lambda_function("checkout-api", alias="live")
        lambda_function("search-api")
        lambda_function("orders-worker")
        start(stack, [str(ROOT / "target" / "debug" / "prewarm")],
              env=runtime_env(runtime_port, "prewarm", {"SELFHEAL_PREWARM_FUNCTION_ARN": pinger, "SELFHEAL_RULES_DIR": EXAMPLES}), log="demo-prewarm.log")
        start(stack, [str(ROOT / "target" / "debug" / "dlq-replay")],
              env=runtime_env(runtime_port, "dlq-replay", {"SELFHEAL_TOPIC_ARN": topic, "SELFHEAL_TABLE": table, "SELFHEAL_RULES_DIR": EXAMPLES}),
              log="demo-replay.log")

        rule(f"selfheal demo - account {ACCOUNT}, sandbox {SANDBOX}")
        print("Seeded: topic with an SMS and an email subscriber, ledger table, three usage alarms,")
        print("functions to warm (checkout-api:live, search-api), dead-letter queues with failed messages.")
        print("The three functions run as Lambda runtime clients under `cargo lambda watch`.\n")
        rule("Quota healing: usage alarms -> the quota function")

        first = alarm_action_event(alarms["demo-lambda-concurrent-executions"], "ALARM", "OK", 85.2)
        steps = [
            ("Lambda concurrent executions at 85% (alarm action)", first),
            ("The same state change delivered again (AWS delivers at least once)", first),
            ("The alarm enters ALARM again, while the request is pending",
             alarm_action_event(alarms["demo-lambda-concurrent-executions"], "ALARM", "OK", 86.0)),
            ("EC2 Standard vCPUs at 90% (via SNS; no alarm pattern, found by usage metric)",
             sns_wrapped(alarms["demo-ec2-standard-vcpus"], 90.0)),
            ("ALB targets at 95% - already raised to the rule's ceiling (2000)",
             alarm_action_event(alarms["demo-alb-targets"], "ALARM", "OK", 95.0)),
        ]
        for flap in range(4):
            steps.append((f"ALB alarm flaps back to ALARM ({flap + 2} of 5)",
                          alarm_action_event(alarms["demo-alb-targets"], "ALARM", "OK", 96.0)))
        steps.append(("ALB alarm returns to OK", alarm_action_event(alarms["demo-alb-targets"], "OK", "ALARM", 70.0)))

        # An earlier increase brought targets per ALB to the rule's ceiling: nothing left to ask for.
        urllib.request.urlopen(urllib.request.Request(
            SANDBOX + "/moto-api/selfheal/servicequotas/set-value", method="POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"AccountId": ACCOUNT, "Region": REGION, "ServiceCode": "elasticloadbalancing",
                             "QuotaCode": "L-7E6692B2", "Value": 2000}).encode()))
        for title, event in steps:
            outcome = invoke(runtime_port, event)
            notification = outcome.get("notification") or {}
            page = ""
            if notification.get("sent"):
                page = f"  -> {notification['kind']} sent"
            elif notification.get("suppressed_by_cooldown"):
                page = "  -> page suppressed (cooldown)"
            print(f"* {title}\n    decision={outcome['decision']} reason={outcome['reason']}{page}\n    {outcome['summary']}")

        rule("Service Quotas: increase requests filed")
        sq = aws("service-quotas")
        for change in sq.list_requested_service_quota_change_history()["RequestedQuotas"]:
            print(f"  {change['ServiceCode']:<8} {change['QuotaCode']}  {change['QuotaName'][:48]:<48} -> {change['DesiredValue']:.0f}  {change['Status']}")

        deliveries = json.loads(urllib.request.urlopen(SANDBOX + "/moto-api/selfheal/sns/deliveries").read())["deliveries"]
        mine = [d for d in deliveries if d["topic_arn"] == topic]
        rule(f"What the on-call person received ({len(mine)} messages)")
        for d in mine:
            if d["protocol"] == "sms":
                print(f"\nSMS to {d['endpoint']} ({len(d['message'].encode())} bytes):\n  {d['message']}")
            else:
                print(f"\nEMAIL to {d['endpoint']}\nSubject: {d['subject']}\n")
                print(textwrap.indent(d["message"].rstrip(), "  "))
        print()
        prewarm_demo(runtime_port)
        replay_demo(runtime_port)
        print("\nDone: every process the demo started is stopped.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        fail("interrupted; everything it started was stopped")
