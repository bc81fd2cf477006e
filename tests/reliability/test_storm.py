"""The fault storm: for RELIABILITY_STORM_SECONDS (300 by default; `make test` runs 40,
`make asan` 60) the emulator answers 30% of calls with a 5xx, drops 3% of connections, loses the reply of 10% of
the creates after doing them (the ambiguous failure a retry must reconcile), and, in bursts,
throttles every service (4 calls/s per operation, 5 s in every 15) and adds latency spikes of
0.4-1.0 s (4 s in every 20). Meanwhile 20 stacks (140 resources) are converged and kept moving: rolling updates
to a new image, and two stacks removed (with --prune) and brought back.

Through `plumb run` (the daemon converges on its own: manifest changes are picked up by its
watcher, resyncs every 2 s) and, as a second subject, through repeated `plumb apply` runs. Both
must converge while the storm still blows (the last quarter brings no manifest change), then,
with the faults off: a clean plan, exactly the wanted resources in AWS (no duplicate, no orphan),
the state file whole with no journal row left open. The figures (faults injected by kind,
resources checked, duplicates) go into the report."""
import os
import re
import shutil
import threading
import time

import pytest

import rel as R

C = R.C

BASE = {
    'errors': [{'operation': 'CreateEndpointConfig', 'rate': 0.1, 'status': 500, 'after': True},
               {'rate': 0.3, 'status': 503}],
    'drop': [{'operation': 'CreateModel', 'rate': 0.1, 'after': True},
             {'operation': 'CreateEndpoint', 'rate': 0.1, 'after': True},
             {'rate': 0.03}],
}
THROTTLE = [{'service': s, 'rate': 4, 'burst': 4} for s in
            ('sagemaker', 'application-autoscaling', 'monitoring', 'sns', 'tagging')]
LATENCY = [{'ms': 400, 'jitter_ms': 600}]


class Storm:
    """Drives the emulator's faults on a schedule from a thread; remembers the latency-spike
    windows so the calls they delayed can be counted."""

    def __init__(self, emu, seed=7):
        self.emu = emu
        self.seed = seed
        self.seeded = False
        self.stop_ev = threading.Event()
        self.spikes = []  # (start, end) epoch seconds
        self.bursts = 0
        self.t0 = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _set(self, throttle, latency):
        f = dict(BASE)
        if not self.seeded:
            # seed once: reseeding at every switch would replay the same draws, so the lone
            # retry that comes first after a switch would meet the same 5xx every time
            f['seed'] = self.seed
            self.seeded = True
        if throttle:
            f['throttle'] = THROTTLE
        if latency:
            f['latency'] = LATENCY
        self.emu.set_faults(f)

    def _run(self):
        state = (None, None)
        spike_start = None
        while not self.stop_ev.is_set():
            t = time.monotonic() - self.t0
            want = (t % 15 >= 10, t % 20 >= 16)
            if want != state:
                if want[0] and not state[0]:
                    self.bursts += 1
                if want[1] and not state[1]:
                    spike_start = time.time()
                if state[1] and not want[1] and spike_start:
                    self.spikes.append((spike_start, time.time()))
                    spike_start = None
                self._set(*want)
                state = want
            self.stop_ev.wait(0.1)
        if spike_start:
            self.spikes.append((spike_start, time.time()))

    def start(self):
        self.t0 = time.monotonic()
        self._set(False, False)
        self.thread.start()
        return self

    def stop(self):
        self.seconds = time.monotonic() - self.t0
        self.stop_ev.set()
        self.thread.join(timeout=10)
        self.emu.clear_faults()

    def census(self):
        calls = self.emu.calls()
        f = R.fault_census(calls)
        f['latency'] = sum(1 for c in calls
                           if any(a <= c['time'] <= b for a, b in self.spikes))
        f['calls'] = len(calls)
        f['throttle_bursts'] = self.bursts
        f['latency_spikes'] = len(self.spikes)
        return f


def mover(ws, names, seconds, stop):
    """Keeps the manifests moving for `seconds`: every 12 s either a new image for every stack,
    or the last two stacks removed, or brought back. Returns nothing; stops early on `stop`."""
    removed = os.path.join(str(ws.tmp), 'removed')
    os.makedirs(removed, exist_ok=True)
    end = time.monotonic() + seconds
    i = 0
    while not stop.wait(12) and time.monotonic() < end:
        i += 1
        if i % 3 == 1:
            C.set_version(ws.m, '5.%d.0' % i)
        elif i % 3 == 2:
            for n in names[-2:]:
                shutil.move(os.path.join(ws.m, n + '.yaml'), os.path.join(removed, n + '.yaml'))
        else:
            for n in names[-2:]:
                shutil.move(os.path.join(removed, n + '.yaml'), os.path.join(ws.m, n + '.yaml'))
    for n in names[-2:]:  # every stack present at the end
        src = os.path.join(removed, n + '.yaml')
        if os.path.exists(src):
            shutil.move(src, os.path.join(ws.m, n + '.yaml'))


def record(ws, storm, subject):
    """The faults the storm injected, by kind, into the figures (also when the test fails)."""
    f = storm.census()
    R.add_fault_counts({k: f[k] for k in ('5xx', 'throttle', 'drop', 'latency')})
    amb = [c for c in ws.emu.calls() if c['status'] in (0, 500) and
           c['operation'] in ('CreateModel', 'CreateEndpoint', 'CreateEndpointConfig')]
    R.add_fault_counts({'ambiguous': len(amb)})
    R.FIGURES['storm'][subject] = 'faults on %.0fs, %d calls' % (storm.seconds, f['calls'])
    return f


