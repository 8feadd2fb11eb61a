"""Insight sentences written from the numbers the executed cells printed, and nothing else.

Input: the parsed machine lines (``{key: value}``) of the local analyst's cells. Each function returns
zero or more sentences; missing keys (a cell failed or did not apply) simply give none.
"""

from __future__ import annotations

import math
from typing import Any

from shared.analysis_plan import is_amount
from shared.analysts.local_code import nice_number as num

MAX_INSIGHTS = 6
_PHRASES = {
    "day": "Day-over-day",
    "week": "Week-over-week",
    "month": "Month-over-month",
    "hour": "Hour-over-hour",
    "quarter": "Quarter-over-quarter",
    "year": "Year-over-year",
}


def write_insights(results: dict[str, Any]) -> list[str]:
    """3–6 specific sentences, most informative first, from the cells' parsed results."""
    groups = _groups(results.get("groups")) + _top_groups(results.get("top_groups"))
    trend, timeline, weak_trend = _time(results.get("time"), results.get("time_by_category"))
    ranks = _ranks(results.get("ranks"))
    correlations = _correlations(results.get("correlations"))
    outliers = _outliers(results.get("outliers"))
    fallback = _summary(results.get("summary"))
    # The leading sentence of each kind first (all of the time series: it carries the most), then the rest.
    kinds = [groups, trend, timeline, ranks, correlations, outliers, weak_trend, fallback]
    first = [*groups[:1], *trend, *timeline, *ranks[:1], *correlations, *outliers[:1]]
    rest = [s for kind in kinds for s in kind if s not in first]
    chosen = (first + rest)[:MAX_INSIGHTS]
    # Keep the reading order: groups, trend, time, ranks, correlations, outliers, summary.
    order = [s for kind in kinds for s in kind]
    return sorted(chosen, key=order.index)


