"""Fixtures shared by every test folder.

The live local stack is session-scoped and defined here (not in tests/stack/) so tests/stack and
tests/hardening share one set of emulators and functions in a session instead of starting two.
"""

from __future__ import annotations

import pytest

from scripts.local_stack import ALERTS_TAP, DEAD_LETTER_TAP, RESULTS_TAP, LocalStack, PrerequisiteError
from shared.settings import Settings
from tests.stack.conftest import Live, Tap
from tests.stack.faults import FaultProxy


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory):
    """The live local stack (emulators + functions + bridge), once per session."""
    stack = LocalStack(settings=Settings(), log_dir=tmp_path_factory.mktemp("stack-logs"))
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
