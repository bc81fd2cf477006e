"""The call log.

Owns the record of every AWS request the emulator answered (or dropped): sequence number, wall-clock
time, service (signing name), operation, HTTP status (0 for a dropped connection), error code,
duration in milliseconds, account and region. Entries are kept in a bounded ring (newest
``max_entries``); per-operation counts are kept separately and never trimmed until cleared.
"""

import collections
import threading
import time

FIELDS = ('seq', 'time', 'service', 'operation', 'status', 'error', 'duration_ms', 'account',
          'region')


class CallLog:
    def __init__(self, max_entries=200000):
        self._lock = threading.Lock()
        self._entries = collections.deque(maxlen=max_entries)
        self._counts = collections.Counter()
        self._seq = 0

    def record(self, service, operation, status, error, duration_ms, account, region):
        with self._lock:
            self._seq += 1
            self._entries.append((self._seq, time.time(), service, operation, status, error,
                                  round(duration_ms, 3), account, region))
            self._counts[(service, operation)] += 1

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._counts.clear()

    @property
    def last_seq(self):
        return self._seq

    def query(self, service=None, operation=None, since=None, after=None, status=None,
              error=None, account=None, limit=None):
        """Matching entries as dicts, oldest first (``limit`` keeps the newest)."""
        with self._lock:
            rows = list(self._entries)
        out = []
        for row in rows:
            seq, t, svc, op, st, err, _, acct, _ = row
            if after is not None and seq <= after:
                continue
            if since is not None and t < since:
                continue
            if service is not None and svc != service:
                continue
            if operation is not None and op != operation:
                continue
            if status is not None and st != status:
                continue
            if error is not None and err != error:
                continue
            if account is not None and acct != account:
                continue
            out.append(dict(zip(FIELDS, row)))
        if limit is not None:
            out = out[-limit:]
        return out

    def counts(self, **filters):
        """{"service.Operation": n}; unfiltered counts cover every call since the last clear."""
        if not any(v is not None for v in filters.values()):
            with self._lock:
                return {'%s.%s' % k: n for k, n in sorted(self._counts.items())}
        c = collections.Counter()
        for e in self.query(**filters):
            c['%s.%s' % (e['service'], e['operation'])] += 1
        return dict(sorted(c.items()))
