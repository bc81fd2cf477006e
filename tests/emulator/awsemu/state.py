"""Emulator-wide state.

Owns the ``Emulator`` context shared by the server, the control API and the services: credentials,
clock, faults, call log, lifecycle settings (create/update/delete delays, silent-rollback mode) and
the resource stores, one ``Region`` per (account, region) holding every service's resources. A
single re-entrant lock serialises all resource reads and writes (cross-service operations such as
DeleteEndpoint deregistering scalable targets are atomic).
"""

import threading
import uuid

from .accounts import Accounts
from .calllog import CallLog
from .clock import Clock
from .faults import Faults


class Settings:
    """Lifecycle settings (seconds on the emulator clock)."""

    FIELDS = ('create_delay', 'update_delay', 'delete_delay', 'silent_rollback')

    def __init__(self, create_delay=2.0, update_delay=None, delete_delay=1.0,
                 silent_rollback=False):
        self.create_delay = float(create_delay)
        self.update_delay = float(create_delay if update_delay is None else update_delay)
        self.delete_delay = float(delete_delay)
        self.silent_rollback = bool(silent_rollback)

    def update(self, values):
        for k, v in values.items():
            if k not in self.FIELDS:
                raise ValueError('unknown setting %r' % k)
            if k == 'silent_rollback':
                if not isinstance(v, bool):
                    raise ValueError('silent_rollback must be true or false')
            else:
                v = float(v)
                if v < 0:
                    raise ValueError('%s must be >= 0' % k)
            setattr(self, k, v)

    def describe(self):
        return {k: getattr(self, k) for k in self.FIELDS}

    def copy(self):
        s = Settings()
        s.update(self.describe())
        return s


class Region:
    """All resources of one account in one region."""

    def __init__(self, account, region):
        self.account = account
        self.region = region
        # SageMaker: keyed by lower-cased name (names are case-insensitive for uniqueness)
        self.models = {}
        self.endpoint_configs = {}
        self.endpoints = {}
        # Application Auto Scaling: keyed by (namespace, resource id, dimension)
        self.scalable_targets = {}
        # policies keyed by (namespace, resource id, dimension, policy name)
        self.scaling_policies = {}
        # CloudWatch alarms keyed by name
        self.alarms = {}
        # SNS topics keyed by name
        self.topics = {}


class Emulator:
    def __init__(self, settings=None, seed=None, speed=1.0, call_log_size=200000):
        self.lock = threading.RLock()
        self.accounts = Accounts()
        self.initial_settings = settings or Settings()
        self.settings = self.initial_settings.copy()
        self.initial_speed = speed
        self.clock = Clock(speed)
        self.initial_seed = seed
        self.faults = Faults(seed)
        self.initial_faults = None  # faults given as flags; restored by reset()
        self.calls = CallLog(call_log_size)
        self._regions = {}

    def region(self, account, region):
        key = (account, region)
        r = self._regions.get(key)
        if r is None:
            with self.lock:
                r = self._regions.get(key)
                if r is None:
                    r = self._regions[key] = Region(account, region)
        return r

    def regions(self):
        return list(self._regions.values())

    def now(self):
        return self.clock.now()

    def reset(self):
        """Forget resources, faults, temporary credentials and calls; restore start-up flags."""
        with self.lock:
            self._regions.clear()
            self.settings = self.initial_settings.copy()
            self.faults = Faults(self.initial_seed)
            if self.initial_faults:
                self.faults.configure(self.initial_faults)
            self.clock.reset(self.initial_speed)
            self.accounts.reset_temporary()
            self.calls.clear()


def request_id():
    return str(uuid.uuid4())
