"""Fixtures shared by the plan and apply suites: one emulator per module with short endpoint
lifecycles, and per test a clean account with its own state file, manifests directory and
environment. A module that needs other emulator settings defines its own `emu`, which wins."""
import pytest

import aws_helpers as H

POLL_MS = '40'  # plumb's endpoint poll interval: the emulator's lifecycles last 0.2 s


@pytest.fixture(scope='module')
def emu():
    e = H.emulator.start(create_delay=0.2, update_delay=0.2, delete_delay=0.1)
    yield e
    e.stop()


class Workspace:
    """emu, tmp (the test's directory), state (state file), env (plumb's environment) and m
    (where the test puts its manifests)."""

    def __init__(self, emu, tmp_path):
        self.emu = emu
        self.tmp = tmp_path
        self.state = tmp_path / 'state' / 'state.db'
        self.env = H.clean_env(emu, tmp_path, PLUMB_POLL_MS=POLL_MS)
        self.m = str(tmp_path / 'm')


@pytest.fixture
def ws(emu, tmp_path):
    emu.reset()
    emu.configure(create_delay=0.2, update_delay=0.2, delete_delay=0.1)
    return Workspace(emu, tmp_path)
