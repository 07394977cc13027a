"""SQS, SES and Secrets Manager, as outreach uses them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from loyalty.outreach.store import Refused

# SQS refuses a message, and a batch, over 256 KiB. Reminders are references (a few hundred bytes); this is a guard.
MAX_MESSAGE_BYTES = 256 * 1024


class SqsQueue:
    """A queue of JSON messages, sent in batches of ten."""

    def __init__(self, client: Any, url: str) -> None:
        self._sqs = client
        self._url = url

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        """Send every message, or fail loudly if any is refused."""
        refused = self.offer(messages)
        if refused:
            raise RuntimeError(f"SQS refused {len(refused)} of {len(messages)} messages: {refused[0].why}")

    def offer(self, messages: Sequence[dict[str, Any]]) -> list[Refused]:
        """Send what SQS takes; the messages it did not (by index, with why), so one cannot hold up the rest.

        A failed entry with ``SenderFault: false`` (throttling, an internal error) is SQS's fault, not the
        message's: it is refused with ``retry``, to be offered again; only the sender's faults (and a message
        too large to send) are refused for good.
        """
        refused: list[Refused] = []
        bodies = []
        for n, message in enumerate(messages):
            body = json.dumps(message, ensure_ascii=False)
            if len(body.encode()) > MAX_MESSAGE_BYTES // 10:  # ten of them must fit a batch
                refused.append(Refused(n, f"{len(body.encode())} bytes is too large for a queue message"))
            else:
                bodies.append((n, body))
        for start in range(0, len(bodies), 10):
            batch = bodies[start:start + 10]
            answer = self._sqs.send_message_batch(
                QueueUrl=self._url, Entries=[{"Id": str(n), "MessageBody": body} for n, body in batch])
            refused += [Refused(int(f["Id"]), str(f.get("Message") or f.get("Code")),
                                retry=f.get("SenderFault") is not True) for f in answer.get("Failed", [])]
        return sorted(refused)


class SesMailer:
    """SES v2 with a configuration set, paced so all senders together stay under the account's send rate.

    Each sender container takes ``max send rate / concurrency`` (the event source mapping's maximum
    concurrency), read once from the account's quota unless ``max_send_rate`` is given (the local
    emulator reports SES's sandbox rate of 1 per second; the local server sets a higher one).
    """

    def __init__(self, sesv2: Any, ses: Any, configuration_set: str, concurrency: int,
                 max_send_rate: float | None = None) -> None:
        self._sesv2 = sesv2
        self._ses = ses
        self._configuration_set = configuration_set
        self._concurrency = max(1, concurrency)
        self._interval: float | None = self._concurrency / max_send_rate if max_send_rate else None
        self._next = 0.0
        self._lock = threading.Lock()

    def pace(self) -> None:
        """Wait for this sender's next slot under the send rate; call it right before claiming a send."""
        if self._interval is None:
            rate = float(self._ses.get_send_quota().get("MaxSendRate") or 1.0)
            self._interval = self._concurrency / max(rate, 0.001)
        with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self._interval
        if wait > 0:
            time.sleep(wait)

    def send(self, raw: bytes, to: str, tags: dict[str, str]) -> str:
        answer = self._sesv2.send_email(
            Content={"Raw": {"Data": raw}}, Destination={"ToAddresses": [to]},
            ConfigurationSetName=self._configuration_set,
            EmailTags=[{"Name": k, "Value": v} for k, v in tags.items()],
        )
        return str(answer["MessageId"])


class Secret:
    """A Secrets Manager secret, read once per container."""

    def __init__(self, client: Any, secret_id: str) -> None:
        self._client = client
        self._id = secret_id
        self._value: bytes | None = None

    def __call__(self) -> bytes:
        if self._value is None:
            try:
                self._value = self._client.get_secret_value(SecretId=self._id)["SecretString"].encode()
            except ClientError as error:
                raise RuntimeError(f"cannot read the secret {self._id}: {error}") from error
        return self._value
