"""The state file on a full disk, on a read-only file system, and corrupt.

- Full disk: RLIMIT_FSIZE in the child (SIGXFSZ ignored, so writes past the limit fail with
  EFBIG, as on a full disk; no root or tmpfs needed). With no room at all, and with room for
  a few pages only: exit 1 with an error naming the state file, and no mutating AWS call.
  With room that runs out in the middle of an apply: every mutating call that reached AWS has
  its journal row (a call whose row cannot be written is not made). Once there is room again,
  the next apply converges from AWS with no duplicate.
- Read-only: the state directory bind-mounted read-only in a user + mount namespace
  (`unshare -rm`; permissions would not stop root, a read-only mount does). Exit 1 naming the
  file, no mutating call; writable again, the next apply converges.
- Corrupt (random bytes, truncated, a zeroed page): `plan --cached` refuses and leaves the file
  alone; `apply` warns, moves it aside to <file>.corrupt-<epoch>, rebuilds from AWS and
  converges with no duplicate.
The same for `plumb run`, once it exists."""
import os
import resource
import signal
import sqlite3
import subprocess
import time

import pytest

import rel as R

C = R.C


def fsize_limit(n):
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    return limit


def converged_stacks(ws, n=3):
    names = C.stacks(ws.m, n)
    want = R.wanted(ws.env, ws.m, ws.tmp)
    rc, out, err = R.apply(ws.env, ws.m, ws.state)
    assert rc == 0, err[-2000:]
    C.set_version(ws.m, '2.0.0')  # pending changes: the next apply would mutate
    return names, want


def recover(ws, want):
    rc, out, err = R.apply(ws.env, ws.m, ws.state)
    assert rc == 0, (out[-2000:], err[-2000:])
    R.converged(ws.env, ws.m, ws.state)
    R.check_exactly(ws.emu, want)
    assert R.integrity(ws.state) == 0


def journal_ops(state, since_ms):
    db = sqlite3.connect(state)
    try:
        rows = db.execute('select operation, count(*) from journal where started_ms >= ? '
                          'group by operation', (since_ms,)).fetchall()
    finally:
        db.close()
    return dict(rows)


@pytest.mark.parametrize('limit', [0, 4096])
def test_full_disk_no_room(ws, limit):
    names, want = converged_stacks(ws)
    seq = R.last_seq(ws.emu)
    rc, out, err = R.apply(ws.env, ws.m, ws.state, preexec_fn=fsize_limit(limit))
    assert rc == 1, (out[-2000:], err[-2000:])
    assert ws.state in err, err[-2000:]
    assert not R.mutating_calls(ws.emu, after=seq)
    assert not [f for f in os.listdir(os.path.dirname(ws.state)) if '.corrupt-' in f]
    recover(ws, want)


def test_full_disk_mid_apply(ws):
    """Room for the journal of the first calls only: what reached AWS is journaled, nothing
    more is called once rows cannot be written, and the next run finishes the work."""
    names, want = converged_stacks(ws, n=6)
    seq = R.last_seq(ws.emu)
    t0 = int(time.time() * 1000) - 1
    size = os.path.getsize(ws.state)
    rc, out, err = R.apply(ws.env, ws.m, ws.state, preexec_fn=fsize_limit(max(size, 65536)))
    calls = R.mutating_calls(ws.emu, after=seq)
    if rc != 0:
        assert ws.state in out + err, (out[-2000:], err[-2000:])
    made = {}
    for c in calls:
        made[c['operation']] = made.get(c['operation'], 0) + 1
    journaled = journal_ops(ws.state, t0)
    for op, n in made.items():
        assert journaled.get(op, 0) >= n, (op, n, journaled)
    recover(ws, want)


def ro_wrapper(d):
    return ['unshare', '-rm', 'sh', '-c',
            'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"', d]


