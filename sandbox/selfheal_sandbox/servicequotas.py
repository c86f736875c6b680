"""A Service Quotas model for moto: a catalog of real quotas, applied values, and increase requests.

moto 5.2.5 knows only `vpc` defaults and lacks ListServiceQuotas, the increase request and the request
history. This module replaces its backend methods and adds the missing operations to its response
class; moto's server dispatches each `X-Amz-Target` action to the method of the same snake_case name.

What it models, and where each behaviour is documented (botocore `service-quotas` 2019-06-24
`service-2.json` unless said otherwise):
- `GetServiceQuota` / `ListServiceQuotas`: "If the applied quota value is not available for a quota, the
  quota is not retrieved" (both operations' documentation): an account's quota can be marked so
  (`set-account`'s `HiddenAppliedValues`); `GetAWSDefaultServiceQuota` and `ListAWSDefaultServiceQuotas`
  still answer for it. A catalog entry may carry an `ErrorReason` and no `Value`, as the `ServiceQuota`
  shape allows.
- `RequestServiceQuotaIncrease`: `DesiredValue` is a `QuotaValue` (0 to 10,000,000,000); one open request
  per quota (`ResourceAlreadyExistsException`); "20 active quota increase requests per account, 2 per
  Region" (Service Quotas user guide, "Service quotas for Service Quotas", not adjustable): a request past
  either answers `QuotaExceededException` (the operation's documented error for too many open requests).
  Active is taken to mean `PENDING` or `CASE_OPENED` (not spelled out there). A test may set a lower cap
  per Region (`set-account`'s `OpenRequestLimit`); `DependencyAccessDeniedException` when Service Quotas cannot create
  its service-linked role (`set-account`'s `ServiceLinkedRole: false`); `SupportCaseAllowed` (default
  true) is kept, and a request that needs a review (`decide` to `CASE_OPENED`) without it ends
  `NOT_APPROVED` instead, with no case.
- Approval on submission (`set-account`'s `AutoApprove`): "Smaller increases are automatically approved"
  (Service Quotas user guide, "Requesting a quota increase"); the request is `APPROVED` and its value
  applied at once, while the answer to `RequestServiceQuotaIncrease` still says `PENDING`. How soon AWS
  approves, and whether its answer can already say `APPROVED`, is not documented.
- Statuses: `PENDING`, `CASE_OPENED`, `APPROVED`, `DENIED`, `CASE_CLOSED`, `NOT_APPROVED`,
  `INVALID_REQUEST` (`RequestStatus`).
- Automatic Management (`StartAutoManagement`, `UpdateAutoManagement`, `StopAutoManagement`,
  `GetAutoManagementConfiguration`; fields and errors from aws-sdk-servicequotas 1.121): `OptInLevel`
  `ACCOUNT` (the only level), `OptInType` `NotifyOnly` or `NotifyAndAdjust` (the SDK documents that only
  `NotifyOnly` is available today; the sandbox takes both so that tests can exercise a quota AWS adjusts),
  `ExclusionList` service code -> quota codes in, service code -> `QuotaInfo {QuotaCode, QuotaName}` out;
  anything else is `IllegalArgumentException`. Not verified against AWS: what `Get...` answers before
  Automatic Management was ever started (here `NoSuchResourceException`), and after a stop (here the
  configuration with `OptInStatus` `DISABLED`).
- The utilization report (`StartQuotaUtilizationReport`, `GetQuotaUtilizationReport`; API reference):
  asynchronous (`PENDING`, `IN_PROGRESS`, `COMPLETED`, `FAILED`), rows of `QuotaUtilizationInfo` sorted by
  utilization, highest first, up to 1,000 a page (`MaxResults` 1 to 1,000), deleted 15 minutes after it
  was generated (then `NoSuchResourceException`). Utilization is usage / applied value x 100, for the quotas
  a test gave a usage (`set-usage`); the others have no utilization data and are not in the report. Here
  a report is `IN_PROGRESS` at its first read and `COMPLETED` from the second; `set-account`'s
  `ReportFails: true` makes the next reports `FAILED`; `expire-reports` ages an account's reports past
  their 15 minutes.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from typing import Any

from moto.servicequotas import responses as sq_responses

from .errors import (
    DependencyAccessDeniedException,
    IllegalArgumentException,
    NoSuchResourceException,
    QuotaExceededException,
    ResourceAlreadyExistsException,
)

OPEN_STATUSES = ("PENDING", "CASE_OPENED")
# Service Quotas user guide, "Service quotas for Service Quotas": active increase requests.
ACCOUNT_OPEN_LIMIT = 20
REGION_OPEN_LIMIT = 2
FINAL_STATUSES = ("APPROVED", "DENIED", "CASE_CLOSED", "NOT_APPROVED", "INVALID_REQUEST")
MAX_DESIRED_VALUE = 10_000_000_000  # the QuotaValue shape's max
DEFAULT_CATALOG = os.path.join(os.path.dirname(__file__), "quotas.json")

_lock = threading.RLock()


def load_catalog(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    quotas = data["quotas"] if isinstance(data, dict) else data
    for q in quotas:
        for field in ("ServiceCode", "ServiceName", "QuotaCode", "QuotaName", "Adjustable", "Source"):
            if field not in q:
                raise ValueError(f"{path}: quota {q.get('QuotaCode', '?')} lacks {field}")
        if "Value" not in q and "ErrorReason" not in q:
            raise ValueError(f"{path}: quota {q['QuotaCode']} has neither a Value nor an ErrorReason")
    return quotas


CATALOG: list[dict[str, Any]] = load_catalog(os.environ.get("SELFHEAL_SANDBOX_QUOTAS", DEFAULT_CATALOG))


def _quota_arn(region: str, account_id: str, service: str, code: str) -> str:
    return f"arn:aws:servicequotas:{region}:{account_id}:{service}/{code}"


class QuotaState:
    """One account and Region: applied values and the requests made."""

    def __init__(self, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self.applied: dict[tuple[str, str], float] = {}
        self.requests: list[dict[str, Any]] = []
        # Quotas whose applied value Service Quotas does not report in this account.
        self.hidden_applied: set[tuple[str, str]] = set()
        self.open_request_limit: int | None = None
        self.service_linked_role = True
        # Automatic Management's configuration; None until it is first started.
        self.auto_management: dict[str, Any] | None = None
        # Usage per quota, set by tests; the utilization report is computed from it.
        self.usage: dict[tuple[str, str], float] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self.reports_fail = False
        # Requests approved and applied the moment they are filed, as AWS does for smaller increases.
        self.auto_approve = False
        # StartQuotaUtilizationReport hands out the latest report still kept instead of a new one.
        self.reuse_reports = False

    def default(self, service_code: str, quota_code: str) -> dict[str, Any]:
        services = {q["ServiceCode"] for q in CATALOG}
        if service_code not in services:
            raise NoSuchResourceException(
                f"The service {service_code} is not available in the current Region."
            )
        for q in CATALOG:
            if q["ServiceCode"] == service_code and q["QuotaCode"] == quota_code:
                return q
        raise NoSuchResourceException(f"The quota {quota_code} of {service_code} does not exist.")

    def applied_reported(self, q: dict[str, Any]) -> bool:
        return (q["ServiceCode"], q["QuotaCode"]) not in self.hidden_applied

    def describe(self, q: dict[str, Any], applied: bool) -> dict[str, Any]:
        key = (q["ServiceCode"], q["QuotaCode"])
        out = {
            "ServiceCode": q["ServiceCode"],
            "ServiceName": q["ServiceName"],
            "QuotaArn": _quota_arn(self.region, self.account_id, q["ServiceCode"], q["QuotaCode"]),
            "QuotaCode": q["QuotaCode"],
            "QuotaName": q["QuotaName"],
            "Unit": q.get("Unit", "None"),
            "Adjustable": bool(q["Adjustable"]),
            "GlobalQuota": bool(q.get("GlobalQuota", False)),
            "QuotaAppliedAtLevel": "ACCOUNT",
        }
        if "Value" in q:
            out["Value"] = float(self.applied.get(key, q["Value"]) if applied else q["Value"])
        if q.get("ErrorReason"):
            out["ErrorReason"] = q["ErrorReason"]
        if q.get("UsageMetric"):
            out["UsageMetric"] = q["UsageMetric"]
        return out


_states: dict[tuple[str, str], QuotaState] = {}


def state(account_id: str, region: str) -> QuotaState:
    with _lock:
        key = (account_id, region)
        if key not in _states:
            _states[key] = QuotaState(region, account_id)
        return _states[key]


def reset() -> None:
    with _lock:
        _states.clear()


def _page(items: list[Any], params: dict[str, Any], limit: int = 100) -> tuple[list[Any], str | None]:
    max_results = int(params.get("MaxResults") or limit)
    if not 1 <= max_results <= limit:
        raise IllegalArgumentException(f"MaxResults must be between 1 and {limit}.")
    start = int(params.get("NextToken") or 0)
    page = items[start : start + max_results]
    token = str(start + max_results) if start + max_results < len(items) else None
    return page, token


def _with_token(body: dict[str, Any], token: str | None) -> str:
    if token:
        body["NextToken"] = token
    return json.dumps(body)


class ServiceQuotasResponse(sq_responses.ServiceQuotasResponse):
    """The operations selfheal uses, answered from the catalog and the request ledger."""

    @property
    def quotas(self) -> QuotaState:
        return state(self.current_account, self.region)

    def _params(self) -> dict[str, Any]:
        return json.loads(self.body or "{}")

    def list_services(self) -> str:
        seen: dict[str, str] = {}
        for q in CATALOG:
            seen.setdefault(q["ServiceCode"], q["ServiceName"])
        services = [{"ServiceCode": c, "ServiceName": n} for c, n in sorted(seen.items())]
        page, token = _page(services, self._params())
        return _with_token({"Services": page}, token)

    def _quotas_of(self, service_code: str, applied: bool) -> list[dict[str, Any]]:
        found = [q for q in CATALOG if q["ServiceCode"] == service_code]
        if not found:
            raise NoSuchResourceException(f"The service {service_code} is not available in the current Region.")
        if applied:
            found = [q for q in found if self.quotas.applied_reported(q)]
        return [self.quotas.describe(q, applied) for q in found]

    def list_service_quotas(self) -> str:
        params = self._params()
        with _lock:
            quotas = self._quotas_of(params.get("ServiceCode", ""), applied=True)
        if params.get("QuotaCode"):
            quotas = [q for q in quotas if q["QuotaCode"] == params["QuotaCode"]]
        page, token = _page(quotas, params)
        return _with_token({"Quotas": page}, token)

    def list_aws_default_service_quotas(self) -> str:
        params = self._params()
        with _lock:
            quotas = self._quotas_of(params.get("ServiceCode", ""), applied=False)
        page, token = _page(quotas, params)
        return _with_token({"Quotas": page}, token)

    def get_service_quota(self) -> str:
        p = self._params()
        with _lock:
            q = self.quotas.default(p.get("ServiceCode", ""), p.get("QuotaCode", ""))
            if not self.quotas.applied_reported(q):
                raise NoSuchResourceException(f"The quota {q['QuotaCode']} of {q['ServiceCode']} does not exist.")
            return json.dumps({"Quota": self.quotas.describe(q, applied=True)})

    def get_aws_default_service_quota(self) -> str:
        p = self._params()
        with _lock:
            q = self.quotas.default(p.get("ServiceCode", ""), p.get("QuotaCode", ""))
            return json.dumps({"Quota": self.quotas.describe(q, applied=False)})

    def request_service_quota_increase(self) -> str:
        p = self._params()
        desired = p.get("DesiredValue")
        with _lock:
            s = self.quotas
            q = s.default(p.get("ServiceCode", ""), p.get("QuotaCode", ""))
            if not isinstance(desired, (int, float)) or not 0 <= desired <= MAX_DESIRED_VALUE:
                raise IllegalArgumentException(f"DesiredValue must be a number from 0 to {MAX_DESIRED_VALUE}.")
            if not q["Adjustable"]:
                raise IllegalArgumentException(f"The quota {q['QuotaCode']} is not adjustable.")
            if not s.service_linked_role:
                raise DependencyAccessDeniedException(
                    "Service Quotas could not create the service-linked role AWSServiceRoleForServiceQuotas."
                )
            current = s.applied.get((q["ServiceCode"], q["QuotaCode"]), q.get("Value", 0.0))
            if desired <= current:
                raise IllegalArgumentException(
                    f"DesiredValue {desired} must be greater than the current value {current}."
                )
            open_requests = [r for r in s.requests if r["Status"] in OPEN_STATUSES]
            if any(r["QuotaCode"] == q["QuotaCode"] and r["ServiceCode"] == q["ServiceCode"] for r in open_requests):
                raise ResourceAlreadyExistsException(
                    f"A quota increase request for {q['QuotaCode']} is already open."
                )
            region_limit = REGION_OPEN_LIMIT if s.open_request_limit is None else min(REGION_OPEN_LIMIT, s.open_request_limit)
            account_open = sum(
                1
                for (account, _), other in _states.items()
                if account == s.account_id
                for r in other.requests
                if r["Status"] in OPEN_STATUSES
            )
            if len(open_requests) >= region_limit or account_open >= ACCOUNT_OPEN_LIMIT:
                raise QuotaExceededException("You have exceeded your service quota for open quota increase requests.")
            now = time.time()
            request = {
                "Id": uuid.uuid4().hex,
                "ServiceCode": q["ServiceCode"],
                "ServiceName": q["ServiceName"],
                "QuotaCode": q["QuotaCode"],
                "QuotaName": q["QuotaName"],
                "DesiredValue": float(desired),
                "Status": "PENDING",
                "Created": now,
                "LastUpdated": now,
                "Requester": json.dumps({"accountId": s.account_id, "callerArn": "sandbox"}),
                "QuotaArn": _quota_arn(s.region, s.account_id, q["ServiceCode"], q["QuotaCode"]),
                "GlobalQuota": bool(q.get("GlobalQuota", False)),
                "Unit": q.get("Unit", "None"),
                "QuotaRequestedAtLevel": "ACCOUNT",
                "SupportCaseAllowed": bool(p.get("SupportCaseAllowed", True)),
            }
            s.requests.append(request)
            answer = _public(request)
            if s.auto_approve:
                # Approved and applied on submission; the answer still says PENDING, as AWS's may.
                request["Status"] = "APPROVED"
                s.applied[(q["ServiceCode"], q["QuotaCode"])] = float(desired)
            return json.dumps({"RequestedQuota": answer})

    def get_requested_service_quota_change(self) -> str:
        request_id = self._params().get("RequestId", "")
        with _lock:
            for r in self.quotas.requests:
                if r["Id"] == request_id:
                    return json.dumps({"RequestedQuota": _public(r)})
        raise NoSuchResourceException(f"The request {request_id} does not exist.")

    def _history(self, p: dict[str, Any], by_quota: bool) -> str:
        status = p.get("Status")
        if status is not None and status not in OPEN_STATUSES + FINAL_STATUSES:
            raise IllegalArgumentException(f"Status {status} is not valid.")
        with _lock:
            if by_quota:
                self.quotas.default(p.get("ServiceCode", ""), p.get("QuotaCode", ""))
            found = [
                _public(r)
                for r in self.quotas.requests
                if (not p.get("ServiceCode") or r["ServiceCode"] == p["ServiceCode"])
                and (not by_quota or r["QuotaCode"] == p.get("QuotaCode"))
                and (status is None or r["Status"] == status)
            ]
        page, token = _page(found, p)
        return _with_token({"RequestedQuotas": page}, token)

    def _auto_management_input(self, p: dict[str, Any], required: bool) -> dict[str, Any]:
        config: dict[str, Any] = {}
        for field, allowed in (("OptInLevel", ("ACCOUNT",)), ("OptInType", ("NotifyOnly", "NotifyAndAdjust"))):
            value = p.get(field)
            if value is None:
                if required:
                    raise IllegalArgumentException(f"{field} is required.")
                continue
            if value not in allowed:
                raise IllegalArgumentException(f"{field} {value} is not valid; expected one of {', '.join(allowed)}.")
            config[field] = value
        if "NotificationArn" in p:
            config["NotificationArn"] = p["NotificationArn"]
        if "ExclusionList" in p:
            excluded: dict[str, list[dict[str, str]]] = {}
            for service_code, codes in (p["ExclusionList"] or {}).items():
                if not isinstance(codes, list):
                    raise IllegalArgumentException("ExclusionList maps a service code to a list of quota codes.")
                excluded[service_code] = [
                    {"QuotaCode": code, "QuotaName": self.quotas.default(service_code, code)["QuotaName"]}
                    for code in codes
                ]
            config["ExclusionList"] = excluded
        return config

    def start_auto_management(self) -> str:
        config = self._auto_management_input(self._params(), required=True)
        with _lock:
            self.quotas.auto_management = {"ExclusionList": {}, **config, "OptInStatus": "ENABLED"}
        return "{}"

    def update_auto_management(self) -> str:
        config = self._auto_management_input(self._params(), required=False)
        with _lock:
            current = self.quotas.auto_management
            if current is None or current["OptInStatus"] != "ENABLED":
                raise NoSuchResourceException("Automatic Management is not started for this account.")
            current.update(config)
        return "{}"

    def stop_auto_management(self) -> str:
        with _lock:
            current = self.quotas.auto_management
            if current is None:
                raise NoSuchResourceException("Automatic Management is not started for this account.")
            current["OptInStatus"] = "DISABLED"
        return "{}"

    def get_auto_management_configuration(self) -> str:
        with _lock:
            current = self.quotas.auto_management
            if current is None:
                raise NoSuchResourceException("Automatic Management was never started for this account.")
            return json.dumps(current)

    def start_quota_utilization_report(self) -> str:
        with _lock:
            s = self.quotas
            if s.reuse_reports:
                kept = [(r["generated"], rid) for rid, r in s.reports.items()
                        if time.time() - r["generated"] <= 15 * 60]
                if kept:
                    return json.dumps({"ReportId": max(kept)[1], "Status": "COMPLETED",
                                       "Message": "An existing recent report is being reused."})
            report_id = uuid.uuid4().hex
            rows = []
            for (service_code, quota_code), usage in s.usage.items():
                q = s.default(service_code, quota_code)
                applied = float(s.applied.get((service_code, quota_code), q.get("Value", 0.0)))
                if applied <= 0:
                    continue
                rows.append({
                    "QuotaCode": quota_code,
                    "ServiceCode": service_code,
                    "QuotaName": q["QuotaName"],
                    "Namespace": (q.get("UsageMetric") or {}).get("MetricNamespace", "AWS/Usage"),
                    "Utilization": round(usage / applied * 100, 2),
                    "DefaultValue": float(q.get("Value", 0.0)),
                    "AppliedValue": applied,
                    "ServiceName": q["ServiceName"],
                    "Adjustable": bool(q["Adjustable"]),
                })
            rows.sort(key=lambda r: -r["Utilization"])
            s.reports[report_id] = {
                "rows": rows, "reads": 0, "generated": time.time(), "failed": s.reports_fail,
            }
        return json.dumps({"ReportId": report_id, "Status": "PENDING",
                           "Message": "The report is being generated."})

    def get_quota_utilization_report(self) -> str:
        p = self._params()
        report_id = p.get("ReportId", "")
        with _lock:
            report = self.quotas.reports.get(report_id)
            if report is None or time.time() - report["generated"] > 15 * 60:
                raise NoSuchResourceException(f"The report {report_id} does not exist or has expired.")
            report["reads"] += 1
            base = {"ReportId": report_id, "GeneratedAt": report["generated"]}
            if report["reads"] == 1:
                return json.dumps({**base, "Status": "IN_PROGRESS"})
            if report["failed"]:
                return json.dumps({**base, "Status": "FAILED", "ErrorCode": "InternalError",
                                   "ErrorMessage": "The report could not be generated."})
            page, token = _page(report["rows"], p, limit=1000)
            body = {**base, "Status": "COMPLETED", "TotalCount": len(report["rows"]), "Quotas": page}
        return _with_token(body, token)

    def list_requested_service_quota_change_history(self) -> str:
        return self._history(self._params(), by_quota=False)

    def list_requested_service_quota_change_history_by_quota(self) -> str:
        return self._history(self._params(), by_quota=True)


def _public(request: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k != "SupportCaseAllowed"}


def decide(body: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's stand-in for AWS's reviewers: set a request's status, applying approvals."""
    request_id = body.get("RequestId")
    status = body.get("Status")
    if status not in OPEN_STATUSES + FINAL_STATUSES:
        raise ValueError(f"Status must be one of {OPEN_STATUSES + FINAL_STATUSES}")
    with _lock:
        for s in _states.values():
            for r in s.requests:
                if r["Id"] == request_id:
                    if status == "CASE_OPENED" and not r["SupportCaseAllowed"]:
                        # A request that needs a review, filed with SupportCaseAllowed=false: AWS
                        # opens no case and the request ends NOT_APPROVED (botocore model).
                        status = "NOT_APPROVED"
                    r["Status"] = status
                    r["LastUpdated"] = time.time()
                    if status == "CASE_OPENED":
                        r["CaseId"] = "case-" + request_id[:8]
                    if status == "APPROVED" or (status == "CASE_CLOSED" and body.get("Raised")):
                        s.applied[(r["ServiceCode"], r["QuotaCode"])] = r["DesiredValue"]
                    return _public(r)
    raise KeyError(f"no request {request_id}")


