"""Helpers of the reliability suite (tests/reliability): every plumb run goes through run() /
start() here, so its whole stdout and stderr land in one log (build/reliability/plumb-output.log)
that the suite greps for secrets; temporary credentials with a session token from the
emulator's STS; the figures the suite reports; and what the state file and the emulator hold.

Builds on the integration helpers (tests/integration: aws_helpers, plan_helpers,
apply_cli_helpers) for the emulator, the stacks and the census of AWS."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))

import aws_helpers as H  # noqa: E402
import plan_helpers as P  # noqa: E402
import apply_cli_helpers as C  # noqa: E402

PLUMB = H.PLUMB
OUT_DIR = os.environ.get('RELIABILITY_OUT', os.path.join(REPO, 'build', 'reliability'))
os.makedirs(OUT_DIR, exist_ok=True)
OUTPUT_LOG = os.path.join(OUT_DIR, 'plumb-output.log')
SECRETS_FILE = os.path.join(OUT_DIR, 'secrets.txt')
POLL_MS = '40'
STORM_SECONDS = int(os.environ.get('RELIABILITY_STORM_SECONDS', '300'))
KILLS = int(os.environ.get('RELIABILITY_KILLS', '10'))
FUZZ_SECONDS = int(os.environ.get('RELIABILITY_FUZZ_SECONDS', '20'))

_lock = threading.Lock()
SECRETS = {H.emulator.SECRET_KEY}

# The figures of this run, filled by the tests, written by conftest at the end.
FIGURES = {
    'faults': {},            # kind -> count (from the emulator's call log)
    'kills': 0,              # SIGKILLs delivered to plumb
    'restarts': 0,           # runs started after a kill
    'resources_checked': 0,  # resources compared against the wanted set, summed over checks
    'duplicates': 0,         # duplicates found (must stay 0)
    'orphans': 0,            # orphans found (must stay 0)
    'plumb_runs': 0,         # plumb processes whose output was captured
    'output_bytes': 0,       # bytes of plumb output grepped for secrets
    'secret_leaks': 0,
    'fuzz': {},              # target -> {'execs', 'seconds', 'corpus'}
    'integrity_checks': 0,   # PRAGMA integrity_check runs that said ok
    'storm': {},             # details of the fault storm
    'skipped': [],           # (test, reason)
}


def add_fault_counts(counts):
    with _lock:
        for k, v in counts.items():
            FIGURES['faults'][k] = FIGURES['faults'].get(k, 0) + v


def note_secret(*values):
    with _lock:
        for v in values:
            if v:
                SECRETS.add(v)
        with open(SECRETS_FILE, 'w') as f:
            f.write('\n'.join(sorted(SECRETS)) + '\n')
        os.chmod(SECRETS_FILE, 0o600)


def _record(cmd, out, err):
    if isinstance(out, bytes):
        out = out.decode(errors='replace')
    if isinstance(err, bytes):
        err = err.decode(errors='replace')
    with _lock:
        FIGURES['plumb_runs'] += 1
        FIGURES['output_bytes'] += len(out or '') + len(err or '')
        with open(OUTPUT_LOG, 'a') as f:
            f.write('==== %s\n' % ' '.join(map(str, cmd)))
            f.write(out or '')
            f.write('\n---- stderr\n')
            f.write(err or '')
            f.write('\n')
    leaks = [s for s in SECRETS if s in (out or '') or s in (err or '')]
    if leaks:
        with _lock:
            FIGURES['secret_leaks'] += len(leaks)
    return leaks


def leaks_in(text):
    return [s for s in SECRETS if s in text]


def run(env, *args, timeout=300, preexec_fn=None, wrapper=(), stdin=subprocess.DEVNULL):
    """Runs plumb ARGS; returns (exit code, stdout, stderr); the output is logged."""
    cmd = list(wrapper) + [PLUMB] + [str(a) for a in args]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=stdin,
                       timeout=timeout, preexec_fn=preexec_fn)
    leaks = _record(cmd, p.stdout, p.stderr)
    assert not leaks, 'secret in the output of %s' % ' '.join(cmd)
    return p.returncode, p.stdout, p.stderr


def apply(env, m, state, *args, **kw):
    return run(env, 'apply', '--yes', '--state', state, '-f', m, *args, **kw)


def plan(env, m, state, *args, **kw):
    rc, out, err = run(env, 'plan', '--output', 'json', '--state', state, '-f', m, *args, **kw)
    return rc, (json.loads(out) if out.strip() else None), err


def converged(env, m, state):
    rc, p, err = plan(env, m, state)
    assert rc == 0, (err[-2000:], [(r['address'], r['action']) for r in p['resources']
                                   if r['action'] != 'none'] if p else None)
    return p


class Proc:
    """A plumb process whose stderr is read by a thread (lines kept), stdout likewise."""

    def __init__(self, env, *args):
        self.cmd = [PLUMB] + [str(a) for a in args]
        self.p = subprocess.Popen(self.cmd, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out, self.err = [], []
        self.done = None
        self.cv = threading.Condition()
        self.threads = [threading.Thread(target=self._pump, args=(self.p.stdout, self.out),
                                         daemon=True),
                        threading.Thread(target=self._pump, args=(self.p.stderr, self.err),
                                         daemon=True)]
        for t in self.threads:
            t.start()

    def _pump(self, f, into):
        for line in f:
            with self.cv:
                into.append(line)
                self.cv.notify_all()
        f.close()

    def wait_line(self, pattern, timeout=60, start=0):
        """The first stderr line from index start matching pattern (regex), or None."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cv:
            i = start
            while True:
                while i < len(self.err):
                    if rx.search(self.err[i]):
                        return self.err[i]
                    i += 1
                left = end - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and i >= len(self.err)):
                    return None
                self.cv.wait(min(left, 0.2))

    def count(self, pattern):
        rx = re.compile(pattern)
        with self.cv:
            return sum(1 for line in self.err if rx.search(line))

    def kill(self):
        self.p.kill()
        return self.finish()

    def signal(self, sig):
        self.p.send_signal(sig)

    def finish(self, timeout=60):
        if self.done is not None:
            return self.done
        rc = self.p.wait(timeout=timeout)
        for t in self.threads:
            t.join(timeout=10)
        self.done = rc
        leaks = _record(self.cmd, ''.join(self.out), ''.join(self.err))
        assert not leaks, 'secret in the output of %s' % ' '.join(self.cmd)
        return rc

    @property
    def stderr(self):
        with self.cv:
            return ''.join(self.err)


