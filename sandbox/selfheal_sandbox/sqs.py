"""SQS at depth. moto's ReceiveMessage re-reads every queue attribute (counting all messages) for each
message it hands out, so a receive costs about 0.7 ms per message waiting in the queue; SendMessage reads
them too. The sandbox:
- reads only the retention period for the retention check, so a receive costs about the same at 10,000
  deep as at 10 deep;
- counts visible, in-flight and delayed messages in one pass with one clock reading (moto reads the clock
  twice per message);
- finds a deleted message through an index of receipt handles instead of two scans;
- lets SendMessage read the queue's settings without counting its messages (it only needs
  `ContentBasedDeduplication`), so a send costs the same at any depth.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.utils import camelcase_to_underscores, unix_time, unix_time_millis
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import ReceiptHandleIsInvalid


# Receipt handle -> message, filled as messages are handed out.
_by_receipt: dict[str, Any] = {}
# Set while a send runs on this thread: the queue's attributes are read without message counts.
_sending = threading.local()
_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
)


def install() -> None:
    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        queue = self.get_queue(queue_name)
        retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
        return retain_until > unix_time()

    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period

    original_mark_received = sqs_models.Message.mark_received

    def mark_received(self: Any, *args: Any, **kwargs: Any) -> None:
        original_mark_received(self, *args, **kwargs)
        _by_receipt[self.receipt_handle] = self

    sqs_models.Message.mark_received = mark_received

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return
        target = _by_receipt.get(receipt_handle)
        if target is None or target not in self._messages:
            target = next((m for m in self._messages if m.had_receipt_handle(receipt_handle)), None)
        if target is None:
            raise ReceiptHandleIsInvalid()
        for handle in target.all_receipt_handles:
            _by_receipt.pop(handle, None)
        self.pending_messages.discard(target)
        self.deleted_messages.update(target.all_receipt_handles)
        self._messages.remove(target)

    sqs_models.Queue.delete_message = delete_message

    def visible_messages(self: Any) -> list[Any]:
        now = unix_time_millis()
        return [m for m in self._messages if m.visible_at < now and m.delayed_until <= now]

    def count_delayed(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if m.delayed_until > now)

    def count_not_visible(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if m.visible_at >= now)

    full_attributes = sqs_models.Queue.attributes.fget

    def attributes(self: Any) -> dict[str, Any]:
        if not getattr(_sending, "active", False):
            return full_attributes(self)
        # What a send reads: the settings, without the three counts that scan every message.
        result = {
            name: getattr(self, camelcase_to_underscores(name))
            for name in self.FIFO_ATTRIBUTES
            if self.fifo_queue
        }
        return {k: str(v).lower() if isinstance(v, bool) else v for k, v in result.items()}

    sqs_models.Queue.attributes = property(attributes)

    original_send = sqs_models.SQSBackend.send_message

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.active = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            _sending.active = False

    sqs_models.SQSBackend.send_message = send_message

    sqs_models.Queue.messages = property(visible_messages)
    sqs_models.Queue.approximate_number_of_messages = property(lambda self: len(visible_messages(self)))
    sqs_models.Queue.approximate_number_of_messages_delayed = property(count_delayed)
    sqs_models.Queue.approximate_number_of_messages_not_visible = property(count_not_visible)