def set_value(body: dict[str, Any]) -> dict[str, Any]:
    """Sets a quota's applied value for one account and Region, as an earlier increase would have."""
    with _lock:
        s = state(body.get("AccountId", "123456789012"), body.get("Region", "us-east-1"))
        q = s.default(body["ServiceCode"], body["QuotaCode"])
        s.applied[(q["ServiceCode"], q["QuotaCode"])] = float(body["Value"])
        return s.describe(q, applied=True)


def set_usage(body: dict[str, Any]) -> dict[str, Any]:
    """Sets a quota's current usage in one account and Region; the utilization report reads it."""
    with _lock:
        s = state(body["AccountId"], body.get("Region", "us-east-1"))
        q = s.default(body["ServiceCode"], body["QuotaCode"])
        usage = float(body["Usage"])
        if usage < 0:
            raise ValueError("Usage must not be negative")
        s.usage[(q["ServiceCode"], q["QuotaCode"])] = usage
        return {"ServiceCode": q["ServiceCode"], "QuotaCode": q["QuotaCode"], "Usage": usage}


def expire_reports(body: dict[str, Any]) -> dict[str, Any]:
    """Ages one account's utilization reports past the 15 minutes AWS keeps them."""
    with _lock:
        s = state(body["AccountId"], body.get("Region", "us-east-1"))
        for report in s.reports.values():
            report["generated"] -= 16 * 60
        return {"Expired": len(s.reports)}