def finish_checks(ws, want, f):
    assert f['5xx'] > 0 and f['drop'] > 0, f
    if R.STORM_SECONDS >= 120:  # a short storm may meet no throttling burst at full rate
        assert f['throttle'] > 0, f
    R.converged(ws.env, ws.m, ws.state)
    R.check_exactly(ws.emu, want)
    assert R.integrity(ws.state) == 0


def test_fault_storm_daemon_converges_20_stacks(ws, daemon):
    """It converges while the faults still blow: every resource in_sync on /status within the
    quiet last quarter of the storm plus 60% of its length (45 s at least), the storm still
    on. Then, with the faults off: in_sync again after a /sync, exit 0 on SIGTERM, no
    duplicate, no orphan, a whole state file, a clean plan. On a failure to converge under
    faults the message gives the daemon's passes by result, pass errors and failed actions.

    The under-faults requirement holds for storms of 2 minutes and more (make test-reliability:
    5 minutes). The short forms (make test: 40 s, make asan: 60 s) have a quiet quarter of
    10-15 s, less than one pass takes under 30% 5xx when a read needs its later attempts
    (backoff up to 20 s): they report whether and when it converged under faults and assert the
    rest."""
    names = C.stacks(ws.m, 20)
    want = R.wanted(ws.env, ws.m, ws.tmp)
    assert len(want) == 140
    env = dict(ws.env, PLUMB_LOG_LEVEL=os.environ.get('RELIABILITY_LOG_LEVEL', 'info'))
    storm = Storm(ws.emu).start()
    p, base = R.start_daemon(env, ws.m, ws.state, '--resync', '2s', '--prune')
    stop = threading.Event()
    under_faults = None
    try:
        try:
            mover(ws, names, R.STORM_SECONDS * 0.75, stop)
            # the last quarter: no change; the daemon should get there with the faults still on
            left = R.STORM_SECONDS - (time.monotonic() - storm.t0)
            try:
                st = R.wait_in_sync(base, len(names),
                                    timeout=max(left, 10) + max(45, 0.6 * R.STORM_SECONDS))
                assert len(st['resources']) >= len(names)
                under_faults = time.monotonic() - storm.t0
                R.FIGURES['storm']['daemon in sync under faults after'] = '%.0fs' % under_faults
            except AssertionError as e:
                R.FIGURES['storm']['daemon in sync under faults'] = 'no'
                why = str(e)
        finally:
            stop.set()
            storm.stop()
        R.http_post(base + '/sync')
        R.wait_in_sync(base, len(names), timeout=120)
        R.FIGURES['storm']['daemon in sync once the faults stopped'] = 'yes'
        code, metrics = R.http_get(base + '/metrics')
        assert code == 200 and 'plumb_aws_retries_total' in metrics
    finally:
        rc = R.term(p)
        f = record(ws, storm, 'daemon')
    assert rc == 0, p.stderr[-3000:]
    finish_checks(ws, want, f)
    if under_faults is None and R.STORM_SECONDS >= 120:
        passes = {}
        for r in re.findall(r'event=pass\.end .*?result=(\w+)', p.stderr):
            passes[r] = passes.get(r, 0) + 1
        errors = sorted(set(re.findall(r'event=pass\.end .*?error="([^"]{1,100})', p.stderr)))
        codes = {}
        for c in re.findall(r'event=action\.failed .*?code=(\S+)', p.stderr):
            codes[c] = codes.get(c, 0) + 1
        pytest.fail('plumb run did not reach in_sync while the storm blew (it did once the '
                    'faults stopped, with no duplicate). Passes by result: %s; pass errors: %s; '
                    'failed actions by code: %s; %s' % (passes, errors[:3], codes, why[:300]))


def test_fault_storm_repeated_apply(ws):
    names = C.stacks(ws.m, 20)
    want = R.wanted(ws.env, ws.m, ws.tmp)
    # with the daemon tested too, the apply storm takes a third of the time
    seconds = R.STORM_SECONDS / 3 if R.daemon_available()[0] else R.STORM_SECONDS
    storm = Storm(ws.emu, seed=11).start()
    stop = threading.Event()
    t = threading.Thread(target=mover, args=(ws, names, seconds * 0.75, stop), daemon=True)
    t.start()
    runs = ok = 0
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end or t.is_alive():
            rc, out, err = R.apply(ws.env, ws.m, ws.state, '--prune', timeout=600)
            runs += 1
            assert rc in (0, 1), (rc, err[-3000:])
            ok += rc == 0
            if not t.is_alive() and rc == 0 and time.monotonic() >= end:
                break
        # the storm still blows: repeated applies must converge
        for _ in range(20):
            rc, out, err = R.apply(ws.env, ws.m, ws.state, '--prune', timeout=600)
            runs += 1
            if rc == 0:
                break
        assert rc == 0, err[-3000:]
    finally:
        stop.set()
        storm.stop()
        R.FIGURES['storm']['apply runs (ok)'] = '%d (%d)' % (runs, ok)
        f = record(ws, storm, 'apply')
    rc, out, err = R.apply(ws.env, ws.m, ws.state, '--prune')
    assert rc == 0, err[-3000:]
    finish_checks(ws, want, f)
