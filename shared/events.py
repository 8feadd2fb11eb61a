"""Typed views of the two CloudEvents the functions receive.

Inbound Google payloads tolerate unknown fields (Google adds them over time); only what the pipeline
uses is parsed, and a payload missing one of those fields is a ``MalformedEventError`` (permanent:
redelivering the same bytes cannot help).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.errors import PermanentError
from shared.messages import ResultMessage, Source

STORAGE_FINALIZED = "google.cloud.storage.object.v1.finalized"
PUBSUB_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
PROMPT_METADATA_KEY = "analysis-prompt"
PROMPT_SIDECAR_SUFFIX = ".prompt.md"


class MalformedEventError(PermanentError):
    """The event or message does not carry what the contract promises."""

    code = "malformed_event"


@dataclass(frozen=True)
class EventContext:
    """The CloudEvent envelope fields the handlers use."""

    id: str
    type: str
    source: str
    time: datetime | None

    def age_s(self, now: datetime | None = None) -> float | None:
        """Seconds since the event happened (None when the event carries no time)."""
        if self.time is None:
            return None
        return ((now or datetime.now(UTC)) - self.time).total_seconds()


@dataclass(frozen=True)
class StorageObject:
    """The GCS object resource of a ``storage.object.v1.finalized`` event (the fields we use)."""

    bucket: str
    name: str
    generation: str
    size: int
    content_type: str | None = None
    md5_hash: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    time_created: datetime | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StorageObject:
        try:
            bucket, name, generation = str(data["bucket"]), str(data["name"]), str(data["generation"])
        except KeyError as err:
            raise MalformedEventError(f"storage event data lacks {err.args[0]!r}") from err
        if not bucket or not name or not generation:
            raise MalformedEventError("storage event data has an empty bucket, name or generation")
        try:
            size = int(data.get("size") or 0)
        except (TypeError, ValueError) as err:
            raise MalformedEventError(f"storage event size {data.get('size')!r} is not a number") from err
        metadata = data.get("metadata") or {}
        return cls(
            bucket=bucket,
            name=name,
            generation=generation,
            size=size,
            content_type=data.get("contentType") or None,
            md5_hash=data.get("md5Hash") or None,
            metadata={str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, Mapping) else {},
            time_created=parse_time(data.get("timeCreated")),
        )

    @property
    def source(self) -> Source:
        return Source(
            bucket=self.bucket,
            name=self.name,
            generation=self.generation,
            size=self.size,
            content_type=self.content_type,
            md5_hash=self.md5_hash,
        )

    @property
    def is_prompt_sidecar(self) -> bool:
        return self.name.endswith(PROMPT_SIDECAR_SUFFIX)

    @property
    def prompt_sidecar_name(self) -> str:
        return self.name + PROMPT_SIDECAR_SUFFIX


# Content types that can never be a CSV whatever the suffix says (a user can configure suffixes, not
# these): the check is a deny list because uploaders label CSVs inconsistently (text/csv,
# application/vnd.ms-excel, application/octet-stream, application/gzip, none at all).
_NOT_DATA_TYPE_PREFIXES = ("image/", "video/", "audio/", "font/", "application/pdf", "application/zip")


def skip_reason(
    obj: StorageObject, suffixes: tuple[str, ...], reports_bucket: str | None = None
) -> str | None:
    """Why an object is not analysed, or None when it is a data file.

    ``suffixes`` come from settings (DATA_SUFFIXES); folder placeholders, prompt sidecars, objects in
    the reports bucket (a misconfigured trigger would otherwise loop) and non-tabular content types are
    skipped.
    """
    lower = obj.name.lower()
    if obj.name.endswith("/"):
        return "folder placeholder"
    if obj.is_prompt_sidecar:
        return "prompt sidecar (read with its data file)"
    if reports_bucket and obj.bucket == reports_bucket:
        return "object is in the reports bucket"
    if not lower.endswith(suffixes):
        return f"suffix not in {','.join(suffixes)}"
    content_type = (obj.content_type or "").split(";")[0].strip().lower()
    if content_type.startswith(_NOT_DATA_TYPE_PREFIXES):
        return f"content type {content_type} is not tabular text"
    return None


def parse_time(raw: Any) -> datetime | None:
    """RFC 3339 time (with Z or offset, any fraction length) → aware datetime; None if absent/invalid."""
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    if not raw or not isinstance(raw, str):
        return None
    text = raw.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # fromisoformat accepts at most 6 fraction digits; Pub/Sub sends 9.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def event_context(cloud_event: Any) -> EventContext:
    """Envelope of a ``cloudevents`` CloudEvent (as functions-framework passes it)."""
    attributes = cloud_event.get_attributes() if hasattr(cloud_event, "get_attributes") else cloud_event
    return EventContext(
        id=str(attributes.get("id", "")),
        type=str(attributes.get("type", "")),
        source=str(attributes.get("source", "")),
        time=parse_time(attributes.get("time")),
    )


def _data(cloud_event: Any) -> Any:
    data = cloud_event.data if hasattr(cloud_event, "data") else cloud_event.get("data")
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except ValueError as err:
            raise MalformedEventError("event data is not JSON") from err
    if not isinstance(data, Mapping):
        raise MalformedEventError(f"event data is {type(data).__name__}, not an object")
    return data


def parse_storage_event(cloud_event: Any) -> tuple[EventContext, StorageObject]:
    """A ``storage.object.v1.finalized`` CloudEvent → envelope + object resource."""
    context = event_context(cloud_event)
    if context.type != STORAGE_FINALIZED:
        raise MalformedEventError(f"expected {STORAGE_FINALIZED}, got {context.type or 'no type'}")
    return context, StorageObject.from_dict(_data(cloud_event))


@dataclass(frozen=True)
class PubSubMessage:
    """The ``message`` of a messagePublished event: decoded body and attributes."""

    data: bytes
    attributes: dict[str, str]
    message_id: str
    publish_time: datetime | None
    delivery_attempt: int | None = None


def parse_pubsub_event(cloud_event: Any) -> tuple[EventContext, PubSubMessage]:
    """A ``pubsub.topic.v1.messagePublished`` CloudEvent → envelope + decoded message."""
    context = event_context(cloud_event)
    if context.type != PUBSUB_PUBLISHED:
        raise MalformedEventError(f"expected {PUBSUB_PUBLISHED}, got {context.type or 'no type'}")
    data = _data(cloud_event)
    message = data.get("message")
    if not isinstance(message, Mapping):
        raise MalformedEventError("messagePublished data has no message")
    try:
        body = base64.b64decode(message.get("data") or "", validate=True)
    except (binascii.Error, ValueError) as err:
        raise MalformedEventError("message data is not base64") from err
    attempt = data.get("deliveryAttempt") or message.get("deliveryAttempt")
    return context, PubSubMessage(
        data=body,
        attributes={str(k): str(v) for k, v in (message.get("attributes") or {}).items()},
        message_id=str(message.get("messageId") or message.get("message_id") or context.id),
        publish_time=parse_time(message.get("publishTime") or message.get("publish_time")) or context.time,
        delivery_attempt=int(attempt) if attempt else None,
    )


def result_message(message: PubSubMessage) -> ResultMessage:
    """The ResultMessage in a Pub/Sub message body (strict: schema version and fields checked)."""
    try:
        return ResultMessage.from_json(message.data)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise MalformedEventError(f"message {message.message_id} is not a result message: {err}") from err