def set_account(body: dict[str, Any]) -> dict[str, Any]:
    """How Service Quotas behaves for one account and Region, for the situations tests need:
    `HiddenAppliedValues` (`[[service, quota], ...]` whose applied value is not reported),
    `OpenRequestLimit` (open requests before `QuotaExceededException`; null: none),
    `ServiceLinkedRole` (false: increase requests fail with `DependencyAccessDeniedException`),
    `AutoApprove` (true: every request is `APPROVED` and applied on submission, as AWS approves smaller
    increases at once: Service Quotas user guide, "Requesting a quota increase") and `ReuseReports`
    (true: `StartQuotaUtilizationReport` answers the latest report still kept, as its `Message` may say
    AWS does: "indicate if an existing recent report is being reused", aws-sdk-servicequotas 1.121)."""
    with _lock:
        s = state(body["AccountId"], body.get("Region", "us-east-1"))
        if "HiddenAppliedValues" in body:
            hidden = set()
            for service_code, quota_code in body["HiddenAppliedValues"]:
                hidden.add((s.default(service_code, quota_code)["ServiceCode"], quota_code))
            s.hidden_applied = hidden
        if "OpenRequestLimit" in body:
            limit = body["OpenRequestLimit"]
            if limit is not None and (not isinstance(limit, int) or limit < 0):
                raise ValueError("OpenRequestLimit must be a whole number or null")
            s.open_request_limit = limit
        if "ServiceLinkedRole" in body:
            s.service_linked_role = bool(body["ServiceLinkedRole"])
        if "ReportFails" in body:
            s.reports_fail = bool(body["ReportFails"])
        if "AutoApprove" in body:
            s.auto_approve = bool(body["AutoApprove"])
        if "ReuseReports" in body:
            s.reuse_reports = bool(body["ReuseReports"])
        return {
            "AccountId": s.account_id,
            "Region": s.region,
            "HiddenAppliedValues": sorted([list(k) for k in s.hidden_applied]),
            "OpenRequestLimit": s.open_request_limit,
            "ServiceLinkedRole": s.service_linked_role,
            "AutoApprove": s.auto_approve,
            "ReuseReports": s.reuse_reports,
        }


def install() -> None:
    """Routes moto's Service Quotas endpoint to this model."""
    from moto.servicequotas import urls

    urls.url_paths["{0}/$"] = ServiceQuotasResponse.dispatch
    sq_responses.ServiceQuotasResponse = ServiceQuotasResponse  # type: ignore[misc]
