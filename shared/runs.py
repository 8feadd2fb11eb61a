"""Exactly one completed run per ``bucket/name#generation`` under at-least-once delivery.

Two small objects per run in the reports bucket, next to the reports (``<prefix>_runs/`` cannot clash
with a dataset slug, which never starts with ``_``):

- ``_runs/<run_id>.json``, the **claim**: ``{state, claimed_at, owner, attempt, key}``, created with
  ``if_generation_match=0`` so only one delivery wins. A claim whose lease has expired (the lease is
  longer than the function timeout, so its holder is certainly dead) or that its holder released
  after a transient failure is **taken over** with ``if_generation_match=<its generation>``: a crash
  mid-run never blocks the redelivery, and two redeliveries never both take over.
- ``_runs/<run_id>.published``, the **marker**, written after the result message was published.
  A delivery that finds it is a duplicate: a no-op.

The remaining window: a crash after publishing and before the marker lands makes the redelivery run
again and publish a second message with the same ``run_id``. Subscribers must treat ``run_id`` as the
idempotency key; the report function does (``report.md`` is written with ``if_absent``), so the report
stays single.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger(__name__)

RUNNING, RELEASED = "running", "released"


class VersionedStore(Protocol):
    """The generation-aware subset of GcsStore the ledger needs."""

    def read_versioned(self, bucket: str, name: str) -> tuple[bytes, int] | None: ...

    def put(
        self,
        bucket: str,
        name: str,
        data: bytes,
        content_type: str,
        *,
        if_absent: bool = False,
        if_generation_match: int | None = None,
    ) -> int | None: ...

    def exists(self, bucket: str, name: str) -> bool: ...

    def write(
        self, bucket: str, name: str, data: bytes, content_type: str, *, if_absent: bool = False
    ) -> bool: ...


@dataclass(frozen=True)
class Claim:
    run_id: str
    owner: str
    generation: int
    attempt: int
    took_over: bool


class RunLedger:
    """Claims, releases and completes runs (see the module docstring for the protocol)."""

    def __init__(
        self,
        store: VersionedStore,
        bucket: str,
        prefix: str = "reports/",
        *,
        lease_s: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.bucket = bucket
        self.prefix = prefix
        self.lease_s = lease_s
        self.clock = clock

    def claim_name(self, run_id: str) -> str:
        return f"{self.prefix}_runs/{run_id}.json"

    def marker_name(self, run_id: str) -> str:
        return f"{self.prefix}_runs/{run_id}.published"

    def is_published(self, run_id: str) -> bool:
        """True when a delivery already published this run's result (later ones are duplicates)."""
        return self.store.exists(self.bucket, self.marker_name(run_id))

    def claim(self, run_id: str, key: str) -> Claim | None:
        """Claim the run for this delivery; None while another delivery holds a live lease."""
        name = self.claim_name(run_id)
        owner = uuid.uuid4().hex
        generation = self.store.put(
            self.bucket, name, self._body(RUNNING, owner, 1, key), "application/json", if_absent=True
        )
        if generation is not None:
            return Claim(run_id, owner, generation, 1, took_over=False)
        current = self.store.read_versioned(self.bucket, name)
        if current is None:  # released by deletion between our two calls: try once more from scratch
            generation = self.store.put(
                self.bucket, name, self._body(RUNNING, owner, 1, key), "application/json", if_absent=True
            )
            return Claim(run_id, owner, generation, 1, took_over=False) if generation is not None else None
        raw, held_generation = current
        state = _parse(raw)
        age = self.clock() - float(state.get("claimed_at", 0))
        if state.get("state") != RELEASED and age < self.lease_s:
            logger.info(
                "run claimed by another delivery", extra={"run_id": run_id, "claim_age_s": round(age, 1)}
            )
            return None
        attempt = int(state.get("attempt", 1)) + 1
        generation = self.store.put(
            self.bucket,
            name,
            self._body(RUNNING, owner, attempt, key),
            "application/json",
            if_generation_match=held_generation,
        )
        if generation is None:
            return None  # another redelivery took it over first
        logger.warning(
            "run taken over",
            extra={
                "run_id": run_id,
                "previous_state": state.get("state"),
                "claim_age_s": round(age, 1),
                "attempt": attempt,
            },
        )
        return Claim(run_id, owner, generation, attempt, took_over=True)

    def release(self, claim: Claim, key: str = "") -> None:
        """Give the run back after a transient failure, so the redelivery need not wait for the lease."""
        try:
            self.store.put(
                self.bucket,
                self.claim_name(claim.run_id),
                self._body(RELEASED, claim.owner, claim.attempt, key),
                "application/json",
                if_generation_match=claim.generation,
            )
        except Exception:
            logger.warning("could not release run claim", extra={"run_id": claim.run_id}, exc_info=True)

    def complete(self, claim: Claim, message_id: str) -> None:
        """Record that the result was published: every later delivery of this run is a no-op."""
        body = json.dumps(
            {"message_id": message_id, "published_at": self.clock(), "owner": claim.owner}
        ).encode()
        self.store.write(
            self.bucket, self.marker_name(claim.run_id), body, "application/json", if_absent=True
        )

    def _body(self, state: str, owner: str, attempt: int, key: str) -> bytes:
        return json.dumps(
            {"state": state, "claimed_at": self.clock(), "owner": owner, "attempt": attempt, "key": key}
        ).encode()


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}  # an unreadable claim is treated as expired
    return value if isinstance(value, dict) else {}
