"""What SNS would have delivered to each email and SMS subscriber, and SNS's subject rules.

moto drops messages for `email`, `email-json` and `sms` subscriptions. The sandbox keeps what each one
would have received (with `MessageStructure=json`, the text under that protocol's key) so that tests and
the demo can read the SMS and the email that went out.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from moto.sns import models as sns_models
from moto.sns.exceptions import InvalidParameterValue

DELIVERIES: list[dict[str, Any]] = []
_lock = threading.Lock()
# Held while moto delivers, so that no delivery sees a subscription's filter set aside for another.
_delivery_lock = threading.Lock()
RECORDED_PROTOCOLS = ("email", "email-json", "sms")


def install() -> None:
    original_publish = sns_models.Subscription.publish

    def publish(self: Any, message: str, message_id: str, subject: str | None = None, **kwargs: Any) -> None:
        attributes = kwargs.get("message_attributes") or {}
        # A subscription whose filter policy does not match gets nothing (moto returns early too).
        matcher = getattr(self, "_filter_policy_matcher", None)
        if matcher is not None and not matcher.matches(attributes, message):
            return
        if kwargs.get("message_structure") == "json" and attributes:
            # "Message attributes are sent only when the message structure is String, not JSON" (SNS
            # developer guide, "Amazon SNS message attributes"): filtered on, not delivered. moto
            # delivers them; the filter has been applied above, so the original runs without both.
            with _delivery_lock:
                self._filter_policy_matcher = None
                try:
                    original_publish(self, message, message_id, subject=subject, **{**kwargs, "message_attributes": None})
                finally:
                    self._filter_policy_matcher = matcher
        else:
            with _delivery_lock:
                original_publish(self, message, message_id, subject=subject, **kwargs)
        if self.protocol in RECORDED_PROTOCOLS:
            text = message
            if kwargs.get("message_structure") == "json":
                text = self._parse_message_structure(message, self.protocol)
            with _lock:
                DELIVERIES.append(
                    {
                        "topic_arn": self.topic.arn,
                        "protocol": self.protocol,
                        "endpoint": self.endpoint,
                        "subject": subject,
                        "message": text,
                        "message_id": message_id,
                        # What was published (what filter policies matched), not what a subscriber
                        # of a JSON-structured message receives.
                        "message_attributes": {name: value.get("Value") for name, value in attributes.items()},
                        "at": time.time(),
                    }
                )

    sns_models.Subscription.publish = publish

    original_backend_publish = sns_models.SNSBackend.publish

    def checked_publish(self: Any, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
        subject = kwargs.get("subject")
        # Real SNS: "Subjects must be ASCII text that begins with a letter, number, or punctuation mark;
        # must not include line breaks or control characters; and must be less than 100 characters long."
        if subject is not None and any(ord(c) < 32 or ord(c) == 127 for c in subject):
            raise InvalidParameterValue("Subject must not include line breaks or control characters")
        return original_backend_publish(self, message, arn, *args, **kwargs)

    sns_models.SNSBackend.publish = checked_publish


def deliveries() -> list[dict[str, Any]]:
    with _lock:
        return list(DELIVERIES)


def reset() -> None:
    with _lock:
        DELIVERIES.clear()
