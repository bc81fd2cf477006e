"""Fixtures: one emulator process per test session (``--port 0``), reset before every test.

The emulator runs with a long create/update delay so lifecycle tests move its clock instead of
sleeping; tests that need real-time delays set them through the control API.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EMU_DIR = os.path.dirname(HERE)
sys.path.insert(0, EMU_DIR)
sys.path.insert(0, HERE)

import client  # noqa: E402

os.environ['AWS_DATA_PATH'] = client.models_path()
for var in ('AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_SESSION_TOKEN'):
    os.environ.pop(var, None)
os.environ['AWS_CONFIG_FILE'] = os.devnull
os.environ['AWS_SHARED_CREDENTIALS_FILE'] = os.devnull
os.environ['AWS_EC2_METADATA_DISABLED'] = 'true'

import pytest  # noqa: E402
from botocore.config import Config  # noqa: E402

DELAY = 30.0


@pytest.fixture(scope='session')
def emu_process():
    emu = client.start(create_delay=DELAY, update_delay=DELAY, delete_delay=5)
    yield emu
    assert emu.stop() == 0


@pytest.fixture
def emu(emu_process):
    emu_process.reset()
    return emu_process


NO_RETRY = Config(retries={'total_max_attempts': 1}, connect_timeout=5, read_timeout=10)


@pytest.fixture
def aws(emu):
    """Factory: aws('sagemaker', region='us-east-1', **client kwargs) -> boto3 client (no retries)."""
    def make(service, region='us-east-1', **kwargs):
        kwargs.setdefault('config', NO_RETRY)
        return emu.boto3_client(service, region=region, **kwargs)
    return make


@pytest.fixture
def sm(aws):
    return aws('sagemaker')
