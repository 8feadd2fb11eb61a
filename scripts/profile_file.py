"""Profile one CSV as the pipeline's read + profile step does, as a whole process (for `make bench`).

  python -m scripts.profile_file FILE             the pipeline: reader + pandas engine at or below
                                                  LARGE_FILE_BYTES, DuckDB streaming above it
  python -m scripts.profile_file FILE --pandas    the obvious alternative: pandas read_csv + describe +
                                                  quantiles + IQR outliers + corr, every row in memory
  python -m scripts.profile_file FILE --stream    a large file read as a stream through a pipe, as the
                                                  analyze function reads a cloud object
  python -m scripts.profile_file FILE --aggregates  also the analyst's aggregates of every row

Prints one JSON line: rows, columns, seconds, path taken.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def pipeline_profile(path: Path, *, stream: bool = False, aggregates: bool = False) -> dict:
    from shared.csv_reader import Limits, read_csv
    from shared.settings import Settings

    settings = Settings.from_env()
    limits = Limits.from_settings(settings)
    if path.stat().st_size > settings.large_file_bytes:
        from functools import partial

        from shared.large_file import profile_large_file
        from shared.stream_feed import ObjectStream

        # a stream is what the analyze function reads a cloud object as (through a pipe, once per pass)
        data = ObjectStream(partial(path.open, "rb"), path.stat().st_size) if stream else path
        result = profile_large_file(data, path.name, limits, aggregates=aggregates)
        return {
            "path": "duckdb" + (", streamed" if stream else ""),
            "rows": result.profile.rows,
            "columns": len(result.profile.columns),
            "load_s": round(result.load_s, 3),
            "profile_s": round(result.profile_s, 3),
            "aggregates_s": round(result.aggregates_s, 3),
        }
    from shared.profile import compute_profile

    profile = compute_profile(read_csv(path, path.name, limits))
    return {"path": "reader+pandas", "rows": profile.rows, "columns": len(profile.columns)}


def pandas_profile(path: Path) -> dict:
    """What one would write with pandas: the same statistics, every row in memory."""
    import pandas as pd

    frame = pd.read_csv(path)
    numeric = frame.select_dtypes("number")
    frame.describe(include="all")
    quartiles = numeric.quantile([0.25, 0.5, 0.75])
    iqr = quartiles.loc[0.75] - quartiles.loc[0.25]
    ((numeric < quartiles.loc[0.25] - 1.5 * iqr) | (numeric > quartiles.loc[0.75] + 1.5 * iqr)).sum()
    frame.isna().sum()
    frame.nunique()
    numeric.corr()
    return {"path": "pandas", "rows": len(frame), "columns": frame.shape[1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--pandas", action="store_true", help="the pandas baseline instead of the pipeline")
    parser.add_argument("--stream", action="store_true", help="read a large file as a stream (the cloud path)")
    parser.add_argument("--aggregates", action="store_true", help="also the analyst's aggregates (large files)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.pandas:
        result = pandas_profile(args.file)
    else:
        result = pipeline_profile(args.file, stream=args.stream, aggregates=args.aggregates)
    result["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
