"""Drives `plumb run` as a user would: the real binary in the background, its status port over
HTTP, its log lines from stderr, signals; and a small manifest set to reconcile."""
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import aws_helpers as H

DEFAULTS = """apiVersion: plumb/v1
kind: Defaults
metadata: {name: d}
spec:
  region: us-east-1
  accountId: "123456789012"
  owner: daemon-test
  prune: false
"""

TOPIC = """apiVersion: plumb/v1
kind: Topic
metadata: {name: alerts}
spec: {}
"""


def alarm(name='queue-depth', threshold=10, extra=''):
    return f"""apiVersion: plumb/v1
kind: Alarm
metadata: {{name: {name}{extra}}}
spec:
  namespace: Custom/Jobs
  metricName: QueueDepth
  statistic: Average
  period: 60
  evaluationPeriods: 1
  threshold: {threshold}
  comparisonOperator: GreaterThanThreshold
  alarmActions: [{{topicRef: alerts}}]
"""


ENDPOINT = """apiVersion: plumb/v1
kind: Model
metadata: {name: slow}
spec:
  executionRoleArn: arn:aws:iam::123456789012:role/sm
  primaryContainer: {image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/slow:1}
---
apiVersion: plumb/v1
kind: EndpointConfig
metadata: {name: slow}
spec:
  productionVariants:
    - {variantName: AllTraffic, modelRef: slow, instanceType: ml.m5.large, initialInstanceCount: 1}
---
apiVersion: plumb/v1
kind: Endpoint
metadata: {name: slow}
spec: {endpointConfigRef: slow}
"""


def write(path, text):
    """Writes like an editor that saves atomically: a temporary file renamed into place."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp~'
    with open(tmp, 'w') as f:
        f.write(text)
    os.rename(tmp, path)


def base_manifests(d, with_endpoint=False, threshold=10):
    write(os.path.join(d, 'defaults.yaml'), DEFAULTS)
    write(os.path.join(d, 'topic.yaml'), TOPIC)
    write(os.path.join(d, 'alarm.yaml'), alarm(threshold=threshold))
    if with_endpoint:
        write(os.path.join(d, 'endpoint.yaml'), ENDPOINT)


class Daemon:
    def __init__(self, env, manifests, state, *args):
        self.argv = [H.PLUMB, 'run', '-f', manifests, '--state', str(state),
                     '--listen', '127.0.0.1:0', *args]
        self.proc = subprocess.Popen(self.argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.port = None
        self._cv = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            with self._cv:
                self.lines.append(line.rstrip('\n'))
                if self.port is None and 'event=listen' in line:
                    self.port = int(line.rsplit(':', 1)[1])
                elif self.port is None and '"event":"listen"' in line:
                    self.port = int(json.loads(line)['addr'].rsplit(':', 1)[1])
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def wait_log(self, needle, timeout=20, after=0):
        """Index of the first log line from `after` on that contains needle."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for i in range(after, len(self.lines)):
                    if needle in self.lines[i]:
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f'no log line with {needle!r}; log:\n' + self.log())
                self._cv.wait(min(left, 0.2))

    def log(self):
        with self._cv:
            return '\n'.join(self.lines)

    def url(self, path):
        if self.port is None:
            self.wait_until(lambda: self.port, what='the listen event')
        return f'http://127.0.0.1:{self.port}{path}'

    def request(self, path, method='GET', headers=None):
        req = urllib.request.Request(self.url(path), method=method, headers=headers or {},
                                     data=b'' if method == 'POST' else None)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()
        except (ConnectionError, urllib.error.URLError) as e:
            raise AssertionError(f'{path}: {e}; the daemon exited {self.proc.poll()}; log:\n'
                                 + self.log()) from e

    def status(self):
        code, _, body = self.request('/status')
        assert code == 200, body
        return json.loads(body)

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.request('/readyz')[0] == 200:
                return self.status()
            time.sleep(0.05)
        raise AssertionError('never ready; log:\n' + self.log())

    def wait_until(self, pred, timeout=20, what='condition'):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        raise AssertionError(f'timed out waiting for {what}; log:\n' + self.log())

    def resource(self, address):
        for r in self.status()['resources']:
            if r['address'] == address:
                return r
        return None

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self._reader.join(timeout=5)
        self.proc.stdout.close()
        return rc


def alarm_threshold(emu, name='queue-depth'):
    a = emu.boto3_client('cloudwatch').describe_alarms(AlarmNames=[name])['MetricAlarms']
    return a[0]['Threshold'] if a else None