def clean_text(value: Any, limit: int = 60) -> str:
    """Untrusted text (a column or category name) as one short line."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def signed(value: float) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "") + num(abs(value))


def pct(value: float | None, signed: bool = True) -> str:
    if value is None or math.isnan(value) or math.isinf(value):
        return "n/a"
    text = f"{value:+.1f}%" if signed else f"{value:.1f}%"
    return text.replace("-", "−")


def _groups(groups: dict | None) -> list[str]:
    """One sentence per categorical: totals and shares of amounts, means of measurements (two metrics)."""
    sentences = []
    for category, metrics in (groups or {}).items():
        ranked = sorted(
            metrics.items(),
            key=lambda item: (
                item[1].get("how") != "sum",
                -abs(sum(v for v in item[1]["total"].values() if v) or 0),
            ),
        )
        pieces, kinds = [], set()
        for metric, stats in ranked[:2]:
            summed = stats.get("how", "sum") == "sum"
            values = stats["total"] if summed else stats["mean"]
            pairs = sorted(((k, v) for k, v in values.items() if v is not None), key=lambda kv: -kv[1])
            if len(pairs) < 2:
                continue
            shares = (stats.get("share") or {}) if summed else {}
            kinds.add("total" if summed else "mean")
            pieces.append((summed, metric, _listed(pairs, shares)))
        if not pieces:
            continue
        if len(kinds) == 1:
            head = f"{'Totals' if kinds == {'total'} else 'Means'} by {clean_text(category)}: "
            body = "; ".join(f"{clean_text(m)} {listed}" for _, m, listed in pieces)
        else:
            head = f"By {clean_text(category)}: "
            body = "; ".join(
                f"{'total' if s else 'mean'} {clean_text(m)} {listed}" for s, m, listed in pieces
            )
        sentences.append(head + body + ".")
    return sentences


def _listed(pairs: list[tuple[str, float]], shares: dict, limit: int = 6) -> str:
    text = ", ".join(
        f"{clean_text(k, 30)} {num(v)}" + (f" ({pct(shares[k], False)})" if shares.get(k) is not None else "")
        for k, v in pairs[:limit]
    )
    return text + (f" and {len(pairs) - limit} more" if len(pairs) > limit else "")


def _top_groups(top: dict | None) -> list[str]:
    if not top:
        return []
    category = clean_text(top["category"])
    for metric, stats in top["metrics"].items():
        pairs = [(k, v) for k, v in stats["total"].items() if v is not None]
        if pairs:
            word = "total" if stats.get("how", "sum") == "sum" else "mean"
            listed = _listed(pairs[:5], stats.get("share") or {}, limit=5)
            return [
                f"Largest {category} by {word} {clean_text(metric)} (of {num(top['distinct'])}): {listed}."
            ]
    return []


def _series(values: list, periods: list[str]) -> list[tuple[str, float]]:
    return [(p, v) for p, v in zip(periods, values) if v is not None]


def _growth_list(growth: list, periods: list[str], partial_last: bool = False) -> str:
    pairs = _series(growth, periods)
    if partial_last and pairs and pairs[-1][0] == periods[-1]:
        pairs = pairs[:-1]  # growth into an incomplete period says nothing
    if len(pairs) <= 6:
        return ", ".join(f"{p} {pct(v)}" for p, v in pairs)
    mean = sum(v for _, v in pairs) / len(pairs)
    return f"{pct(mean)} on average, {pct(pairs[-1][1])} in the latest ({pairs[-1][0]})"


def _time(time: dict | None, by_category: dict | None) -> tuple[list[str], list[str], list[str]]:
    """The trend sentence (if the fit is good), the per-category means and growth, and a weak-trend note."""
    if not time:
        return [], [], []
    unit, periods = time["unit"], time["periods"]
    trend_sentences, other, weak = [], [], []
    for metric, fit in list(time.get("trend", {}).items())[:1]:
        points = _series(time["totals"].get(metric, []), periods)
        if len(points) < 2:
            continue
        (first_p, first_v), (last_p, last_v) = points[0], points[-1]
        change = (last_v - first_v) / abs(first_v) * 100 if first_v else None
        r2 = fit.get("r2")
        if r2 is None or math.isnan(r2) or r2 < 0.3:
            # A weak fit is no trend: say so, plainly and late (the chart still shows the line).
            weak.append(
                f"No clear linear trend in {clean_text(metric)} per {unit} (R² {0 if r2 is None or math.isnan(r2) else r2:.2f}): "
                f"it went from {num(first_v)} in {first_p} to {num(last_v)} in {last_p}"
                + (f" ({pct(change)})." if change is not None else ".")
            )
            continue
        direction = "rising" if fit["slope"] > 0 else "falling"
        trend_sentences.append(
            f"The least-squares trend of {clean_text(metric)} is {signed(fit['slope'])} per {unit} (R² {r2:.2f}), "
            f"{direction} from {num(first_v)} in {first_p} to {num(last_v)} in {last_p}"
            + (f" ({pct(change)})." if change is not None else ".")
        )
    if by_category:
        category = clean_text(by_category["category"])
        metrics = by_category["metrics"]
        names = list(metrics)
        # Mean per period of each category, for up to two metrics, in one sentence.
        pieces = []
        for metric in names[:2]:
            means = [(k, v) for k, v in metrics[metric]["mean"].items() if v is not None]
            if means:
                pieces.append(
                    f"{clean_text(metric)} "
                    + ", ".join(f"{clean_text(k, 30)} {num(v)}" for k, v in means[:6])
                )
        if pieces:
            other.append(f"Mean per {unit} by {category}: " + "; ".join(pieces) + ".")
        # Growth of the money-like column if there is one (revenue), else of the last key metric.
        metric = next((n for n in names if is_amount(n)), names[-1])
        growth = metrics[metric]["growth"]
        partial = bool(by_category.get("partial_last"))
        parts = [
            f"{clean_text(k, 30)}: {_growth_list(v, periods, partial)}"
            for k, v in list(growth.items())[:4]
            if _series(v, periods[:-1] if partial else periods)
        ]
        if parts:
            phrase = _PHRASES.get(unit, "Period-over-period")
            other.append(f"{phrase} growth of {clean_text(metric)} by {category}: " + "; ".join(parts) + ".")
    elif time.get("growth"):
        metric = next(iter(time["growth"]))
        if _series(time["growth"][metric], periods):
            other.append(
                f"{_PHRASES.get(unit, 'Period-over-period')} growth of {clean_text(metric)}: "
                f"{_growth_list(time['growth'][metric], periods, bool(time.get('partial_last')))}."
            )
    return trend_sentences, other, weak


def _ranks(ranks: dict | None) -> list[str]:
    """'web-04 has the highest avg_response (410), then web-02 (340) and api-02 (280); api-03 has the
    lowest (88), ...': the value right after the column name, so the profile cross-check can read it."""
    sentences = []
    for metric, r in (ranks or {}).items():
        if len(r["top"]) < 2:
            continue
        top, bottom = r["top"], r["bottom"]
        sentences.append(
            f"{clean_text(top[0][0], 30)} has the highest {clean_text(metric)} ({num(top[0][1])}){_then(top[1:])}; "
            f"{clean_text(bottom[0][0], 30)} has the lowest ({num(bottom[0][1])}){_then(bottom[1:])}."
        )
    return sentences[:4]


