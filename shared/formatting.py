"""Numbers, sizes, durations and timestamps written for people (thousands separators, few digits)."""

from __future__ import annotations

import math
from datetime import datetime


def number(value: object) -> str:
    """A statistic for people: ``1234567.8`` → ``1,234,568``; ``1340.6523`` → ``1,340.65``;
    ``0.0123456`` → ``0.0123``; ``1.5e-07`` → ``1.5e-07``; None/NaN → ``–``.

    At most two decimals above 1 (what a person compares), three significant digits below 1, no
    trailing zeros, scientific notation only for the very large or very small.
    """
    if value is None or isinstance(value, bool):
        return "–" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    size = abs(x)
    if size >= 1e15 or size < 1e-4:
        return f"{x:.3g}"
    if size >= 1e5:
        decimals = 0
    elif size >= 1:
        decimals = 2
    else:
        decimals = 2 - math.floor(math.log10(size))  # three significant digits
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def integer(value: object) -> str:
    """A count with thousands separators (``–`` when unknown)."""
    if value is None:
        return "–"
    try:
        return f"{int(value):,}"  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(value)


def percent(part: float, whole: float) -> str:
    """``part`` of ``whole`` as a percentage with one decimal (``<0.1%`` for tiny non-zero shares)."""
    if not whole:
        return "–"
    share = 100.0 * part / whole
    if 0 < share < 0.1:
        return "<0.1%"
    return f"{share:.1f}%".replace(".0%", "%")


def size(n_bytes: object, *, exact: bool = True) -> str:
    """``1536`` → ``1.5 KiB (1,536 bytes)`` (``1.5 KiB`` without ``exact``)."""
    if n_bytes is None:
        return "–"
    n = int(n_bytes)  # type: ignore[call-overload]
    if n < 1024:
        return f"{n:,} bytes"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}" + (f" ({n:,} bytes)" if exact else "")
    raise AssertionError("unreachable")


def seconds(value: object) -> str:
    """``0.0042`` → ``4 ms``; ``3.456`` → ``3.46 s``; ``41.72`` → ``41.7 s``; ``125`` → ``2 min 5 s``."""
    if value is None:
        return "–"
    s = float(value)  # type: ignore[arg-type]
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        text = f"{s:.2f}" if s < 10 else f"{s:.1f}"
        return text.rstrip("0").rstrip(".") + " s"
    minutes, rest = divmod(round(s), 60)
    return f"{minutes} min {rest} s"


def timestamp(iso: object) -> str:
    """ISO-8601 → ``2026-11-25 02:10 UTC`` (or the text as given if it does not parse)."""
    if not iso:
        return "–"
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    suffix = " UTC" if moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0 else ""
    return moment.strftime("%Y-%m-%d %H:%M:%S") + suffix


def date(iso: object) -> str:
    """A datetime value from the profile: the date alone when the time is midnight."""
    if not iso:
        return "–"
    text = str(iso)
    for midnight in ("T00:00:00", " 00:00:00"):
        if text.endswith(midnight):
            return text[: -len(midnight)]
    return text.replace("T", " ")