def start(env, *args):
    return Proc(env, *args)


# ------------------------------------------------------------------------- credentials

def session_env(emu, tmp, **extra):
    """plumb's environment with temporary credentials (ASIA key, secret, session token) issued
    by the emulator's STS, so the token is one more secret that must never be printed."""
    sts = emu.boto3_client('sts')
    r = sts.assume_role(RoleArn='arn:aws:iam::123456789012:role/reliability',
                        RoleSessionName='reliability', DurationSeconds=43200)['Credentials']
    note_secret(r['SecretAccessKey'], r['SessionToken'])
    env = H.clean_env(emu, tmp, PLUMB_POLL_MS=POLL_MS, AWS_ACCESS_KEY_ID=r['AccessKeyId'],
                      AWS_SECRET_ACCESS_KEY=r['SecretAccessKey'],
                      AWS_SESSION_TOKEN=r['SessionToken'], **extra)
    return env


# ------------------------------------------------------------------------- checks

def integrity(state):
    """PRAGMA integrity_check on the state file says ok, and no journal row is left open."""
    db = sqlite3.connect('file:%s?mode=ro' % state, uri=True)
    try:
        res = db.execute('PRAGMA integrity_check').fetchall()
        assert res == [('ok',)], res
        open_rows = db.execute("select count(*) from journal where status = 'open'").fetchone()[0]
    finally:
        db.close()
    with _lock:
        FIGURES['integrity_checks'] += 1
    return open_rows


def check_exactly(emu, want):
    """The emulator holds exactly the wanted resources: counts duplicates and orphans into the
    figures (as found, before asserting), then asserts with the integration suite's check."""
    ids = C.owned(emu)
    dup = sum(len(v) - 1 for v in ids.values() if len(v) > 1)
    plain = {a for a in want if not a.startswith('ScalingPolicy/')}
    orphans = len(set(ids) - plain)
    c = C.census(emu)
    pols = len(c['ScalingPolicy']) - len(set(map(tuple, c['ScalingPolicy'])))
    with _lock:
        FIGURES['duplicates'] += dup + max(pols, 0)
        FIGURES['orphans'] += orphans
        FIGURES['resources_checked'] += len(want)
    C.exactly(emu, want)


