"""Evaluating alert rules after a run: one AlertMessage per fired rule, naming the offenders.

Entry point: ``evaluate(...)``; ``publish(...)`` sends the result to the alerts topic.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from shared.alert_rules import Rule, RuleSet, format_number
from shared.alert_state import AlertState, SchemaSnapshot
from shared.messages import AlertMessage, ErrorInfo, Source
from shared.naming import dataset_slug

if TYPE_CHECKING:
    import pandas as pd

    from shared.csv_reader import Table
    from shared.profile import ColumnProfile, Profile
    from shared.pubsub import Publisher

logger = logging.getLogger(__name__)

MAX_OFFENDERS = 20  # listed in the message and in ``offenders``; the rest become "and N more"
_LABEL_TYPES = ("identifier", "categorical")


def evaluate(
    rules: RuleSet,
    *,
    table: Table | None,
    profile: Profile | None,
    source: Source,
    dataset: str,
    run_id: str,
    failure: ErrorInfo | None,
    state: AlertState | None,
    report_uri: str | None = None,
    slug: str | None = None,
) -> list[AlertMessage]:
    """Evaluate every rule matching ``source.name``; return the alerts that fired, in rule order.

    ``table``/``profile`` are None when the run failed before them; rules that need them are then
    skipped. ``state`` keeps schema history and repeat marks (None: no history, nothing is a repeat).
    ``slug`` is the dataset's folder in the reports bucket (default ``dataset_slug(source.name)``).
    A rule that cannot be evaluated on this file (column absent or not numeric) is logged and skipped;
    a bug in one rule never costs the run or the other alerts.
    """
    slug = slug or dataset_slug(source.name)
    ctx = _Context(table, profile, source, failure)
    baseline = _schema_baseline(state, slug, ctx, run_id) if table is not None else None
    alerts: list[AlertMessage] = []
    for rule in rules.for_object(source.name):
        try:
            fired = _EVALUATORS[rule.kind](rule, ctx, baseline)
        except Exception:
            logger.exception("alert rule failed to evaluate", extra={"rule": rule.id, "run_id": run_id})
            continue
        if fired is None:
            continue
        message, metric, value, threshold, offenders = fired
        alerts.append(
            AlertMessage(
                rule=rule.id,
                severity=rule.severity,
                dataset=dataset,
                run_id=run_id,
                message=message,
                metric=metric,
                value=value,
                threshold=threshold,
                offenders=offenders,
                report_uri=report_uri,
            )
        )
    if state is not None and alerts:
        try:
            state.mark_repeats(slug, alerts, lambda rule_id: rules.window(_by_id(rules, rule_id)))
        except Exception:
            # Unmarked is the safe side: a subscriber sees the alert once more rather than never.
            logger.warning("alert repeat state unavailable; alerts go out unmarked", exc_info=True)
    logger.info(
        "alerts evaluated",
        extra={"run_id": run_id, "alerts": len(alerts), "rules": [a.rule for a in alerts]},
    )
    return alerts


def publish(alerts: Iterable[AlertMessage], publisher: Publisher, topic: str) -> list[str]:
    """Publish each alert (JSON body, attributes for filters); return the message ids."""
    return [publisher.publish(topic, a.to_json(), a.attributes()) for a in alerts]


# ----------------------------------------------------------------------------------------------
# What every evaluator sees


class _Context:
    def __init__(
        self, table: Table | None, profile: Profile | None, source: Source, failure: ErrorInfo | None
    ):
        self.table = table
        self.profile = profile
        self.source = source
        self.failure = failure
        self.file = source.name.rsplit("/", 1)[-1]
        self._label: str | None | bool = False  # False: not worked out yet

    @property
    def frame(self) -> pd.DataFrame | None:
        return None if self.table is None else self.table.frame

    @property
    def rows(self) -> int | None:
        if self.profile is not None:
            return self.profile.rows
        return None if self.frame is None else len(self.frame)

    def column_name(self, name: str) -> str | None:
        """The frame's name for ``name``, which may also be the original header the reader renamed."""
        if self.frame is None:
            return None
        if name in self.frame.columns:
            return name
        for new, original in (self.table.renamed_columns if self.table else {}).items():
            if original == name and new in self.frame.columns:
                return new
        return None

    def column_profile(self, name: str) -> ColumnProfile | None:
        if self.profile is None:
            return None
        return next((c for c in self.profile.columns if c.name == name), None)

    def label_column(self, rule: Rule) -> str | None:
        """The column that names a row: the rule's ``label``, else the first identifier/categorical column."""
        if rule.label:
            found = self.column_name(rule.label)
            if found is not None:
                return found
            logger.warning("label column not in file", extra={"rule": rule.id, "label": rule.label})
        if self._label is False:
            self._label = self._guess_label()
        return self._label if isinstance(self._label, str) else None

    def _guess_label(self) -> str | None:
        if self.frame is None:
            return None
        if self.profile is not None:
            for c in self.profile.columns:
                if c.type in _LABEL_TYPES and c.name in self.frame.columns:
                    return c.name
            return None
        import pandas as pd

        for name in self.frame.columns:
            dtype = self.frame[name].dtype
            if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
                return str(name)
        return None

    def row_offenders(self, rule: Rule, mask: pd.Series, values: pd.Series | None) -> tuple[list[dict], int]:
        """The rows where ``mask`` holds, as offender dicts (row number, label, value), capped."""
        assert self.frame is not None
        label_col = self.label_column(rule)
        import numpy as np

        positions = np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))
        out = []
        for pos in positions[:MAX_OFFENDERS].tolist():
            entry: dict[str, Any] = {"row": pos + 1}
            if label_col is not None:
                label = self.frame[label_col].iloc[pos]
                entry["label"] = None if _missing(label) else str(label)
            if values is not None:
                entry["value"] = _plain(values.iloc[pos])
            out.append(entry)
        return out, len(positions)


