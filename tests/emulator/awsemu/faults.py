"""Fault injection.

Owns the faults applied to AWS requests, each optionally restricted to a service and/or operation:

- ``latency``:   sleep ``ms`` (+ uniform ``jitter_ms``) before answering; with ``floor`` true,
                 answer no sooner than that after the request arrived instead (the emulator's
                 own work counts towards it, as a service's does towards its latency);
- ``drop``:      close the connection without a reply, with probability ``rate``;
- ``throttle``:  token buckets (``rate`` tokens/s, ``burst`` capacity), one per rule and operation;
                 an empty bucket answers the service's throttling error;
- ``errors``:    5xx replies with probability ``rate`` (``status`` 500 or 503, optional ``code``);
- ``endpoint_failures``: make the next CreateEndpoint/UpdateEndpoint of an endpoint name end
                 ``Failed`` (with a reason) or silently roll back (InService on the old config with
                 FailureReason set).

``drop`` and ``errors`` rules may carry ``count``: the rule then fires on the next ``count``
matching calls (with its ``rate``, default 1.0) and then retires. They may also carry ``after``:
true fires the fault once the operation has succeeded — its effect stays, only the reply is lost
or replaced by the 5xx (the ambiguous failure a client must reconcile). A ``seed`` makes the
random choices reproducible. Rules are matched in order; the first matching rule of each kind
(and, for drop/errors, of the same ``after``) applies.
"""

import random
import threading
import time

SERVICE_ALIASES = {
    'cloudwatch': 'monitoring', 'monitoring': 'monitoring',
    'sagemaker': 'sagemaker',
    'application-autoscaling': 'application-autoscaling', 'autoscaling': 'application-autoscaling',
    'aas': 'application-autoscaling',
    'sns': 'sns', 'sts': 'sts',
    'tagging': 'tagging', 'resourcegroupstaggingapi': 'tagging',
}

KINDS = ('latency', 'drop', 'throttle', 'errors', 'endpoint_failures')


def canonical_service(name):
    if name is None:
        return None
    try:
        return SERVICE_ALIASES[name.lower()]
    except KeyError:
        raise ValueError('unknown service %r' % name)


class _Rule:
    def __init__(self, spec, kind):
        if not isinstance(spec, dict):
            raise ValueError('%s rule must be an object' % kind)
        self.spec = dict(spec)
        self.service = canonical_service(spec.get('service'))
        self.operation = spec.get('operation')
        self.count = spec.get('count')
        self.after = spec.get('after', False)
        if not isinstance(self.after, bool):
            raise ValueError('after must be true or false')
        if self.after and kind not in ('drop', 'errors'):
            raise ValueError('only drop and errors rules take "after"')
        if self.count is not None and (not isinstance(self.count, int) or self.count < 0):
            raise ValueError('count must be a non-negative integer')
        rate = spec.get('rate', 1.0 if kind in ('drop', 'errors') and self.count else None)
        if kind == 'latency':
            self.ms = float(spec.get('ms', 0))
            self.jitter = float(spec.get('jitter_ms', 0))
            self.floor = spec.get('floor', False)
            if self.ms < 0 or self.jitter < 0:
                raise ValueError('latency must be >= 0')
            if not isinstance(self.floor, bool):
                raise ValueError('floor must be true or false')
        elif kind in ('drop', 'errors'):
            if rate is None:
                raise ValueError('%s rule needs rate (0..1) or count' % kind)
            self.rate = float(rate)
            if not 0 <= self.rate <= 1:
                raise ValueError('rate must be within 0..1')
            if kind == 'errors':
                self.status = int(spec.get('status', 500))
                if self.status < 500 or self.status > 599:
                    raise ValueError('errors status must be 5xx')
                self.code = spec.get('code')
        elif kind == 'throttle':
            self.rate = float(spec.get('rate', 1))
            self.burst = float(spec.get('burst', max(1.0, self.rate)))
            if self.rate < 0 or self.burst < 1:
                raise ValueError('throttle needs rate >= 0 and burst >= 1')
            self.buckets = {}

    def matches(self, service, operation):
        return ((self.service is None or self.service == service)
                and (self.operation is None or self.operation == operation))

    def describe(self):
        d = dict(self.spec)
        if self.count is not None:
            d['count'] = self.count
        return d


