"""The emulator clock.

Owns the notion of "now" used for resource timestamps, lifecycles (Creating -> InService after the
create delay, ...) and temporary-credential expiry. It runs ``speed`` times as fast as the wall
clock and can be advanced by a number of seconds. SigV4 clock-skew checks use the wall clock,
because clients sign with theirs.
"""

import threading
import time


class Clock:
    def __init__(self, speed=1.0):
        self._lock = threading.Lock()
        self._real0 = time.time()
        self._emu0 = self._real0
        self._speed = float(speed)

    def now(self):
        return self._emu0 + (time.time() - self._real0) * self._speed

    @property
    def speed(self):
        return self._speed

    def set_speed(self, speed):
        if speed <= 0:
            raise ValueError('speed must be > 0')
        with self._lock:
            now = self.now()
            self._real0 = time.time()
            self._emu0 = now
            self._speed = float(speed)

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError('the clock only moves forward')
        with self._lock:
            self._emu0 += float(seconds)

    def reset(self, speed=1.0):
        with self._lock:
            self._real0 = time.time()
            self._emu0 = self._real0
            self._speed = float(speed)

    def describe(self):
        now = self.now()
        return {'now': now, 'speed': self._speed, 'offset': now - time.time()}
