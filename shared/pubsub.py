"""Publishing messages behind one small interface: Google Cloud Pub/Sub, or memory.

Only this module imports google-cloud-pubsub (lazily).

CONTRACT: Publisher and MemoryPublisher are final. PubSubPublisher publishes with the official client
(the Pub/Sub emulator when PUBSUB_EMULATOR_HOST is set, which the client honours by itself).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        """Publish and wait for the server's message id; TransientError when it could not."""
        ...


@dataclass
class Published:
    topic: str
    data: bytes
    attributes: dict[str, str]


@dataclass
class MemoryPublisher:
    """Keeps what was published: the in-process pipeline and tests use it."""

    messages: list[Published] = field(default_factory=list)

    def publish(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        self.messages.append(Published(topic, data, dict(attributes)))
        return str(len(self.messages))

    def on(self, topic: str) -> list[Published]:
        return [m for m in self.messages if m.topic == topic]


class PubSubPublisher:
    """Publisher on Google Cloud Pub/Sub, one client per instance.

    ``publish`` waits for the server's message id (``future.result(timeout)``), so a run only counts as
    published once Pub/Sub has the message. The client library retries unavailable/deadline errors
    inside that timeout (its own, single retry layer); whatever still fails becomes a TransientError,
    so the event is redelivered.
    """

    def __init__(self, project: str, *, client: Any = None, timeout_s: float = 60.0) -> None:
        if client is None:
            from google.cloud import pubsub_v1  # lazy: only the cloud path pays for the import

            client = pubsub_v1.PublisherClient()
        self.client = client
        self.project = project
        self.timeout_s = timeout_s

    def topic_path(self, topic: str) -> str:
        return topic if topic.startswith("projects/") else f"projects/{self.project}/topics/{topic}"

    def publish(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        from shared.errors import PermanentError, TransientError

        path = self.topic_path(topic)
        try:
            future = self.client.publish(path, data, **attributes)
            message_id = future.result(timeout=self.timeout_s)
        except Exception as err:
            from google.api_core import exceptions as gexc

            if isinstance(err, (gexc.NotFound, gexc.PermissionDenied, gexc.InvalidArgument)):
                # A missing topic or a denied publish is configuration, not a bad file; it still
                # blocks every run, so surface it loudly but let the event be retried once fixed.
                raise TransientError(f"cannot publish to {path}: {err}", code="publish_rejected") from err
            if isinstance(err, ValueError):
                raise PermanentError(
                    f"message rejected by the client: {err}", code="invalid_message"
                ) from err
            raise TransientError(f"publish to {path} failed: {err}", code="publish_failed") from err
        logger.info("published", extra={"topic": topic, "message_id": message_id, "bytes": len(data)})
        return str(message_id)
