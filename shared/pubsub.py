"""Publishing messages behind one small interface: Google Cloud Pub/Sub, or memory.

Only this module imports google-cloud-pubsub (lazily).

CONTRACT: Publisher and MemoryPublisher are final; PubSubPublisher is pending (event-driven issue).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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
