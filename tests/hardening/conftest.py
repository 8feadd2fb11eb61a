"""The hardening section: hostile inputs and injected faults, counted as the tests run.

Tests record what they actually tried through the ``tally`` fixture; the terminal summary prints
``hardening: N hostile inputs tried, M faults injected, K files lost``. A test that loses a file fails
(it asserts exactly one report per file), so a green run always prints ``0 files lost``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest


@dataclass
class Tally:
    hostile: Counter = field(default_factory=Counter)  # kind -> how many hostile inputs tried
    faults: Counter = field(default_factory=Counter)  # kind -> how many faults injected
    files: int = 0  # files that went through a hostile or faulty run and were checked for a report
    lost: int = 0

    def hostile_input(self, kind: str, n: int = 1) -> None:
        self.hostile[kind] += n

    def fault(self, kind: str, n: int = 1) -> None:
        self.faults[kind] += n

    def file_checked(self, reports: int) -> None:
        """One file's outcome: exactly one report is right; anything else counts as lost."""
        self.files += 1
        if reports != 1:
            self.lost += 1


_TALLY = Tally()


@pytest.fixture
def tally() -> Tally:
    return _TALLY


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    t = _TALLY
    if not (t.hostile or t.faults or t.files):
        return
    hostile, faults = sum(t.hostile.values()), sum(t.faults.values())
    terminalreporter.section("hardening")
    terminalreporter.write_line(
        f"hardening: {hostile} hostile inputs tried, {faults} faults injected, "
        f"{t.files} files checked, {t.lost} files lost"
    )
    for title, counter in (("hostile inputs", t.hostile), ("faults", t.faults)):
        if counter:
            terminalreporter.write_line(
                f"  {title}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
            )
