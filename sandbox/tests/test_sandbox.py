"""The sandbox's extensions of moto, checked through boto3 against an in-process server.

Run with `python -m unittest discover -s sandbox/tests -t sandbox` (scripts/test does).
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import tempfile
import time
import unittest
import urllib.request
import zipfile

import boto3
from botocore.exceptions import ClientError

# A catalog of 22 quotas (one not adjustable), so that an open-request limit can be reached.
_catalog = {
    "quotas": [
        {
            "ServiceCode": "demo",
            "ServiceName": "Demo",
            "QuotaCode": f"L-{i:08X}",
            "QuotaName": f"Quota {i}",
            "Value": 10,
            "Adjustable": i != 0,
            "Source": "the sandbox's own tests",
            "UsageMetric": {
                "MetricNamespace": "AWS/Usage",
                "MetricName": "ResourceCount",
                "MetricDimensions": {"Service": "Demo", "Resource": str(i)},
                "MetricStatisticRecommendation": "Maximum",
            },
        }
        for i in range(22)
    ]
}
_catalog_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
json.dump(_catalog, _catalog_file)
_catalog_file.close()
os.environ["SELFHEAL_SANDBOX_QUOTAS"] = _catalog_file.name

from selfheal_sandbox import accounts, autoscaling, awslambda, moto_api, servicequotas, sns, speed, sqs, sts  # noqa: E402

accounts.install()
awslambda.install()
autoscaling.install()
servicequotas.install()
sns.install()
sqs.install()
sts.install()
moto_api.install()
speed.install()

from moto.server import ThreadedMotoServer  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = _free_port()
URL = f"http://127.0.0.1:{PORT}"
_server = ThreadedMotoServer(ip_address="127.0.0.1", port=PORT, verbose=False)
_accounts = iter(range(100_000_000_000, 999_999_999_999, 7919))


def setUpModule() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    _server.start()


def tearDownModule() -> None:
    _server.stop()


def client(service: str, account: str, region: str = "us-east-1"):
    return boto3.client(
        service,
        endpoint_url=URL,
        region_name=region,
        aws_access_key_id=account,
        aws_secret_access_key="test",
    )


def post(path: str, body: dict) -> dict:
    request = urllib.request.Request(URL + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    return json.loads(urllib.request.urlopen(request).read())


def error_code(call, **kwargs) -> str:
    try:
        call(**kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError("no error")


class ServiceQuotasTest(unittest.TestCase):
    def setUp(self) -> None:
        self.account = str(next(_accounts))
        self.sq = client("service-quotas", self.account)

    def test_quotas_carry_values_and_usage_metrics_with_pagination(self) -> None:
        page = self.sq.list_service_quotas(ServiceCode="demo", MaxResults=5)
        self.assertEqual(len(page["Quotas"]), 5)
        self.assertIn("NextToken", page)
        everything = [q for p in self.sq.get_paginator("list_service_quotas").paginate(ServiceCode="demo") for q in p["Quotas"]]
        self.assertEqual(len(everything), 22)
        quota = self.sq.get_service_quota(ServiceCode="demo", QuotaCode="L-00000001")["Quota"]
        self.assertEqual(quota["Value"], 10.0)
        self.assertEqual(quota["UsageMetric"]["MetricDimensions"]["Resource"], "1")
        self.assertIn(self.account, quota["QuotaArn"])
        self.assertEqual(error_code(self.sq.get_service_quota, ServiceCode="nope", QuotaCode="L-1"), "NoSuchResourceException")
        self.assertEqual(error_code(self.sq.get_service_quota, ServiceCode="demo", QuotaCode="L-FFFFFFFF"), "NoSuchResourceException")

    def test_one_open_request_per_quota_and_the_real_errors(self) -> None:
        request = self.sq.request_service_quota_increase(ServiceCode="demo", QuotaCode="L-00000001", DesiredValue=15)
        self.assertEqual(request["RequestedQuota"]["Status"], "PENDING")
        again = dict(ServiceCode="demo", QuotaCode="L-00000001", DesiredValue=20)
        self.assertEqual(error_code(self.sq.request_service_quota_increase, **again), "ResourceAlreadyExistsException")
        not_adjustable = dict(ServiceCode="demo", QuotaCode="L-00000000", DesiredValue=20)
        self.assertEqual(error_code(self.sq.request_service_quota_increase, **not_adjustable), "IllegalArgumentException")
        too_low = dict(ServiceCode="demo", QuotaCode="L-00000002", DesiredValue=10)
        self.assertEqual(error_code(self.sq.request_service_quota_increase, **too_low), "IllegalArgumentException")

    def test_open_requests_are_limited_to_2_per_region_and_20_per_account(self) -> None:
        # Service Quotas user guide, "Service quotas for Service Quotas".
        self.sq.request_service_quota_increase(ServiceCode="demo", QuotaCode="L-00000001", DesiredValue=11)
        self.sq.request_service_quota_increase(ServiceCode="demo", QuotaCode="L-00000002", DesiredValue=11)
        third = dict(ServiceCode="demo", QuotaCode="L-00000003", DesiredValue=11)
        self.assertEqual(error_code(self.sq.request_service_quota_increase, **third), "QuotaExceededException")
        # A closed request frees its slot.
        post("/moto-api/selfheal/servicequotas/decide", {"RequestId": self._request_id("L-00000001"), "Status": "APPROVED"})
        self.sq.request_service_quota_increase(**third)
        # Two open here; 18 more across nine other Regions fill the account's 20.
        regions = ["us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "ap-south-1", "ap-northeast-1"]
        for region in regions:
            other = client("service-quotas", self.account, region)
            for code in ("L-00000001", "L-00000002"):
                other.request_service_quota_increase(ServiceCode="demo", QuotaCode=code, DesiredValue=11)
        spare = client("service-quotas", self.account, "sa-east-1")
        self.assertEqual(
            error_code(spare.request_service_quota_increase, ServiceCode="demo", QuotaCode="L-00000001", DesiredValue=11),
            "QuotaExceededException",
        )

    def _request_id(self, quota_code: str) -> str:
        history = self.sq.list_requested_service_quota_change_history_by_quota(ServiceCode="demo", QuotaCode=quota_code)
        return history["RequestedQuotas"][0]["Id"]

    def test_hidden_applied_values_service_linked_role_and_cases(self) -> None:
        post("/moto-api/selfheal/servicequotas/set-account",
             {"AccountId": self.account, "Region": "us-east-1", "HiddenAppliedValues": [["demo", "L-00000005"]]})
        self.assertEqual(error_code(self.sq.get_service_quota, ServiceCode="demo", QuotaCode="L-00000005"), "NoSuchResourceException")
        listed = [q["QuotaCode"] for p in self.sq.get_paginator("list_service_quotas").paginate(ServiceCode="demo") for q in p["Quotas"]]
        self.assertNotIn("L-00000005", listed)
        defaults = [q["QuotaCode"] for p in self.sq.get_paginator("list_aws_default_service_quotas").paginate(ServiceCode="demo") for q in p["Quotas"]]
        self.assertIn("L-00000005", defaults)
        self.assertEqual(self.sq.get_aws_default_service_quota(ServiceCode="demo", QuotaCode="L-00000005")["Quota"]["Value"], 10.0)

        no_case = self.sq.request_service_quota_increase(ServiceCode="demo", QuotaCode="L-00000006", DesiredValue=20, SupportCaseAllowed=False)
        post("/moto-api/selfheal/servicequotas/decide", {"RequestId": no_case["RequestedQuota"]["Id"], "Status": "CASE_OPENED"})
        self.assertEqual(self.sq.get_requested_service_quota_change(RequestId=no_case["RequestedQuota"]["Id"])["RequestedQuota"]["Status"], "NOT_APPROVED")
        with_case = self.sq.request_service_quota_increase(ServiceCode="demo", QuotaCode="L-00000007", DesiredValue=20)
        post("/moto-api/selfheal/servicequotas/decide", {"RequestId": with_case["RequestedQuota"]["Id"], "Status": "CASE_OPENED"})
        self.assertEqual(self.sq.get_requested_service_quota_change(RequestId=with_case["RequestedQuota"]["Id"])["RequestedQuota"]["Status"], "CASE_OPENED")
        post("/moto-api/selfheal/servicequotas/decide", {"RequestId": with_case["RequestedQuota"]["Id"], "Status": "CASE_CLOSED", "Raised": True})
        self.assertEqual(self.sq.get_service_quota(ServiceCode="demo", QuotaCode="L-00000007")["Quota"]["Value"], 20.0)

        post("/moto-api/selfheal/servicequotas/set-account", {"AccountId": self.account, "Region": "us-east-1", "ServiceLinkedRole": False})
        self.assertEqual(error_code(self.sq.request_service_quota_increase, ServiceCode="demo", QuotaCode="L-00000008", DesiredValue=20),
                         "DependencyAccessDeniedException")


    def test_history_decisions_and_approval(self) -> None:
        rid = self.sq.request_service_quota_increase(ServiceCode="demo", QuotaCode="L-00000003", DesiredValue=40)["RequestedQuota"]["Id"]
        post("/moto-api/selfheal/servicequotas/decide", {"RequestId": rid, "Status": "APPROVED"})
        change = self.sq.get_requested_service_quota_change(RequestId=rid)["RequestedQuota"]
        self.assertEqual(change["Status"], "APPROVED")
        self.assertEqual(self.sq.get_service_quota(ServiceCode="demo", QuotaCode="L-00000003")["Quota"]["Value"], 40.0)
        self.assertEqual(self.sq.get_aws_default_service_quota(ServiceCode="demo", QuotaCode="L-00000003")["Quota"]["Value"], 10.0)
        by_quota = self.sq.list_requested_service_quota_change_history_by_quota(ServiceCode="demo", QuotaCode="L-00000003")
        self.assertEqual([r["Id"] for r in by_quota["RequestedQuotas"]], [rid])
        denied = self.sq.request_service_quota_increase(ServiceCode="demo", QuotaCode="L-00000003", DesiredValue=80)["RequestedQuota"]["Id"]
        post("/moto-api/selfheal/servicequotas/decide", {"RequestId": denied, "Status": "DENIED"})
        filtered = self.sq.list_requested_service_quota_change_history_by_quota(ServiceCode="demo", QuotaCode="L-00000003", Status="DENIED")
        self.assertEqual([r["Id"] for r in filtered["RequestedQuotas"]], [denied])
        self.assertEqual(error_code(self.sq.get_requested_service_quota_change, RequestId="missing"), "NoSuchResourceException")

    def test_automatic_management_starts_updates_and_stops(self) -> None:
        sq = client("service-quotas", str(next(_accounts)))
        with self.assertRaises(ClientError) as never:
            sq.get_auto_management_configuration()
        self.assertEqual(never.exception.response["Error"]["Code"], "NoSuchResourceException")
        with self.assertRaises(ClientError) as bad:
            sq.start_auto_management(OptInLevel="ACCOUNT", OptInType="Sometimes")
        self.assertEqual(bad.exception.response["Error"]["Code"], "IllegalArgumentException")
        sq.start_auto_management(OptInLevel="ACCOUNT", OptInType="NotifyAndAdjust",
                                 ExclusionList={"demo": ["L-00000002"]})
        config = sq.get_auto_management_configuration()
        self.assertEqual((config["OptInStatus"], config["OptInType"]), ("ENABLED", "NotifyAndAdjust"))
        self.assertEqual(config["ExclusionList"], {"demo": [{"QuotaCode": "L-00000002", "QuotaName": "Quota 2"}]})
        sq.update_auto_management(OptInType="NotifyOnly")
        self.assertEqual(sq.get_auto_management_configuration()["OptInType"], "NotifyOnly")
        sq.stop_auto_management()
        self.assertEqual(sq.get_auto_management_configuration()["OptInStatus"], "DISABLED")
        with self.assertRaises(ClientError) as stopped:
            sq.update_auto_management(OptInType="NotifyOnly")
        self.assertEqual(stopped.exception.response["Error"]["Code"], "NoSuchResourceException")

    def test_the_utilization_report_is_computed_from_usage_paged_and_expires(self) -> None:
        sq = self.sq
        for code, usage in (("L-00000003", 9), ("L-00000004", 5), ("L-00000005", 10)):
            post("/moto-api/selfheal/servicequotas/set-usage", {"AccountId": self.account, "ServiceCode": "demo",
                                              "QuotaCode": code, "Usage": usage})
        started = sq.start_quota_utilization_report()
        self.assertEqual(started["Status"], "PENDING")
        report_id = started["ReportId"]
        self.assertEqual(sq.get_quota_utilization_report(ReportId=report_id)["Status"], "IN_PROGRESS")
        first = sq.get_quota_utilization_report(ReportId=report_id, MaxResults=2)
        self.assertEqual((first["Status"], first["TotalCount"]), ("COMPLETED", 3))
        self.assertEqual([q["Utilization"] for q in first["Quotas"]], [100.0, 90.0])
        rest = sq.get_quota_utilization_report(ReportId=report_id, MaxResults=2, NextToken=first["NextToken"])
        self.assertEqual([q["QuotaCode"] for q in rest["Quotas"]], ["L-00000004"])
        with self.assertRaises(ClientError) as bad:
            sq.get_quota_utilization_report(ReportId=report_id, MaxResults=1001)
        self.assertEqual(bad.exception.response["Error"]["Code"], "IllegalArgumentException")
        post("/moto-api/selfheal/servicequotas/expire-reports", {"AccountId": self.account})
        with self.assertRaises(ClientError) as expired:
            sq.get_quota_utilization_report(ReportId=report_id)
        self.assertEqual(expired.exception.response["Error"]["Code"], "NoSuchResourceException")
        post("/moto-api/selfheal/servicequotas/set-account", {"AccountId": self.account, "ReportFails": True})
        failing = sq.start_quota_utilization_report()["ReportId"]
        sq.get_quota_utilization_report(ReportId=failing)
        self.assertEqual(sq.get_quota_utilization_report(ReportId=failing)["Status"], "FAILED")

    def test_auto_approve_applies_a_request_on_submission(self) -> None:
        sq = self.sq
        post("/moto-api/selfheal/servicequotas/set-account",
             {"AccountId": self.account, "Region": "us-east-1", "AutoApprove": True})
        answer = sq.request_service_quota_increase(ServiceCode="demo", QuotaCode="L-00000004", DesiredValue=12)
        # The answer may still say PENDING, as AWS's can; the request is approved and applied already.
        self.assertEqual(answer["RequestedQuota"]["Status"], "PENDING")
        history = sq.list_requested_service_quota_change_history_by_quota(ServiceCode="demo", QuotaCode="L-00000004")
        self.assertEqual([r["Status"] for r in history["RequestedQuotas"]], ["APPROVED"])
        self.assertEqual(sq.get_service_quota(ServiceCode="demo", QuotaCode="L-00000004")["Quota"]["Value"], 12)
        # Nothing is open, so the next request is judged against the new value.
        with self.assertRaises(ClientError) as same:
            sq.request_service_quota_increase(ServiceCode="demo", QuotaCode="L-00000004", DesiredValue=12)
        self.assertEqual(same.exception.response["Error"]["Code"], "IllegalArgumentException")

    def test_a_recent_report_can_be_handed_out_again(self) -> None:
        sq = self.sq
        post("/moto-api/selfheal/servicequotas/set-account", {"AccountId": self.account, "ReuseReports": True})
        post("/moto-api/selfheal/servicequotas/set-usage",
             {"AccountId": self.account, "ServiceCode": "demo", "QuotaCode": "L-00000004", "Usage": 9})
        first = sq.start_quota_utilization_report()["ReportId"]
        again = sq.start_quota_utilization_report()
        self.assertEqual(again["ReportId"], first)
        self.assertIn("reused", again["Message"])
        post("/moto-api/selfheal/servicequotas/expire-reports", {"AccountId": self.account})
        self.assertNotEqual(sq.start_quota_utilization_report()["ReportId"], first)

    def test_accounts_are_apart(self) -> None:
        self.sq.request_service_quota_increase(ServiceCode="demo", QuotaCode="L-00000004", DesiredValue=12)
        other = client("service-quotas", str(next(_accounts)))
        history = other.list_requested_service_quota_change_history_by_quota(ServiceCode="demo", QuotaCode="L-00000004")
        self.assertEqual(history["RequestedQuotas"], [])


class AssumeRoleTest(unittest.TestCase):
    def test_a_missing_or_untrusting_role_is_refused_and_a_trusting_one_acts_in_its_account(self) -> None:
        hub, spoke, stranger = (str(next(_accounts)) for _ in range(3))
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{hub}:role/quota"}, "Action": "sts:AssumeRole"}
            ],
        }
        client("iam", spoke).create_role(RoleName="selfheal-spoke", AssumeRolePolicyDocument=json.dumps(trust))
        role = f"arn:aws:iam::{spoke}:role/selfheal-spoke"
        missing = f"arn:aws:iam::{stranger}:role/selfheal-spoke"
        self.assertEqual(error_code(client("sts", hub).assume_role, RoleArn=missing, RoleSessionName="hub-session"), "AccessDenied")
        self.assertEqual(error_code(client("sts", stranger).assume_role, RoleArn=role, RoleSessionName="hub-session"), "AccessDenied")
        credentials = client("sts", hub).assume_role(RoleArn=role, RoleSessionName="hub-session")["Credentials"]
        assumed = boto3.client(
            "sts",
            endpoint_url=URL,
            region_name="us-east-1",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        self.assertEqual(assumed.get_caller_identity()["Account"], spoke)

    def test_trust_policies_are_read_as_aws_writes_them(self) -> None:
        def policy(principal) -> str:
            return json.dumps({"Statement": {"Effect": "Allow", "Principal": principal, "Action": ["sts:AssumeRole"]}})

        self.assertTrue(sts.trusts(policy("*"), "111111111111"))
        self.assertTrue(sts.trusts(policy({"AWS": "111111111111"}), "111111111111"))
        self.assertTrue(sts.trusts(policy({"AWS": ["arn:aws:iam::111111111111:root"]}), "111111111111"))
        self.assertFalse(sts.trusts(policy({"AWS": "arn:aws:iam::222222222222:root"}), "111111111111"))
        self.assertFalse(sts.trusts(policy({"Service": "lambda.amazonaws.com"}), "111111111111"))
        self.assertFalse(sts.trusts("not json", "111111111111"))


class SnsAttributesTest(unittest.TestCase):
    def test_filters_match_attributes_that_a_json_message_does_not_carry(self) -> None:
        account = str(next(_accounts))
        sns, sqs = client("sns", account), client("sqs", account)
        topic = sns.create_topic(Name="pages")["TopicArn"]
        queue = sqs.create_queue(QueueName="team")["QueueUrl"]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=f"arn:aws:sqs:us-east-1:{account}:team",
            Attributes={"FilterPolicy": json.dumps({"owner": ["payments"]}), "RawMessageDelivery": "true"},
        )
        attrs = lambda owner: {"owner": {"DataType": "String", "StringValue": owner}}  # noqa: E731
        sns.publish(TopicArn=topic, Message=json.dumps({"default": "json page"}), MessageStructure="json",
                    MessageAttributes=attrs("payments"))
        sns.publish(TopicArn=topic, Message=json.dumps({"default": "other team"}), MessageStructure="json",
                    MessageAttributes=attrs("search"))
        sns.publish(TopicArn=topic, Message="string page", MessageAttributes=attrs("payments"))
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
        by_body = {m["Body"]: m.get("MessageAttributes") for m in received}
        self.assertEqual(set(by_body), {"json page", "string page"})
        self.assertIsNone(by_body["json page"])
        self.assertEqual(by_body["string page"]["owner"]["StringValue"], "payments")


class ApplicationAutoScalingTest(unittest.TestCase):
    def test_actions_need_a_target_go_with_it_and_fire_on_the_alias(self) -> None:
        account = str(next(_accounts))
        scaling = client("application-autoscaling", account)
        target = dict(
            ServiceNamespace="lambda",
            ScalableDimension="lambda:function:ProvisionedConcurrency",
            ResourceId="function:api:live",
        )
        action = dict(target, ScheduledActionName="start", Schedule="cron(0 8 * * ? *)", Timezone="Europe/Berlin")
        self.assertEqual(
            error_code(scaling.put_scheduled_action, **action, ScalableTargetAction={"MinCapacity": 4, "MaxCapacity": 4}),
            "ObjectNotFoundException",
        )
        scaling.register_scalable_target(**target, MinCapacity=0, MaxCapacity=4)
        scaling.put_scheduled_action(**action, ScalableTargetAction={"MinCapacity": 4, "MaxCapacity": 4})
        fired = post("/moto-api/selfheal/autoscaling/fire", {"AccountId": account, "Region": "us-east-1", "ScheduledActionName": "start"})
        self.assertEqual(fired["Capacity"], 4)
        key = (account, "us-east-1", "api", "live")
        self.assertEqual(awslambda.PROVISIONED[key]["AllocatedProvisionedConcurrentExecutions"], 4)
        # A lower maximum scales in when Application Auto Scaling gets to it (settle).
        scaling.register_scalable_target(**target, MinCapacity=0, MaxCapacity=2)
        self.assertEqual(awslambda.PROVISIONED[key]["AllocatedProvisionedConcurrentExecutions"], 4)
        post("/moto-api/selfheal/autoscaling/settle", {"AccountId": account, "Region": "us-east-1"})
        self.assertEqual(awslambda.PROVISIONED[key]["AllocatedProvisionedConcurrentExecutions"], 2)
        # Lowered and deregistered at once: the actions go, the configuration stays until deleted.
        scaling.register_scalable_target(**target, MinCapacity=0, MaxCapacity=0)
        scaling.deregister_scalable_target(**target)
        post("/moto-api/selfheal/autoscaling/settle", {"AccountId": account, "Region": "us-east-1"})
        self.assertEqual(scaling.describe_scheduled_actions(ServiceNamespace="lambda")["ScheduledActions"], [])
        self.assertIn(key, awslambda.PROVISIONED)


class SqsAtDepthTest(unittest.TestCase):
    def test_a_receive_at_10000_deep_costs_about_what_it_costs_at_10(self) -> None:
        import time

        from moto.sqs.models import sqs_backends

        account = str(next(_accounts))
        sqs_client = client("sqs", account)
        backend = sqs_backends[account]["us-east-1"]
        timings = {}
        for depth in (10, 10_000):
            url = sqs_client.create_queue(QueueName=f"depth-{depth}")["QueueUrl"]
            for i in range(depth):
                backend.send_message(f"depth-{depth}", f"message {i}")
            start = time.perf_counter()
            received = 0
            for _ in range(5):
                batch = sqs_client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
                received += len(batch)
                if not batch:
                    continue
                sqs_client.delete_message_batch(
                    QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
                )
            timings[depth] = (time.perf_counter() - start) / 5
            self.assertEqual(received, min(depth, 50))
            self.assertEqual(len(backend.get_queue(f"depth-{depth}")._messages), depth - min(depth, 50))
        # moto alone: about 7 s a receive at 10,000 deep (0.7 ms per waiting message); the sandbox
        # answers in milliseconds. A bound seven times under moto's cost, not a ratio of two small
        # timings that a busy machine can skew.
        self.assertLess(timings[10_000], 1.0, timings)


class SpeedTest(unittest.TestCase):
    def test_receipt_handles_keep_moto_s_form_and_differ(self) -> None:
        sqs_client = client("sqs", str(next(_accounts)))
        url = sqs_client.create_queue(QueueName="handles")["QueueUrl"]
        for i in range(3):
            sqs_client.send_message(QueueUrl=url, MessageBody=f"m{i}")
        messages = sqs_client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        handles = {m["ReceiptHandle"] for m in messages}
        self.assertEqual(len(handles), len(messages))
        for handle in handles:
            self.assertRegex(handle, r"^[a-z]{185}$")


class SqsBatchSizeTest(unittest.TestCase):
    def test_a_batch_is_sized_in_bytes_with_its_attributes(self) -> None:
        sqs_client = client("sqs", str(next(_accounts)))
        url = sqs_client.create_queue(QueueName="sized")["QueueUrl"]
        attribute = {"tenant": {"DataType": "String", "StringValue": "acme"}}
        # Five bodies of 200 KiB and their attributes: under 1 MiB.
        body = "x" * (200 * 1024)
        fits = [{"Id": str(i), "MessageBody": body, "MessageAttributes": attribute} for i in range(5)]
        self.assertEqual(len(sqs_client.send_message_batch(QueueUrl=url, Entries=fits)["Successful"]), 5)
        # Bodies at exactly 1 MiB in all: the attributes push the request over.
        exact = [{"Id": str(i), "MessageBody": "y" * (262_144), "MessageAttributes": attribute} for i in range(4)]
        with self.assertRaises(ClientError) as raised:
            sqs_client.send_message_batch(QueueUrl=url, Entries=exact)
        self.assertIn("BatchRequestTooLong", str(raised.exception))
        # Multi-byte characters count in bytes: 350,000 of them are 1,050,000 bytes.
        wide = [{"Id": str(i), "MessageBody": "é" * 175_000} for i in range(3)]
        with self.assertRaises(ClientError):
            sqs_client.send_message_batch(QueueUrl=url, Entries=wide)


class SnsAndMotoApiTest(unittest.TestCase):
    def test_email_and_sms_receive_their_own_text(self) -> None:
        sns_client = client("sns", str(next(_accounts)))
        topic = sns_client.create_topic(Name="escalations")["TopicArn"]
        sns_client.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
        sns_client.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")
        message = json.dumps({"default": "d", "sms": "short", "email": "long"})
        sns_client.publish(TopicArn=topic, Subject="quota", MessageStructure="json", Message=message)
        deliveries = json.loads(urllib.request.urlopen(URL + "/moto-api/selfheal/sns/deliveries").read())["deliveries"]
        mine = {d["protocol"]: d["message"] for d in deliveries if d["topic_arn"] == topic}
        self.assertEqual(mine, {"sms": "short", "email": "long"})
        with self.assertRaises(ClientError) as raised:
            sns_client.publish(TopicArn=topic, Subject="line\nbreak", Message="x")
        self.assertEqual(raised.exception.response["Error"]["Code"], "InvalidParameter")

    def test_data_json_answers_once_a_lambda_function_exists(self) -> None:
        account = str(next(_accounts))
        post("/moto-api/config", {"lambda": {"use_docker": False}})
        role = client("iam", account).create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("index.py", "def handler(event, context):\n    return event\n")
        client("lambda", account).create_function(
            FunctionName="fn", Runtime="python3.11", Role=role, Handler="index.handler", Code={"ZipFile": archive.getvalue()}
        )
        data = json.loads(urllib.request.urlopen(URL + "/moto-api/data.json").read())
        functions = data["awslambda"]["LambdaFunction"]
        self.assertIn("fn", [f["function_name"] for f in functions])

    def _function(self, account: str, name: str) -> str:
        post("/moto-api/config", {"lambda": {"use_docker": False}})
        role = client("iam", account).create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("index.py", "def handler(event, context):\n    return event\n")
        lam = client("lambda", account)
        lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler", Code={"ZipFile": archive.getvalue()}
        )
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
        return version

    def test_a_repeated_statement_id_conflicts_as_in_lambda(self) -> None:
        account = str(next(_accounts))
        self._function(account, "allowed")
        lam = client("lambda", account)
        grant = {
            "FunctionName": "allowed",
            "StatementId": "selfheal-prewarm-allowed",
            "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
        }
        lam.add_permission(**grant)
        with self.assertRaises(ClientError) as raised:
            lam.add_permission(**grant)
        error = raised.exception.response
        self.assertEqual(error["Error"]["Code"], "ResourceConflictException")
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], 409)
        self.assertIn("(selfheal-prewarm-allowed) provided already exists", error["Error"]["Message"])
        # An alias has a policy of its own: the same id is free there, once.
        lam.add_permission(**grant, Qualifier="live")
        with self.assertRaises(ClientError):
            lam.add_permission(**grant, Qualifier="live")

    def test_provisioned_concurrency_with_lambdas_errors(self) -> None:
        account = str(next(_accounts))
        self._function(account, "warm")
        lam = client("lambda", account)
        with self.assertRaises(ClientError) as raised:
            lam.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="live")
        self.assertEqual(raised.exception.response["Error"]["Code"], "ProvisionedConcurrencyConfigNotFoundException")
        with self.assertRaises(ClientError) as raised:
            lam.put_provisioned_concurrency_config(
                FunctionName="warm", Qualifier="$LATEST", ProvisionedConcurrentExecutions=2
            )
        self.assertEqual(raised.exception.response["Error"]["Code"], "InvalidParameterValueException")
        lam.put_provisioned_concurrency_config(FunctionName="warm", Qualifier="live", ProvisionedConcurrentExecutions=5)
        config = lam.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="live")
        self.assertEqual((config["AllocatedProvisionedConcurrentExecutions"], config["Status"]), (5, "READY"))
        listed = lam.list_provisioned_concurrency_configs(FunctionName="warm")["ProvisionedConcurrencyConfigs"]
        self.assertEqual([c["FunctionArn"].rsplit(":", 2)[-2:] for c in listed], [["warm", "live"]])
        lam.delete_provisioned_concurrency_config(FunctionName="warm", Qualifier="live")
        with self.assertRaises(ClientError):
            lam.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="live")
        self.assertEqual(lam.list_provisioned_concurrency_configs(FunctionName="warm")["ProvisionedConcurrencyConfigs"], [])

    def test_invoke_faults_are_lambdas_own(self) -> None:
        account = str(next(_accounts))
        self._function(account, "flaky")
        lam = client("lambda", account)
        post("/moto-api/selfheal/lambda/behaviour", {"account_id": account, "function": "flaky", "fail": "throttle"})
        with self.assertRaises(ClientError) as raised:  # after boto3's own retries
            lam.invoke(FunctionName="flaky", Payload=b"{}")
        self.assertEqual(raised.exception.response["Error"]["Code"], "TooManyRequestsException")
        post("/moto-api/selfheal/lambda/behaviour", {"account_id": account, "function": "flaky", "fail": "throttle", "times": 1})
        self.assertEqual(lam.invoke(FunctionName="flaky", Payload=b"{}")["StatusCode"], 200)
        post("/moto-api/selfheal/lambda/behaviour", {"account_id": account, "function": "flaky", "fail": "error"})
        answer = lam.invoke(FunctionName="flaky", Payload=b"{}")
        self.assertEqual(answer["FunctionError"], "Unhandled")
        post("/moto-api/selfheal/lambda/behaviour", {"account_id": account, "function": "flaky", "delay_ms": 300})
        started = time.monotonic()
        lam.invoke(FunctionName="flaky", Payload=b"{}")
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        with self.assertRaises(ClientError) as raised:
            lam.invoke(FunctionName="missing", Payload=b"{}")
        self.assertEqual(raised.exception.response["Error"]["Code"], "ResourceNotFoundException")


if __name__ == "__main__":
    unittest.main()
