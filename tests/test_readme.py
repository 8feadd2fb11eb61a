"""README stays true to the code: every setting documented, the newcomer commands present."""

from __future__ import annotations

from pathlib import Path

from shared.settings import env_names

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_documented():
    missing = [name for name in env_names() if f"`{name}`" not in README]
    assert not missing


def test_newcomer_commands_are_shown():
    for command in ("make demo", "make test", "make analyze FILE=", "make up", "make ask", "make bench"):
        assert command in README, command
