"""SIGKILL chaos. `plumb apply` over 10 stacks is killed RELIABILITY_KILLS times in a row at
random moments — at a random event line, or a random time after its first one — and each
restart is killed again, through rolling updates (new models and configs, UpdateEndpoint,
waits, deletes of the superseded); after every kill a copy of the state file passes
PRAGMA integrity_check. Then one apply must converge: a clean plan, exactly the wanted
resources in AWS (no duplicate, no orphan, no leftover model or config beyond the rollover's
collection), no journal row left open. The same against the `plumb run` daemon, once it
exists, plus its single-instance lock."""
import os
import random
import shutil
import time

import rel as R

C = R.C


def integrity_of_copy(state, tmp):
    """PRAGMA integrity_check on a copy of a killed run's state (db, -wal, -shm), so the
    check's own WAL recovery does not change what the restart finds."""
    if not os.path.exists(state):
        return
    d = os.path.join(str(tmp), 'copy')
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(state + suffix):
            shutil.copy(state + suffix, os.path.join(d, 'state.db' + suffix))
    if os.path.getsize(os.path.join(d, 'state.db')) > 0:
        R.integrity(os.path.join(d, 'state.db'))


def wait_events(p, n, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if p.count(r'event=apply\.') >= n:
            return True
        if p.p.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError('plumb apply stalled: ' + p.stderr[-2000:])


def test_sigkill_chaos_over_apply(ws):
    names = C.stacks(ws.m, 10)
    want = R.wanted(ws.env, ws.m, ws.tmp)
    assert len(want) == 70
    rnd = random.Random(int(os.environ.get('RELIABILITY_SEED', '20261124')))
    kills = runs = finished = 0
    version = 0
    while kills < R.KILLS:
        if kills % 3 == 2:
            version += 1
            C.set_version(ws.m, '2.%d.0' % version)
        runs += 1
        if runs > 1:
            R.FIGURES['restarts'] += 1
        p = R.start(ws.env, 'apply', '--yes', '--state', ws.state, '-f', ws.m)
        if rnd.random() < 0.5:
            alive = wait_events(p, rnd.randint(1, 150))
        else:
            alive = wait_events(p, 1)
            time.sleep(rnd.uniform(0, 0.4))
            alive = alive and p.p.poll() is None
        if alive:
            p.kill()
            kills += 1
            R.FIGURES['kills'] += 1
        else:
            rc = p.finish()
            finished += 1
            assert rc == 0, p.stderr[-3000:]
            version += 1  # it finished first: give the next run work
            C.set_version(ws.m, '2.%d.0' % version)
        integrity_of_copy(ws.state, ws.tmp)
    R.FIGURES['restarts'] += 1
    rc, out, err = R.apply(ws.env, ws.m, ws.state)
    assert rc == 0, (out[-3000:], err[-3000:])
    R.converged(ws.env, ws.m, ws.state)
    R.check_exactly(ws.emu, want)
    c = C.census(ws.emu)
    assert c['Endpoint'] == names
    assert len(c['Model']) == len(c['EndpointConfig']) == 10, c
    assert R.integrity(ws.state) == 0


def test_sigkill_chaos_over_the_daemon(ws, daemon):
    """`plumb run` killed at random moments while it converges 10 stacks and rolls them to new
    versions; every restart resumes; at the end /status says in_sync, SIGTERM exits 0, AWS holds
    exactly the wanted resources, and the state file is whole. While it runs, a second daemon
    and `plumb apply` on the same state file refuse, naming the holder."""
    names = C.stacks(ws.m, 10)
    want = R.wanted(ws.env, ws.m, ws.tmp)
    rnd = random.Random(int(os.environ.get('RELIABILITY_SEED', '20261124')) + 1)
    for i in range(R.KILLS):
        if i % 3 == 2:
            C.set_version(ws.m, '3.%d.0' % i)
        if i:
            R.FIGURES['restarts'] += 1
        p, base = R.start_daemon(ws.env, ws.m, ws.state, '--resync', '1s')
        p.wait_line(r'event=(action\.start|pass\.start)', timeout=30)
        time.sleep(rnd.uniform(0, 1.0))
        p.kill()
        R.FIGURES['kills'] += 1
        integrity_of_copy(ws.state, ws.tmp)
    R.FIGURES['restarts'] += 1
    p, base = R.start_daemon(ws.env, ws.m, ws.state, '--resync', '1s')
    try:
        R.wait_in_sync(base, len(names), timeout=180)
        rc, out, err = R.apply(ws.env, ws.m, ws.state)
        assert rc == 1 and 'plumb run' in err and 'pid' in err, err[-2000:]
        q = R.start(ws.env, 'run', '-f', ws.m, '--state', ws.state, '--listen', 'off')
        assert q.finish(timeout=30) == 1 and 'plumb run' in q.stderr
    finally:
        rc = R.term(p)
    assert rc == 0, p.stderr[-3000:]
    R.converged(ws.env, ws.m, ws.state)
    R.check_exactly(ws.emu, want)
    assert R.integrity(ws.state) == 0
