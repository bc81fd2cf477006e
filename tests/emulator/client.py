"""Start, stop and drive the emulator from Python test suites.

    import sys; sys.path.insert(0, 'tests/emulator')
    from client import start

    emu = start(create_delay=0.5)          # runs tests/emulator/run --port 0 ...
    emu.url                                # 'http://127.0.0.1:41234'
    emu.env()                              # AWS_* variables pointing a client at it
    emu.reset()                            # forget resources, faults, calls
    emu.calls(service='sagemaker', operation='DescribeEndpoint')
    emu.counts()                           # {'sagemaker.DescribeEndpoint': 3, ...}
    emu.set_faults({'latency': [{'ms': 50}]})
    emu.fail_endpoint('ep1', on='update', mode='rollback')
    emu.advance(600)                       # move the emulator clock
    emu.stop()

Only the Python standard library is used (no botocore), so any interpreter can import it; talks to
the control API under ``/_emulator/`` on loopback only.
"""

import json
import os
import select
import signal
import subprocess
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, 'run')

ACCESS_KEY = 'AKIDEXAMPLE'
SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
ACCOUNT = '123456789012'


class EmulatorError(RuntimeError):
    pass


class Emulator:
    """A running emulator process (or one started elsewhere, given its URL)."""

    def __init__(self, url, process=None):
        if not url.startswith('http://127.') and not url.startswith('http://localhost') \
                and not url.startswith('http://[::1]'):
            raise ValueError('emulator URL must be loopback: %r' % url)
        self.url = url.rstrip('/')
        self.process = process

    # -- control API ---------------------------------------------------------------------------

    def _request(self, method, route, body=None, query=None):
        url = self.url + '/_emulator' + route
        if query:
            url += '?' + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read() or b'{}')
        except urllib.error.HTTPError as e:
            raise EmulatorError('%s %s: %s %s' % (method, route, e.code, e.read().decode()))

    def health(self):
        return self._request('GET', '/health')

    def reset(self):
        return self._request('POST', '/reset')

    def calls(self, service=None, operation=None, since=None, after=None, status=None,
              error=None, account=None, limit=None):
        """Call-log entries (dicts with seq, time, service, operation, status, error,
        duration_ms, account, region), oldest first."""
        return self._request('GET', '/calls', query=dict(
            service=service, operation=operation, since=since, after=after, status=status,
            error=error, account=account, limit=limit))['calls']

    def counts(self, **filters):
        """{'service.Operation': n} over the call log (filters as for ``calls``)."""
        return self._request('GET', '/calls/counts', query=filters)['counts']

    def clear_calls(self):
        return self._request('DELETE', '/calls')

    def set_faults(self, faults):
        """Replace all faults: {'latency': [...], 'throttle': [...], 'errors': [...],
        'drop': [...], 'endpoint_failures': [...], 'seed': n}."""
        return self._request('POST', '/faults', faults)

    def add_fault(self, kind, rule):
        return self._request('POST', '/faults/' + kind, rule)

    def clear_faults(self):
        return self._request('DELETE', '/faults')

    def faults(self):
        return self._request('GET', '/faults')

    def fail_endpoint(self, endpoint, on='any', mode='fail', reason=None, count=1):
        """Make the next create/update of ``endpoint`` fail or silently roll back."""
        rule = {'endpoint': endpoint, 'on': on, 'mode': mode, 'count': count}
        if reason:
            rule['reason'] = reason
        return self._request('POST', '/endpoint-failures', rule)

    def configure(self, **settings):
        """create_delay, update_delay, delete_delay (seconds), silent_rollback (bool)."""
        return self._request('POST', '/config', settings)

    def clock(self):
        return self._request('GET', '/clock')

    def set_speed(self, speed):
        return self._request('POST', '/clock', {'speed': speed})

    def advance(self, seconds):
        return self._request('POST', '/clock', {'advance': seconds})

    def add_credentials(self, access_key, secret_key, account):
        return self._request('POST', '/credentials', {'access_key': access_key,
                                                       'secret_key': secret_key,
                                                       'account': account})

    # -- clients -------------------------------------------------------------------------------

    def env(self, region='us-east-1'):
        """Environment variables that point an AWS SDK (or plumb) at the emulator."""
        return {'AWS_ENDPOINT_URL': self.url, 'AWS_ACCESS_KEY_ID': ACCESS_KEY,
                'AWS_SECRET_ACCESS_KEY': SECRET_KEY, 'AWS_REGION': region,
                'AWS_DEFAULT_REGION': region}

    def boto3_client(self, service, region='us-east-1', **kwargs):
        """A boto3 client for ``service`` (needs Debian's boto3; AWS_DATA_PATH set for the
        newest SageMaker/AAS models)."""
        import boto3
        kwargs.setdefault('aws_access_key_id', ACCESS_KEY)
        kwargs.setdefault('aws_secret_access_key', SECRET_KEY)
        return boto3.client(service, endpoint_url=self.url, region_name=region, **kwargs)

    # -- lifecycle -----------------------------------------------------------------------------

    def stop(self, timeout=10):
        """SIGTERM the process and wait; returns its exit code (None if not ours)."""
        p = self.process
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout)
        for stream in (p.stdout, p.stderr):
            if stream:
                stream.close()
        return p.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def models_path():
    """The shared AWS models folder (<repo>/../shared/aws-models)."""
    return os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'aws-models'))


def start(port=0, create_delay=None, update_delay=None, delete_delay=None, extra_args=(),
          timeout=20, stderr=None):
    """Start ``tests/emulator/run`` and wait for its URL line; returns an ``Emulator``."""
    args = [RUN, '--port', str(port)]
    for flag, value in (('--create-delay', create_delay), ('--update-delay', update_delay),
                        ('--delete-delay', delete_delay)):
        if value is not None:
            args += [flag, str(value)]
    args += list(extra_args)
    p = subprocess.Popen(args, stdout=subprocess.PIPE,
                         stderr=stderr if stderr is not None else None)
    deadline = time.monotonic() + timeout
    line = b''
    while time.monotonic() < deadline:
        ready, _, _ = select.select([p.stdout], [], [], 0.2)
        if ready:
            line = p.stdout.readline()
            break
        if p.poll() is not None:
            break
    url = line.decode().strip()
    if not url.startswith('http://'):
        p.kill()
        p.wait()
        raise EmulatorError('emulator did not start (exit %s, first line %r)'
                            % (p.returncode, url))
    return Emulator(url, p)
