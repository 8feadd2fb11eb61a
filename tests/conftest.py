"""Suite-wide fixtures.

Isolation: tests never pick up a developer's Gemini credentials or endpoints. The live local stack is
session-scoped and defined here (not in tests/stack/) so tests/stack and tests/hardening share one set
of emulators and functions in a session instead of starting two.
"""

from __future__ import annotations

import os

import pytest

from scripts.local_stack import ALERTS_TAP, DEAD_LETTER_TAP, RESULTS_TAP, LocalStack, PrerequisiteError
from shared.settings import Settings
from tests.stack.conftest import Live, Tap
from tests.stack.faults import FaultProxy

# The Gemini SDK's own variables: with any of them set, ANALYST=auto would choose Gemini.
GEMINI_SDK_VARIABLES = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_VERTEX_BASE_URL",
    "GOOGLE_CLOUD_LOCATION",
)

for _name in GEMINI_SDK_VARIABLES:  # before session fixtures start servers that inherit os.environ
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def _no_gemini_environment(monkeypatch):
    for name in GEMINI_SDK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory):
    """The live local stack (emulators + functions + bridge), once per session."""
    # The local analyst, whatever Gemini variables the developer has exported.
    stack = LocalStack(
        settings=Settings(), log_dir=tmp_path_factory.mktemp("stack-logs"), function_env={"ANALYST": "local"}
    )
    proxy = None
    futures = []
    try:
        try:
            stack.start(functions=False)
        except PrerequisiteError as err:
            pytest.fail(f"the emulator tests need: {err}")
        proxy = FaultProxy(stack.storage_host)
        stack.functions_storage_host = proxy.url
        stack.start_functions()
        subscriber = stack.subscriber()
        taps = {}
        for name in (RESULTS_TAP, ALERTS_TAP, DEAD_LETTER_TAP):
            tap = Tap()
            tap.future = subscriber.subscribe(stack.subscription(name), tap.callback)
            futures.append(tap.future)
            taps[name] = tap
        yield Live(stack, proxy, taps, stack.storage(), stack.settings)
    finally:
        for future in futures:
            future.cancel()
        if proxy is not None:
            proxy.stop()
        stack.stop()
