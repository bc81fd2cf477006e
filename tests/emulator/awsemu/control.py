"""The control API under ``/_emulator/`` (JSON in and out, no signature).

Owns the routes tests, benchmarks and ``make demo`` use to drive and observe the emulator:

    GET    /_emulator/health                 liveness, accounts, settings
    POST   /_emulator/reset                  forget resources, faults, temporary creds, calls
    GET    /_emulator/calls?service=&operation=&since=&after=&status=&error=&account=&limit=
    DELETE /_emulator/calls                  clear the call log (POST /_emulator/calls/clear too)
    GET    /_emulator/calls/counts?...       {"counts": {"sagemaker.DescribeEndpoint": n}, "total"}
    GET    /_emulator/faults                 current faults
    POST   /_emulator/faults                 replace all faults ({latency, drop, throttle, errors,
                                             endpoint_failures, seed})
    POST   /_emulator/faults/<kind>          add one rule of a kind
    DELETE /_emulator/faults                 clear all faults
    POST   /_emulator/endpoint-failures      add an endpoint-failure rule (same as faults/endpoint_failures)
    GET    /_emulator/clock                  {"now", "speed", "offset"}
    POST   /_emulator/clock                  {"speed": x} and/or {"advance": seconds}
    GET    /_emulator/config                 lifecycle settings
    POST   /_emulator/config                 {"create_delay", "update_delay", "delete_delay",
                                              "silent_rollback"}
    POST   /_emulator/credentials            {"access_key", "secret_key", "account"} adds a key

There is deliberately no route that edits AWS resources: tests make drift with ordinary AWS calls.
"""

import json
import urllib.parse

from .faults import canonical_service


class _BadRequest(Exception):
    pass


def _body(raw):
    if not raw or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise _BadRequest('body is not JSON')
    if not isinstance(value, dict):
        raise _BadRequest('body must be a JSON object')
    return value


def _filters(query):
    q = dict(urllib.parse.parse_qsl(query))
    out = {}
    try:
        if 'service' in q:
            out['service'] = canonical_service(q['service'])
        if 'operation' in q:
            out['operation'] = q['operation']
        if 'since' in q:
            out['since'] = float(q['since'])
        if 'after' in q:
            out['after'] = int(q['after'])
        if 'status' in q:
            out['status'] = int(q['status'])
        if 'error' in q:
            out['error'] = q['error']
        if 'account' in q:
            out['account'] = q['account']
        limit = int(q['limit']) if 'limit' in q else None
    except ValueError as e:
        raise _BadRequest(str(e))
    return out, limit


def handle(emu, method, path, query, raw):
    """(HTTP status, JSON-able reply) for a control request."""
    try:
        return _handle(emu, method, path.rstrip('/'), query, raw)
    except (_BadRequest, ValueError, TypeError, KeyError) as e:
        return 400, {'error': str(e) or e.__class__.__name__}


def _handle(emu, method, path, query, raw):
    route = path[len('/_emulator'):] or '/'
    if route in ('/', '/health') and method == 'GET':
        return 200, {'ok': True, 'accounts': emu.accounts.static_accounts(),
                     'settings': emu.settings.describe(), 'clock': emu.clock.describe()}
    if route == '/reset' and method == 'POST':
        emu.reset()
        return 200, {'ok': True}
    if route == '/calls':
        if method == 'GET':
            filters, limit = _filters(query)
            calls = emu.calls.query(limit=limit, **filters)
            return 200, {'calls': calls, 'count': len(calls), 'last_seq': emu.calls.last_seq}
        if method == 'DELETE':
            emu.calls.clear()
            return 200, {'ok': True}
    if route == '/calls/clear' and method == 'POST':
        emu.calls.clear()
        return 200, {'ok': True}
    if route == '/calls/counts' and method == 'GET':
        filters, _ = _filters(query)
        counts = emu.calls.counts(**filters)
        return 200, {'counts': counts, 'total': sum(counts.values())}
    if route == '/faults':
        if method == 'GET':
            return 200, emu.faults.describe()
        if method in ('POST', 'PUT'):
            emu.faults.configure(_body(raw))
            return 200, emu.faults.describe()
        if method == 'DELETE':
            emu.faults.clear()
            return 200, emu.faults.describe()
    if route.startswith('/faults/') and method == 'POST':
        emu.faults.add(route[len('/faults/'):].replace('-', '_'), _body(raw))
        return 200, emu.faults.describe()
    if route == '/endpoint-failures' and method == 'POST':
        emu.faults.add('endpoint_failures', _body(raw))
        return 200, emu.faults.describe()
    if route == '/clock':
        if method == 'GET':
            return 200, emu.clock.describe()
        if method == 'POST':
            b = _body(raw)
            unknown = set(b) - {'speed', 'advance'}
            if unknown:
                raise _BadRequest('unknown clock fields: %s' % ', '.join(sorted(unknown)))
            if 'speed' in b:
                emu.clock.set_speed(float(b['speed']))
            if 'advance' in b:
                emu.clock.advance(float(b['advance']))
            return 200, emu.clock.describe()
    if route == '/config':
        if method == 'GET':
            return 200, emu.settings.describe()
        if method == 'POST':
            emu.settings.update(_body(raw))
            return 200, emu.settings.describe()
    if route == '/credentials' and method == 'POST':
        b = _body(raw)
        emu.accounts.add_static(b['access_key'], b['secret_key'], b['account'],
                                b.get('user', 'emulator'))
        return 200, {'ok': True, 'accounts': emu.accounts.static_accounts()}
    return 404, {'error': 'no control route %s %s' % (method, path)}