Fired = tuple[str, str | None, Any, Any, list[Any]]  # message, metric, value, threshold, offenders


# ----------------------------------------------------------------------------------------------
# One evaluator per rule kind: None when the rule does not fire (or cannot be evaluated here)


def _threshold(rule: Rule, ctx: _Context, _baseline: Any) -> Fired | None:
    assert rule.column is not None and rule.metric is not None
    name = ctx.column_name(rule.column) if ctx.frame is not None else rule.column
    cp = ctx.column_profile(name) if name else None
    if name is None or (ctx.frame is None and cp is None):
        logger.info(
            "threshold rule skipped: column not in file", extra={"rule": rule.id, "column": rule.column}
        )
        return None
    metric = f"{rule.metric}({rule.column})"
    numeric = _numeric(ctx.frame[name]) if ctx.frame is not None else None

    if rule.metric == "rows":
        if numeric is None:
            return _skip(rule, "needs the column's numeric values")
        mask = numeric.notna() & _compare_series(numeric, rule)
        if not mask.any():
            return None
        offenders, total = ctx.row_offenders(rule, mask, ctx.frame[name])
        noun = "row has" if total == 1 else "rows have"
        condition = f"{rule.column} {rule.op} {format_number(rule.value)}"
        msg = f"{ctx.file}: {total} {noun} {condition}: {_names(offenders, total)}."
        return msg, metric, total, rule.value, offenders

    observed, offenders, total, detail = _profile_metric(
        rule, ctx, name, cp, numeric, ctx.frame[name] if ctx.frame is not None else None
    )
    if observed is None or not rule.compare(observed):
        return None
    msg = f"{ctx.file}: {metric} is {format_number(observed)}{detail}, {rule.op} {format_number(rule.value)}"
    msg += f": {_names(offenders, total)}." if offenders else "."
    return msg, metric, _plain(observed), rule.value, offenders


def _profile_metric(
    rule: Rule,
    ctx: _Context,
    name: str,
    cp: ColumnProfile | None,
    numeric: pd.Series | None,
    original: pd.Series | None,
) -> tuple[float | None, list[dict], int, str]:
    """(observed value, offending rows, how many, extra words) for max/min/mean/missing_share/outliers."""
    metric = rule.metric
    if metric in ("max", "min", "mean"):
        observed = getattr(cp, metric) if cp is not None else None
        if observed is None and numeric is not None and numeric.notna().any():
            observed = float(getattr(numeric, metric)())
        if observed is None or numeric is None or metric == "mean":
            return observed, [], 0, ""
        # Name the rows past the threshold when the rule points the extreme's way, else the extreme's rows.
        toward = (metric == "max" and rule.op in (">", ">=")) or (metric == "min" and rule.op in ("<", "<="))
        mask = _compare_series(numeric, rule) if toward else numeric == observed
        offenders, total = ctx.row_offenders(rule, mask & numeric.notna(), original)
        return observed, offenders, total, ""
    if metric == "missing_share":
        if cp is not None and ctx.profile is not None:
            missing, rows = cp.missing, ctx.profile.rows
        elif ctx.frame is not None:
            missing, rows = int(ctx.frame[name].isna().sum()), len(ctx.frame)
        else:
            return None, [], 0, ""
        if rows == 0:
            return None, [], 0, ""
        offenders, total = ([], 0)
        if ctx.frame is not None:
            offenders, total = ctx.row_offenders(rule, ctx.frame[name].isna(), None)
        return missing / rows, offenders, total, f" ({missing} of {rows} rows missing)"
    if metric == "outliers":
        if cp is None or cp.outliers is None:
            _skip(rule, "needs the profile's IQR outlier count")
            return None, [], 0, ""
        offenders, total = [], 0
        if numeric is not None and cp.q1 is not None and cp.q3 is not None:
            iqr = cp.q3 - cp.q1
            mask = (numeric < cp.q1 - 1.5 * iqr) | (numeric > cp.q3 + 1.5 * iqr)
            offenders, total = ctx.row_offenders(rule, mask & numeric.notna(), original)
        return cp.outliers, offenders, total, ""
    raise ValueError(f"unknown metric {metric!r}")


