"""SQS at depth. moto's ReceiveMessage re-reads every queue attribute (counting all messages) for each
message it hands out, so a receive costs about 0.7 ms per message waiting in the queue; SendMessage reads
them too. The sandbox:
- reads only the retention period for the retention check, so a receive costs about the same at 10,000
  deep as at 10 deep;
- counts visible, in-flight and delayed messages in one pass with one clock reading (moto reads the clock
  twice per message);
- finds a deleted message through an index of receipt handles instead of two scans;
- lets SendMessage read the queue's settings without counting its messages (it only needs
  `ContentBasedDeduplication`), so a send costs the same at any depth;
- sizes a SendMessageBatch request as SQS does: bytes, not characters, and every part of each message
  attribute (name, type and value) along with the body (SQS API reference, `MessageAttributeValue`:
  "All parts of the message attribute, including Name, Type, and Value, are part of the message size
  restriction"); over 1 MiB (1,048,576 bytes, aws-sdk-sqs 1.119 `SendMessageBatch`) the whole request
  fails with `BatchRequestTooLong`, as moto does for bodies alone.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.utils import camelcase_to_underscores, unix_time, unix_time_millis
from moto.sqs import models as sqs_models
from moto.sqs.constants import MAXIMUM_MESSAGE_LENGTH
from moto.sqs.exceptions import BatchRequestTooLong, ReceiptHandleIsInvalid


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

    original_send_batch = sqs_models.SQSBackend.send_message_batch

    def send_message_batch(self: Any, queue_name: str, entries: dict[str, dict[str, Any]]) -> Any:
        size = sum(entry_size(entry) for entry in entries.values())
        if size > MAXIMUM_MESSAGE_LENGTH:
            raise BatchRequestTooLong(size)
        return original_send_batch(self, queue_name, entries)

    sqs_models.SQSBackend.send_message_batch = send_message_batch

    sqs_models.Queue.messages = property(visible_messages)
    sqs_models.Queue.approximate_number_of_messages = property(lambda self: len(visible_messages(self)))
    sqs_models.Queue.approximate_number_of_messages_delayed = property(count_delayed)
    sqs_models.Queue.approximate_number_of_messages_not_visible = property(count_not_visible)


def entry_size(entry: dict[str, Any]) -> int:
    """A batch entry's size as SQS counts it: the body's bytes and every part of every attribute."""
    size = len(entry.get("MessageBody", "").encode())
    for name, attribute in (entry.get("MessageAttributes") or {}).items():
        size += len(name.encode()) + len(attribute.get("DataType", "").encode())
        value = attribute.get("StringValue") or attribute.get("BinaryValue") or ""
        size += len(value) if isinstance(value, bytes) else len(value.encode())
    return size
