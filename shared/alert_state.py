"""What alert rules remember between runs: the previous schema of a dataset and recent alerts.

Two small JSON objects per dataset, next to its reports, through the ObjectStore interface:
``<REPORTS_PREFIX><dataset-slug>/_state/schema.json`` and ``.../_state/alerts.json``.

Both are read-modify-write. Two runs of the same dataset finishing within the same few milliseconds
can both read the old state; then the later write wins: a schema baseline is skipped once, or both
alerts go out unmarked (never wrongly marked as repeats). The first write of each object uses
``if_absent``, so the common race (a burst of first files) is detected and merged; later writes
are plain overwrites. Redelivery of the same run (same ``run_id`` / object generation) is idempotent:
it compares against the same baseline and gets the same repeat marks as the first delivery.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.errors import PermanentError

if TYPE_CHECKING:
    from shared.messages import AlertMessage
    from shared.settings import Settings
    from shared.storage import ObjectStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SchemaSnapshot:
    """The columns of one file of a dataset: name → type family, in file order."""

    source_key: str  # bucket/name#generation
    generation: str
    run_id: str
    columns: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_key": self.source_key,
            "generation": self.generation,
            "run_id": self.run_id,
            "columns": [[n, t] for n, t in self.columns.items()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SchemaSnapshot:
        return cls(
            data["source_key"], str(data["generation"]), data["run_id"], {n: t for n, t in data["columns"]}
        )


class AlertState:
    """Schema history and the repeat window of one deployment, kept in the reports bucket."""

    def __init__(
        self,
        store: ObjectStore,
        bucket: str,
        prefix: str = "reports/",
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.bucket = bucket
        self.prefix = prefix
        self.clock = clock

    @classmethod
    def from_settings(
        cls, settings: Settings, store: ObjectStore, *, clock: Callable[[], float] = time.time
    ) -> AlertState:
        return cls(store, settings.reports_bucket, settings.reports_prefix, clock=clock)

    def _name(self, slug: str, what: str) -> str:
        return f"{self.prefix}{slug}/_state/{what}.json"

    def _load(self, name: str) -> dict[str, Any] | None:
        try:
            raw = self.store.read(self.bucket, name)
        except PermanentError as err:
            if err.code == "not_found":
                return None
            raise
        try:
            data = json.loads(raw)
        except ValueError:
            # A corrupt state object must not stop alerting: start afresh and say so.
            logger.warning("alert state unreadable, starting afresh", extra={"object": name})
            return {}
        return data if isinstance(data, dict) else {}

    def _save(self, name: str, data: dict[str, Any], *, existed: bool) -> bool:
        body = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
        return self.store.write(self.bucket, name, body, "application/json", if_absent=not existed)

    def _update(self, name: str, change: Callable[[dict[str, Any]], Any]) -> Any:
        """Read, apply ``change`` (edits the dict, returns a result), write; retries a first-write race."""
        for _attempt in range(2):
            data = self._load(name)
            existed = data is not None
            data = data or {}
            result = change(data)
            if self._save(name, data, existed=existed):
                return result
        logger.warning("alert state write lost a race twice", extra={"object": name})
        return result

    def schema_baseline(self, slug: str, snapshot: SchemaSnapshot) -> SchemaSnapshot | None:
        """Record ``snapshot`` as the dataset's newest schema and return the one before it (or None).

        A redelivered run (same source key) gets the same baseline as its first delivery. An older
        generation arriving late is compared with the newest but does not replace it.
        """

        def change(data: dict[str, Any]) -> SchemaSnapshot | None:
            current = SchemaSnapshot.from_dict(data["current"]) if data.get("current") else None
            previous = SchemaSnapshot.from_dict(data["previous"]) if data.get("previous") else None
            if current is None:
                data["current"] = snapshot.to_dict()
                return None
            if current.source_key == snapshot.source_key:
                return previous
            if (
                _older(snapshot.generation, current.generation)
                and current.source_key.rsplit("#", 1)[0] == (snapshot.source_key.rsplit("#", 1)[0])
            ):
                return current
            data["previous"] = current.to_dict()
            data["current"] = snapshot.to_dict()
            return current

        return self._update(self._name(slug, "schema"), change)

    def mark_repeats(self, slug: str, alerts: list[AlertMessage], window_for: Callable[[str], float]) -> None:
        """Set ``repeat`` on each alert whose rule already alerted this dataset within its window.

        The window runs from the last alert of that rule that was *not* a repeat, so a condition that
        persists is announced again once per window. ``window_for(rule_id)`` gives the window in seconds.
        """
        if not alerts:
            return
        now = self.clock()

        def change(data: dict[str, Any]) -> None:
            for alert in alerts:
                seen = data.get(alert.rule)
                if seen and seen.get("run_id") == alert.run_id:
                    alert.repeat = bool(seen.get("repeat"))  # redelivery: same answer as the first time
                    continue
                notified_at = seen.get("notified_at") if seen else None
                repeat = notified_at is not None and 0 <= now - float(notified_at) < window_for(alert.rule)
                alert.repeat = repeat
                data[alert.rule] = {
                    "run_id": alert.run_id,
                    "last_at": now,
                    "notified_at": notified_at if repeat else now,
                    "repeat": repeat,
                    "count": int(seen.get("count", 0)) + 1 if seen else 1,
                }

        self._update(self._name(slug, "alerts"), change)


def _older(a: str, b: str) -> bool:
    """Whether generation ``a`` is older than ``b`` (GCS generations are increasing integers)."""
    try:
        return int(a) < int(b)
    except ValueError:
        return False