def _empty_columns(rule: Rule, ctx: _Context, _baseline: Any) -> Fired | None:
    if ctx.profile is not None:
        empty = [c.name for c in ctx.profile.columns if c.count == 0]
    elif ctx.frame is not None:
        empty = [str(c) for c in ctx.frame.columns if ctx.frame[c].isna().all()]
    else:
        return None
    if not empty:
        return None
    offenders = [{"column": c} for c in empty[:MAX_OFFENDERS]]
    noun = "column has" if len(empty) == 1 else "columns have"
    msg = f"{ctx.file}: {len(empty)} {noun} no values at all: {_names(offenders, len(empty))}."
    return msg, "empty_columns", len(empty), 0, offenders


def _duplicate_rows(rule: Rule, ctx: _Context, _baseline: Any) -> Fired | None:
    if ctx.frame is None and ctx.profile is None:
        return None
    count = ctx.profile.duplicate_rows if ctx.profile is not None else int(ctx.frame.duplicated().sum())
    if not rule.compare(count):
        return None
    offenders: list[dict] = []
    total = count
    if ctx.frame is not None and count:
        import numpy as np
        import pandas as pd

        frame = ctx.frame
        positions = np.flatnonzero(frame.duplicated(keep="first").to_numpy())
        total = len(positions)
        # Only the named duplicates need their original: find it by row hash, one vector pass each.
        hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        for pos in positions[:MAX_OFFENDERS].tolist():
            original = int(np.argmax(hashes == hashes[pos]))
            offenders.append({"row": pos + 1, "duplicate_of": original + 1})
    noun = "row repeats" if total == 1 else "rows repeat"
    msg = f"{ctx.file}: {total} {noun} an earlier row exactly"
    msg += f": {_names(offenders, total)}." if offenders else "."
    return msg, "duplicate_rows", total, rule.value, offenders


def _constant_columns(rule: Rule, ctx: _Context, _baseline: Any) -> Fired | None:
    rows = ctx.rows
    if rows is None or rows < 2:
        return None  # one row makes every column "constant": not worth telling anyone
    found: list[dict] = []
    if ctx.profile is not None:
        for c in ctx.profile.columns:
            if c.distinct == 1 and c.missing == 0 and c.count > 0:
                value = c.top_values[0][0] if c.top_values else _first_value(ctx, c.name)
                found.append({"column": c.name, "value": value})
    elif ctx.frame is not None:
        for name in ctx.frame.columns:
            col = ctx.frame[name]
            if col.notna().all() and col.nunique() == 1:
                found.append({"column": str(name), "value": _plain(col.iloc[0])})
    if not found:
        return None
    noun = "column holds" if len(found) == 1 else "columns hold"
    names = _names(found[:MAX_OFFENDERS], len(found))
    msg = f"{ctx.file}: {len(found)} {noun} the same value in every row: {names}."
    return msg, "constant_columns", len(found), None, found[:MAX_OFFENDERS]


def _schema_change(rule: Rule, ctx: _Context, baseline: SchemaSnapshot | None) -> Fired | None:
    if baseline is None or ctx.frame is None:
        return None
    now = schema_of(ctx.frame)
    before = baseline.columns
    changes: list[dict] = []
    for name, kind in before.items():
        if name not in now:
            changes.append({"column": name, "change": "removed", "was": kind, "now": None})
    for name, kind in now.items():
        if name not in before:
            changes.append({"column": name, "change": "added", "was": None, "now": kind})
        elif before[name] != kind:
            changes.append({"column": name, "change": "retyped", "was": before[name], "now": kind})
    if not changes:
        return None
    words = []
    for change in ("removed", "added", "retyped"):
        items = [c for c in changes if c["change"] == change]
        if items:
            names = ", ".join(
                c["column"] if change != "retyped" else f"{c['column']} ({c['was']} → {c['now']})"
                for c in items
            )
            words.append(f"{change} {names}")
    previous = baseline.source_key.split("/", 1)[-1]
    msg = f"{ctx.file}: columns changed since the previous file ({previous}): {'; '.join(words)}."
    return msg, "schema", len(changes), None, changes[:MAX_OFFENDERS]