def _then(rest: list) -> str:
    named = [f"{clean_text(k, 30)} ({num(v)})" for k, v in rest]
    if not named:
        return ""
    return ", then " + (
        " and ".join(named) if len(named) <= 2 else ", ".join(named[:-1]) + " and " + named[-1]
    )


def _correlations(pairs: list | None) -> list[str]:
    pairs = [p for p in pairs or [] if p[2] is not None and not math.isnan(p[2])]
    if not pairs:
        return []
    if abs(pairs[0][2]) < 0.3:
        a, b, r = pairs[0]
        return [
            f"No notable correlations: the strongest pair, {clean_text(a)} and {clean_text(b)}, has r = {_r(r)}."
        ]
    listed = ", ".join(f"{clean_text(a)} and {clean_text(b)} (r = {_r(r)})" for a, b, r in pairs[:3])
    strength = "strong" if abs(pairs[0][2]) >= 0.7 else "moderate" if abs(pairs[0][2]) >= 0.4 else "weak"
    return [f"The strongest correlations are {listed}; the top pair is {strength}."]


def _r(r: float) -> str:
    """A correlation with enough digits that 0.995 does not read as 1.00."""
    text = f"{r:+.2f}" if abs(r) < 0.995 or abs(r) == 1 else f"{r:+.3f}"
    return text.replace("-", "−")


def _outliers(outliers: dict | None) -> list[str]:
    found = [(m, o) for m, o in (outliers or {}).items() if o["count"]]
    if not outliers:
        return []
    if not found:
        return [f"No IQR outliers in {', '.join(clean_text(m) for m in list(outliers)[:4])}."]
    parts = []
    for metric, o in found[:3]:
        named = ", ".join(f"{clean_text(k, 30)} ({num(v)})" for k, v in o["rows"][:3])
        parts.append(
            f"{clean_text(metric)} has {num(o['count'])} (outside {num(o['low'])} to {num(o['high'])}): {named}"
        )
    return ["IQR outliers: " + "; ".join(parts) + "."]


def _summary(summary: dict | None) -> list[str]:
    if not summary:
        return []
    rows = summary["rows"]
    sentences = [f"The table has {_count(rows, 'row')} and {_count(summary['columns'], 'column')}."]
    for column, stats in list(summary.get("numeric", {}).items())[:2]:
        if not stats.get("count"):
            continue
        if rows == 1:
            sentences.append(f"In the only row, {clean_text(column)} is {num(stats['min'])}.")
        elif stats.get("min") == stats.get("max"):
            sentences.append(f"{clean_text(column)} is {num(stats['min'])} in every row.")
        else:
            sentences.append(
                f"Values of {clean_text(column)} range from {num(stats['min'])} to {num(stats['max'])}, with a mean "
                f"of {num(stats['mean'])} and a median of {num(stats['50%'])}."
            )
    for column, top in list(summary.get("top", {}).items())[:2]:
        if top and summary["rows"] and top[0][1] > 1:
            value, count = top[0]
            sentences.append(
                f"The most frequent {clean_text(column)} is {clean_text(value, 40)} "
                f"({_count(count, 'row')}, {pct(count / summary['rows'] * 100, False)})."
            )
    missing = summary.get("missing", {})
    empty = [c for c, n in missing.items() if n == rows and rows]
    partly = sorted(((c, n) for c, n in missing.items() if c not in empty), key=lambda cn: -cn[1])
    if empty:
        sentences.append(
            f"{', '.join(clean_text(c) for c in empty[:3])} {'is' if len(empty) == 1 else 'are'} entirely empty."
        )
    if partly:
        sentences.append(
            "Missing values: "
            + ", ".join(f"{clean_text(c)} {num(n)} ({pct(n / rows * 100, False)})" for c, n in partly[:4])
            + "."
        )
    elif not empty and rows:
        sentences.append("No values are missing.")
    return sentences


def _count(n: int, noun: str) -> str:
    return f"{num(n)} {noun}" + ("" if n == 1 else "s")