def wanted(env, m, tmp):
    db = os.path.join(str(tmp), 'want-%d.db' % time.monotonic_ns())
    rc, p, err = plan(env, m, db)
    assert rc == 2, err
    os.unlink(db)
    assert all(r['action'] == 'create' for r in p['resources']), 'account not empty'
    return {r['address'] for r in p['resources']}


MUTATING = re.compile(r'^(Create|Delete|Update|Put|Register|Deregister|Add|Tag|Untag|Set)')


def mutating_calls(emu, after=None):
    """Calls in the emulator's log since seq `after` that would change AWS."""
    return [c for c in emu.calls(after=after) if MUTATING.match(c['operation'])]


def last_seq(emu):
    calls = emu.calls()
    return calls[-1]['seq'] if calls else 0


THROTTLE_CODES = {'ThrottlingException', 'ThrottledException', 'Throttling', 'Throttled'}


def fault_census(calls):
    """{kind: n} of the faults the emulator injected, from its call log."""
    out = {'5xx': 0, 'throttle': 0, 'drop': 0}
    for c in calls:
        if c['status'] == 0:
            out['drop'] += 1
        elif c['status'] >= 500:
            out['5xx'] += 1
        elif c.get('error') in THROTTLE_CODES:
            out['throttle'] += 1
    return out


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def http_post(url, timeout=5, headers=None):
    req = urllib.request.Request(url, data=b'', method='POST', headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


_daemon = None


def daemon_available():
    """(True, '') when `plumb run` exists (its --help works), else (False, why)."""
    global _daemon
    if _daemon is None:
        p = subprocess.run([PLUMB, 'run', '--help'], capture_output=True, text=True, timeout=30)
        text = p.stdout + p.stderr
        if p.returncode == 0 and '--listen' in text:
            _daemon = (True, '')
        else:
            _daemon = (False, '`plumb run` is not built yet (`plumb run --help`: %s)' %
                       (text.strip().splitlines() or ['exit %d' % p.returncode])[-1])
    return _daemon


def start_daemon(env, m, state, *args):
    """`plumb run` on loopback port 0; returns (Proc, base URL of its status port)."""
    p = start(env, 'run', '-f', m, '--state', state, '--listen', '127.0.0.1:0',
              '--debounce', '100ms', *args)
    line = p.wait_line(r'event=listen', timeout=30)
    if line is None:
        p.kill()
        raise AssertionError('plumb run logged no listen event: ' + p.stderr[-2000:])
    addr = re.search(r'addr="?([0-9.]+:[0-9]+)', line).group(1)
    return p, 'http://' + addr


def daemon_status(base):
    code, body = http_get(base + '/status')
    return json.loads(body) if code == 200 else None


def wait_in_sync(base, want_n, timeout=120, revision=None):
    """Until /status is ready, every resource in_sync and at least want_n of them."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            st = daemon_status(base)
        except OSError:
            st = None
        if st:
            last = st
            res = st.get('resources') or []
            if (st.get('ready') and len(res) >= want_n and
                    all(r['state'] == 'in_sync' for r in res)):
                return st
        time.sleep(0.25)
    off = [{k: r.get(k) for k in ('address', 'state', 'physical', 'last_error', 'drift')}
           for r in (last or {}).get('resources') or [] if r.get('state') != 'in_sync']
    raise AssertionError('daemon not in sync after %ss: %s; not in sync: %s' % (
        timeout, json.dumps({k: last.get(k) for k in ('ready', 'passes', 'last_pass')}
                            if last else None), json.dumps(off)[:3000]))


def term(p, timeout=60):
    """SIGTERM, then the exit code (SIGKILL after timeout s: returns -9). Idempotent."""
    if p.done is not None:
        return p.done
    if p.p.poll() is None:
        p.signal(signal.SIGTERM)
    try:
        return p.finish(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.p.kill()
        return p.finish(timeout=30)