def _row_count(rule: Rule, ctx: _Context, _baseline: Any) -> Fired | None:
    rows = ctx.rows
    if rows is None:
        return None
    if rule.min is not None and rows < rule.min:
        return f"{ctx.file} has {rows} rows, fewer than the minimum {rule.min}.", "rows", rows, rule.min, []
    if rule.max is not None and rows > rule.max:
        return f"{ctx.file} has {rows} rows, more than the maximum {rule.max}.", "rows", rows, rule.max, []
    return None


def _analysis_failed(rule: Rule, ctx: _Context, _baseline: Any) -> Fired | None:
    if ctx.failure is None:
        return None
    f = ctx.failure
    msg = f"{ctx.file} could not be analysed ({f.code}): {f.message}"
    return msg, "error", f.code, None, [{"code": f.code, "permanent": f.permanent}]


_EVALUATORS = {
    "threshold": _threshold,
    "empty_columns": _empty_columns,
    "duplicate_rows": _duplicate_rows,
    "constant_columns": _constant_columns,
    "schema_change": _schema_change,
    "row_count": _row_count,
    "analysis_failed": _analysis_failed,
}


# ----------------------------------------------------------------------------------------------
# Helpers


def schema_of(frame: pd.DataFrame) -> dict[str, str]:
    """Column name → type family (numeric, datetime, boolean, text), from the frame's dtypes.

    Families, not profile types: whether a text column counts as categorical or identifier depends on
    how many distinct values one file happens to have, and would make schema alerts noisy.
    """
    import pandas as pd

    out = {}
    for name in frame.columns:
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            kind = "boolean"
        elif pd.api.types.is_numeric_dtype(dtype):
            kind = "numeric"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kind = "datetime"
        else:
            kind = "text"
        out[str(name)] = kind
    return out


def _schema_baseline(
    state: AlertState | None, slug: str, ctx: _Context, run_id: str
) -> SchemaSnapshot | None:
    if state is None or ctx.frame is None:
        return None
    snapshot = SchemaSnapshot(ctx.source.key, str(ctx.source.generation), run_id, schema_of(ctx.frame))
    try:
        return state.schema_baseline(slug, snapshot)
    except Exception:
        logger.warning("schema history unavailable; schema_change not evaluated", exc_info=True)
        return None


def _by_id(rules: RuleSet, rule_id: str) -> Rule:
    return next(r for r in rules.rules if r.id == rule_id)


def _numeric(series: pd.Series) -> pd.Series | None:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        return None
    return series.astype("float64")


def _compare_series(values: pd.Series, rule: Rule) -> pd.Series:
    """Element-wise ``values <op> rule.value`` as float64 (see Rule.compare: exact, no tolerance)."""
    threshold = float(rule.value)  # type: ignore[arg-type]
    return {
        ">": values > threshold,
        ">=": values >= threshold,
        "<": values < threshold,
        "<=": values <= threshold,
    }[
        rule.op  # type: ignore[index]
    ]


def _skip(rule: Rule, why: str) -> None:
    logger.info("alert rule skipped", extra={"rule": rule.id, "reason": why})
    return None


def _first_value(ctx: _Context, name: str) -> Any:
    if ctx.frame is None or name not in ctx.frame.columns:
        return None
    col = ctx.frame[name].dropna()
    return _plain(col.iloc[0]) if len(col) else None


def _missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """A JSON-friendly Python value (numpy scalars → int/float, timestamps → ISO text)."""
    if value is None or _missing(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return value
    return value if isinstance(value, int | float | str | bool) else str(value)


def _describe(o: dict) -> str:
    if "duplicate_of" in o:
        return f"row {o['row']} (= row {o['duplicate_of']})"
    if "change" in o:
        return o["column"]
    if "column" in o:
        return f"{o['column']} ({o['value']!r})" if "value" in o else o["column"]
    who = o.get("label") or f"row {o['row']}"
    return f"{who} ({format_number(o['value'])})" if "value" in o and o["value"] is not None else who


def _names(offenders: list[dict], total: int) -> str:
    """'a, b and c' or 'a, b, … and 7 more'."""
    parts = [_describe(o) for o in offenders]
    more = total - len(parts)
    if more > 0:
        return ", ".join(parts) + f" and {more} more"
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