def ro_available(tmp):
    d = os.path.join(str(tmp), 'probe')
    os.makedirs(d, exist_ok=True)
    try:
        p = subprocess.run(ro_wrapper(d) + ['sh', '-c', 'touch "$0/x"', d], capture_output=True,
                           text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    if 'Read-only file system' in p.stderr and not os.path.exists(os.path.join(d, 'x')):
        return True, ''
    return False, 'no read-only bind mount in a user namespace here: %s' % p.stderr.strip()


def test_read_only_state(ws):
    ok, why = ro_available(ws.tmp)
    if not ok:
        R.FIGURES['skipped'].append(why)
        pytest.skip(why)
    names, want = converged_stacks(ws)
    d = os.path.dirname(ws.state)
    seq = R.last_seq(ws.emu)
    before = sorted(os.listdir(d))
    for cmd in (['apply', '--yes'], ['plan']):
        rc, out, err = R.run(ws.env, *cmd, '--state', ws.state, '-f', ws.m, wrapper=ro_wrapper(d))
        assert rc == 1, (cmd, out[-2000:], err[-2000:])
        assert ws.state in err and 'Read-only file system' in err, err[-2000:]
    assert not R.mutating_calls(ws.emu, after=seq)
    assert sorted(os.listdir(d)) == before
    recover(ws, want)


def corrupt(path, how):
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        if how == 'garbage':
            f.write(os.urandom(size))
        elif how == 'truncated':
            f.truncate(size // 3)
        elif how == 'zeroed-page':
            f.seek(4096)
            f.write(b'\0' * 4096)


@pytest.mark.parametrize('how', ['garbage', 'truncated', 'zeroed-page'])
def test_corrupt_state_is_moved_aside_and_rebuilt(ws, how):
    names, want = converged_stacks(ws)
    # a clean close leaves no WAL: the damage is in the database file itself
    for s in ('-wal', '-shm'):
        assert not os.path.exists(ws.state + s) or os.path.getsize(ws.state + s) == 0 or \
            s == '-shm'
    corrupt(ws.state, how)
    damaged = open(ws.state, 'rb').read()
    rc, out, err = R.run(ws.env, 'plan', '--cached', '--state', ws.state, '-f', ws.m)
    if how != 'zeroed-page' or rc != 2:
        assert rc == 1 and 'corrupt' in err and ws.state in err, (rc, err[-2000:])
        assert open(ws.state, 'rb').read() == damaged, '--cached touched a corrupt file'
    rc, out, err = R.apply(ws.env, ws.m, ws.state)
    assert rc == 0, (out[-2000:], err[-2000:])
    assert 'event=state_rebuilt' in err and 'moved_to=' in err, err[:2000]
    aside = [f for f in os.listdir(os.path.dirname(ws.state)) if '.corrupt-' in f]
    assert aside, os.listdir(os.path.dirname(ws.state))
    R.converged(ws.env, ws.m, ws.state)
    R.check_exactly(ws.emu, want)
    assert R.integrity(ws.state) == 0


# ------------------------------------------------------------------------- the daemon

def test_daemon_read_only_and_corrupt_state(ws, daemon):
    ok, why = ro_available(ws.tmp)
    names, want = converged_stacks(ws)
    d = os.path.dirname(ws.state)
    if ok:
        seq = R.last_seq(ws.emu)
        rc, out, err = R.run(ws.env, 'run', '-f', ws.m, '--state', ws.state, '--listen', 'off',
                             wrapper=ro_wrapper(d), timeout=60)
        assert rc == 1 and ws.state in err, err[-2000:]
        assert not R.mutating_calls(ws.emu, after=seq)
    corrupt(ws.state, 'garbage')
    p, base = R.start_daemon(ws.env, ws.m, ws.state, '--resync', '1s')
    try:
        R.wait_in_sync(base, len(names), timeout=120)
        assert 'state_rebuilt' in p.stderr
    finally:
        assert R.term(p) == 0, p.stderr[-2000:]
    R.check_exactly(ws.emu, want)
    assert R.integrity(ws.state) == 0
