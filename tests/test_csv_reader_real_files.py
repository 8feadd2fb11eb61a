"""read_csv on real exports we did not write: vega-datasets, palmerpenguins, matplotlib, distro-info.

Row counts are checked against an independent reader (pandas.read_csv with its defaults), and a few
hand-checked facts per file pin the types (dates become datetimes, prices numbers, labels text).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from shared.csv_reader import read_csv
from tests.csv_helpers import LIMITS, run_loader


def _package_dir(module: str) -> Path | None:
    try:
        imported = __import__(module)
    except ImportError:
        return None
    return Path(imported.__file__).parent


def _matplotlib_sample_data() -> Path | None:
    try:
        import matplotlib
    except ImportError:
        return None
    return Path(matplotlib.get_data_path()) / "sample_data"


VEGA = (_package_dir("vega_datasets") or Path("/nonexistent")) / "_data"
PENGUINS = (_package_dir("palmerpenguins") or Path("/nonexistent")) / "data"
MPL = _matplotlib_sample_data() or Path("/nonexistent")
DISTRO = Path("/usr/share/distro-info")

# file -> (pandas.read_csv kwargs for the independent count, {column: dtype}, {(column, row): value})
REAL = {
    VEGA / "airports.csv": (
        {},
        {"iata": "string", "latitude": "float64", "longitude": "float64"},
        {("iata", 0): "00M", ("state", 0): "MS"},
    ),
    VEGA / "iowa-electricity.csv": (
        {},
        {"year": "datetime64[ns]", "source": "string", "net_generation": "Int64"},
        {("year", 0): datetime(2001, 1, 1), ("net_generation", 0): 35361},
    ),
    VEGA / "la-riots.csv": (
        {},
        {"age": "Int64", "death_date": "datetime64[ns]", "longitude": "float64"},
        {("death_date", 0): datetime(1992, 4, 30), ("age", 0): 18},
    ),
    VEGA / "seattle-temps.csv": (
        {},
        {"date": "datetime64[ns]", "temp": "float64"},
        {("date", 1): datetime(2010, 1, 1, 1, 0), ("temp", 0): 39.4},
    ),
    VEGA / "seattle-weather.csv": (
        {},
        {"date": "datetime64[ns]", "precipitation": "float64", "weather": "string"},
        {("date", 1): datetime(2012, 1, 2), ("precipitation", 1): 10.9},
    ),
    VEGA / "sf-temps.csv": (
        {},
        {"temp": "float64", "date": "datetime64[ns]"},
        {("date", 0): datetime(2010, 1, 1), ("temp", 0): 47.8},
    ),
    VEGA / "stocks.csv": (
        {},
        {"symbol": "string", "date": "datetime64[ns]", "price": "float64"},
        {("date", 1): datetime(2000, 2, 1), ("price", 1): 36.35},
    ),
    VEGA / "us-employment.csv": (
        {},
        {"month": "datetime64[ns]", "nonfarm": "Int64", "wholesale_trade": "float64"},
        {("nonfarm", 0): 135450, ("wholesale_trade", 0): 5840.4},
    ),
    PENGUINS / "penguins.csv": (
        {},
        {
            "species": "string",
            "bill_length_mm": "float64",
            "body_mass_g": "Int64",
            "sex": "string",
            "year": "Int64",
        },
        {("bill_length_mm", 0): 39.1, ("body_mass_g", 0): 3750},
    ),
    PENGUINS / "penguins-raw.csv": (
        {},
        {"Date Egg": "datetime64[ns]", "Clutch Completion": "boolean", "Delta 15 N (o/oo)": "float64"},
        {("Date Egg", 0): datetime(2007, 11, 11), ("Clutch Completion", 0): True},
    ),
    MPL / "Stocks.csv": (
        {"skiprows": 1},
        {"Date": "datetime64[ns]", "IBM": "float64", "AMZN": "float64"},
        {("Date", 0): datetime(1990, 1, 1), ("IBM", 0): 10.970438003540039},
    ),
    MPL / "msft.csv": (
        {},
        {"Date": "datetime64[ns]", "Open": "float64", "Volume": "Int64"},
        {("Date", 0): datetime(2003, 9, 19), ("Volume", 0): 92433800, ("Close", 0): 29.96},
    ),
    DISTRO / "debian.csv": (
        {},
        {"codename": "string", "created": "datetime64[ns]", "release": "datetime64[ns]"},
        {("codename", 0): "Buzz", ("release", 0): datetime(1996, 6, 17)},
    ),
    DISTRO / "ubuntu.csv": (
        {},
        {"codename": "string", "release": "datetime64[ns]", "eol": "datetime64[ns]"},
        {("codename", 0): "Warty Warthog", ("eol", 0): datetime(2006, 4, 30)},
    ),
}


def _present(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is not installed here")
    return path


@pytest.mark.parametrize("path", list(REAL), ids=lambda p: p.name)
def test_real_file_rows_types_and_values(path):
    path = _present(path)
    kwargs, dtypes, facts = REAL[path]
    table = read_csv(path, path.name, LIMITS)
    assert len(table.frame) == len(pd.read_csv(path, **kwargs))
    assert not table.skipped_rows
    for column, dtype in dtypes.items():
        assert str(table.frame[column].dtype) == dtype, column
    for (column, row), value in facts.items():
        assert table.frame[column].iloc[row] == value, (column, row)


@pytest.mark.parametrize("path", list(REAL), ids=lambda p: p.name)
def test_real_file_loader_code_rebuilds_the_frame(path):
    path = _present(path)
    table = read_csv(path, path.name, LIMITS)
    pd.testing.assert_frame_equal(run_loader(table, path), table.frame)


def test_penguins_missing_values_stay_missing():
    path = _present(PENGUINS / "penguins.csv")
    table = read_csv(path, path.name, LIMITS)
    independent = pd.read_csv(path)
    for column in table.frame.columns:
        assert table.frame[column].isna().sum() == independent[column].isna().sum(), column
    assert table.frame["sex"].isna().sum() == 11


def test_stocks_title_line_is_skipped_and_reported():
    path = _present(MPL / "Stocks.csv")
    table = read_csv(path, path.name, LIMITS)
    assert list(table.frame.columns)[:3] == ["Date", "IBM", "AAPL"]
    assert any("title line" in w for w in table.warnings)


def test_distro_info_short_rows_keep_their_fields_in_place():
    path = _present(DISTRO / "debian.csv")
    table = read_csv(path, path.name, LIMITS)
    independent = pd.read_csv(path)
    assert table.frame["eol-lts"].isna().sum() == independent["eol-lts"].isna().sum()
    assert any("fewer fields" in w for w in table.warnings)
