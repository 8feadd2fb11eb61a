"""The pandas code that repeats a read: the first cell of the report's re-runnable notebook.

Every name and path from the file is embedded with ``repr`` (it is untrusted text), and the
converters are copied from ``shared.csv_values`` by source, so the notebook types columns exactly as
the pipeline did.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

from shared import csv_values

if TYPE_CHECKING:
    from shared.csv_reader import Dialect, ReadSpec


def render(dialect: Dialect, spec: ReadSpec, path: str) -> str:
    """Python source that leaves the typed frame in ``df``."""
    used = []
    for recipe in spec.recipes:
        if recipe.converter not in used:
            used.append(recipe.converter)
    functions = "\n\n".join(inspect.getsource(csv_values.CONVERTERS[name]).rstrip() for name in used)
    args = [
        repr(path),
        f"sep={dialect.delimiter!r}",
        f"encoding={dialect.encoding!r}",
        f"compression={dialect.compression!r}",
        "header=None",
        f"skiprows={spec.skiprows!r}",
        f"names={spec.names!r}",
        "index_col=False",
        "dtype=str",
        "keep_default_na=False",
        f"na_values={list(spec.missing_tokens)!r}",
        'on_bad_lines="skip"',
    ]
    read = "df = pd.read_csv(\n" + "".join(f"    {a},\n" for a in args) + ")"
    conversions = []
    for recipe in spec.recipes:
        call_args = "".join(f", {key}={value!r}" for key, value in recipe.kwargs.items())
        conversions.append(f"df[{recipe.name!r}] = {recipe.converter}(df[{recipe.name!r}]{call_args})")
    parts = [
        "# Rebuilds the typed table the pipeline analysed, from the original file.",
        "import pandas as pd",
        functions,
        read,
        "\n".join(conversions),
    ]
    return "\n\n\n".join(parts[:3]) + "\n\n\n" + "\n".join(parts[3:]) + "\n"
