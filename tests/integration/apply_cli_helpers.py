"""Helpers for the `plumb apply` tests (test_apply_cli.py): run the real binary, make N copies
of the scale-to-zero example as separate stacks, kill a run after N events, and count what the
emulator holds against what the manifests want."""
import os
import re
import shutil
import subprocess
import time

import aws_helpers as H
import plan_helpers as P

EXAMPLES = P.EXAMPLES


def apply(env, manifests, state, *args, stdin=subprocess.DEVNULL, timeout=300):
    """Runs `plumb apply` (non-interactive); returns (exit code, stdout, stderr)."""
    cmd = [H.PLUMB, 'apply', '--state', str(state)]
    for m in ([manifests] if isinstance(manifests, (str, os.PathLike)) else manifests):
        cmd += ['-f', str(m)]
    p = subprocess.run(cmd + list(args), env=env, capture_output=True, text=True,
                       stdin=stdin, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def events(stderr):
    """The apply.* log lines of a non-terminal run, as dicts of their logfmt pairs."""
    out = []
    for line in stderr.splitlines():
        if 'event=apply.' not in line:
            continue
        d = {}
        for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', line):
            d[k] = v[1:-1] if v.startswith('"') else v
        out.append(d)
    return out


def stacks(dst, n, version='0.9.3', prefix='stack'):
    """dst/ gets the examples' defaults.yaml and n renamed copies of scale-to-zero."""
    os.makedirs(dst, exist_ok=True)
    shutil.copy(os.path.join(EXAMPLES, 'defaults.yaml'), dst)
    with open(os.path.join(EXAMPLES, 'scale-to-zero', 'stack.yaml')) as f:
        text = f.read()
    names = []
    for i in range(n):
        name = '%s-%02d' % (prefix, i)
        names.append(name)
        t = text.replace('nightly-batch-scorer', name).replace('batch-scorer:0.9.3',
                                                               'batch-scorer:' + version)
        with open(os.path.join(dst, name + '.yaml'), 'w') as f:
            f.write(t)
    return names


def set_version(dst, version):
    for fn in os.listdir(dst):
        if fn.startswith('stack-'):
            path = os.path.join(dst, fn)
            with open(path) as f:
                t = f.read()
            t = re.sub(r'batch-scorer:[0-9.]+', 'batch-scorer:' + version, t)
            with open(path, 'w') as f:
                f.write(t)


def apply_until(env, manifests, state, n_events, timeout=120):
    """Starts `plumb apply --yes`, SIGKILLs it at its n_events-th event line; returns
    (killed, events seen)."""
    cmd = [H.PLUMB, 'apply', '--yes', '--state', str(state), '-f', str(manifests)]
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    seen, killed = 0, False
    end = time.monotonic() + timeout
    for line in p.stderr:
        if 'event=apply.' in line:
            seen += 1
            if seen >= n_events:
                p.kill()
                killed = True
                break
        if time.monotonic() > end:
            p.kill()
            raise AssertionError('plumb apply did not finish')
    p.wait()
    p.stderr.close()
    return killed, seen


def census(emu, region='us-east-1'):
    """{kind: sorted list of names} of everything the emulator holds (TargetTracking-*
    alarms aside: Application Auto Scaling owns them)."""
    inv = __import__('apply_helpers').Inventory(emu, region)
    return {
        'Model': sorted(inv.models()),
        'EndpointConfig': sorted(inv.configs()),
        'Endpoint': sorted(inv.endpoints()),
        'EndpointStatus': sorted(set(inv.endpoints().values())),
        'ScalableTarget': sorted(inv.targets()),
        'ScalingPolicy': sorted(inv.policies()),
        'Alarm': sorted(inv.alarms()),
        'Topic': sorted(inv.topics()),
    }


def owned(emu, region='us-east-1'):
    """{plumb:id: [ARN, ...]} of every resource carrying a plumb:owner tag (Tagging API)."""
    tg = emu.boto3_client('resourcegroupstaggingapi', region=region)
    out, tok = {}, ''
    while True:
        r = tg.get_resources(TagFilters=[{'Key': 'plumb:owner'}], PaginationToken=tok)
        for m in r['ResourceTagMappingList']:
            tags = {t['Key']: t['Value'] for t in m['Tags']}
            out.setdefault(tags.get('plumb:id', '?'), []).append(m['ResourceARN'])
        tok = r.get('PaginationToken')
        if not tok:
            return out


def exactly(emu, addresses, region='us-east-1'):
    """The emulator holds one live resource per wanted address and nothing else: no
    duplicate (two versions of one model), no orphan (tagged or not), no policy twice."""
    addresses = set(addresses)
    ids = owned(emu, region)
    dup = {k: v for k, v in ids.items() if len(v) > 1}
    assert not dup, dup
    plain = {a for a in addresses if not a.startswith('ScalingPolicy/')}
    assert set(ids) == plain, (sorted(set(ids) - plain), sorted(plain - set(ids)))
    c = census(emu, region)
    for kind in ('Model', 'EndpointConfig', 'Endpoint', 'ScalableTarget', 'Alarm', 'Topic'):
        n = len([a for a in plain if a.startswith(kind + '/')])
        assert len(c[kind]) == n, (kind, c[kind])  # nothing untagged either
    pol = [a for a in addresses if a.startswith('ScalingPolicy/')]
    assert len(c['ScalingPolicy']) == len(set(map(tuple, c['ScalingPolicy']))) == len(pol), \
        c['ScalingPolicy']
    # Endpoints are InService when the run ends: a run killed after CreateEndpoint leaves
    # it Creating, and the next plan waits for it (docs/plan-format.md) before anything else.
    assert c['EndpointStatus'] in ([], ['InService']), c['EndpointStatus']


def apply_on_terminal(env, manifests, state, answer, *args, timeout=120):
    """Runs `plumb apply` on a pseudo-terminal, answers the prompt with `answer`; returns
    (exit code, everything it wrote)."""
    import pty
    import select
    master, slave = pty.openpty()
    cmd = [H.PLUMB, 'apply', '--state', str(state), '-f', str(manifests), *args]
    p = subprocess.Popen(cmd, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out, answered = b'', False
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if not answered and b"Only 'yes' will be accepted" in out:
                os.write(master, answer.encode() + b'\n')
                answered = True
        elif p.poll() is not None:
            break
    p.wait(timeout=10)
    while True:  # what it wrote just before exiting
        r, _, _ = select.select([master], [], [], 0.2)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.returncode, out.decode(errors='replace')
