"""Deciding whether the first line is a header, and making column names usable."""

from __future__ import annotations

from typing import Any

import pandas as pd


def header_is_data(header: list[str], plans: list[Any]) -> bool:
    """True when every typed column's header cell would itself parse as that column's type."""
    typed = [(cell, plan) for cell, plan in zip(header, plans, strict=True) if plan.converter != "to_text"]
    if not typed:
        return False  # all-text tables: a header cannot be told from data, so trust the first line
    for cell, plan in typed:
        if not cell.strip():
            return False
        if pd.isna(plan.apply(pd.Series([cell], dtype=object)).iloc[0]):
            return False
    return True


def unique_names(header: list[str]) -> tuple[list[str], dict[str, str]]:
    """Names with empties as column_<i> and repeats as name_2, name_3; plus new -> original."""
    names: list[str] = []
    renamed: dict[str, str] = {}
    taken = {h for h in header if h}
    for i, original in enumerate(header, 1):
        base = original or f"column_{i}"
        name, n = base, 2
        while name in names or (name != original and name in taken):
            name, n = f"{base}_{n}", n + 1
        if name != original:
            renamed[name] = original
        names.append(name)
        taken.add(name)
    return names, renamed
