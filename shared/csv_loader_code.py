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
        converter = csv_values.CONVERTERS[recipe.converter]
        for function in [*csv_values.HELPERS.get(recipe.converter, []), converter]:
            if function not in used:
                used.append(function)
    functions = "\n\n\n".join(inspect.getsource(function).rstrip() for function in used)
    args = [
        repr(path),
        f"sep={dialect.delimiter!r}",
        f"encoding={dialect.encoding!r}",
        f"compression={dialect.compression!r}",
        "header=None",
        f"skiprows={spec.skiprows!r}",
        f"names={spec.names!r}",
        *([f"usecols={list(range(len(spec.names)))!r}"] if spec.drop_extra_fields else []),
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
    # pandas and the pipeline's parser agree on every file in the test suite, but not on every
    # pathological one (quotes inside skipped rows): say so rather than diverge silently.
    conversions.append(
        f"if len(df) != {spec.rows}:\n"
        f'    print(f"note: the pipeline read {spec.rows} rows from this file; this read gives {{len(df)}}")'
    )
    head = "# Rebuilds the typed table the pipeline analysed, from the original file.\nimport pandas as pd"
    return f"{head}\n\n\n{functions}\n\n\n{read}\n" + "".join(f"{line}\n" for line in conversions)