class Faults:
    def __init__(self, seed=None):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rules = {k: [] for k in KINDS}
        self.seed = seed

    # -- configuration ---------------------------------------------------------------------

    def configure(self, spec):
        """Replace all faults with ``spec`` ({kind: [rule, ...], 'seed': n}); validates first."""
        if not isinstance(spec, dict):
            raise ValueError('faults must be a JSON object')
        unknown = set(spec) - set(KINDS) - {'seed'}
        if unknown:
            raise ValueError('unknown fault kinds: %s' % ', '.join(sorted(unknown)))
        rules = {k: [] for k in KINDS}
        for kind in KINDS:
            items = spec.get(kind) or []
            if isinstance(items, dict):
                items = [items]
            for item in items:
                if kind == 'endpoint_failures':
                    rules[kind].append(self._deploy_rule(item))
                else:
                    rules[kind].append(_Rule(item, kind))
        with self._lock:
            self._rules = rules
            if 'seed' in spec:
                self.seed = spec['seed']
                self._rng = random.Random(spec['seed'])

    def add(self, kind, item):
        if kind not in KINDS:
            raise ValueError('unknown fault kind %r' % kind)
        rule = self._deploy_rule(item) if kind == 'endpoint_failures' else _Rule(item, kind)
        with self._lock:
            self._rules[kind].append(rule)

    def clear(self):
        with self._lock:
            self._rules = {k: [] for k in KINDS}

    def describe(self):
        with self._lock:
            out = {k: [r.describe() if isinstance(r, _Rule) else dict(r) for r in v]
                   for k, v in self._rules.items()}
        out['seed'] = self.seed
        return out

    @staticmethod
    def _deploy_rule(item):
        if not isinstance(item, dict) or not item.get('endpoint'):
            raise ValueError('endpoint_failures rule needs "endpoint" (a name or "*")')
        on = item.get('on', 'any')
        mode = item.get('mode', 'fail')
        if on not in ('create', 'update', 'any'):
            raise ValueError('"on" must be create, update or any')
        if mode not in ('fail', 'rollback'):
            raise ValueError('"mode" must be fail or rollback')
        count = item.get('count', 1)
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError('count must be a positive integer or null (always)')
        return {'endpoint': item['endpoint'], 'on': on, 'mode': mode, 'count': count,
                'reason': item.get('reason')}

    # -- application -------------------------------------------------------------------------

    def latency(self, service, operation):
        """(seconds, floor): sleep that long before answering, or (floor) answer no sooner than
        that long after the request arrived, the emulator's own work included."""
        for r in self._rules['latency']:
            if r.matches(service, operation):
                with self._lock:
                    extra = self._rng.uniform(0, r.jitter) if r.jitter else 0.0
                return (r.ms + extra) / 1000.0, r.floor
        return 0.0, False

    def _fires(self, kind, service, operation, after):
        for r in self._rules[kind]:
            if r.after != after or not r.matches(service, operation):
                continue
            with self._lock:
                if r.count is not None and r.count <= 0:
                    continue
                hit = r.rate >= 1 or self._rng.random() < r.rate
                if hit and r.count is not None:
                    r.count -= 1
            return r if hit else None
        return None

    def should_drop(self, service, operation, after=False):
        """Drop the connection: before the operation, or (after=True) once it succeeded."""
        return self._fires('drop', service, operation, after) is not None

    def error(self, service, operation, after=False):
        """(status, code or None) of an injected 5xx (before, or after the operation), or None."""
        r = self._fires('errors', service, operation, after)
        return (r.status, r.code) if r else None

    def throttled(self, service, operation):
        for r in self._rules['throttle']:
            if not r.matches(service, operation):
                continue
            now = time.monotonic()
            with self._lock:
                key = (service, operation)
                tokens, last = r.buckets.get(key, (r.burst, now))
                tokens = min(r.burst, tokens + (now - last) * r.rate)
                if tokens >= 1:
                    r.buckets[key] = (tokens - 1, now)
                    return False
                r.buckets[key] = (tokens, now)
                return True
        return False

    def take_endpoint_failure(self, endpoint, action):
        """Consume the first endpoint-failure rule for ``endpoint`` on ``action``.

        Returns {'mode': 'fail'|'rollback', 'reason': str or None} or None.
        """
        with self._lock:
            for r in self._rules['endpoint_failures']:
                if r['endpoint'] != '*' and r['endpoint'].lower() != endpoint.lower():
                    continue
                if r['on'] not in ('any', action):
                    continue
                if r['count'] is not None:
                    if r['count'] <= 0:
                        continue
                    r['count'] -= 1
                return {'mode': r['mode'], 'reason': r['reason']}
        return None
