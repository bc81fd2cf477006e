"""Smoke test of the benchmark (bench/): the generator's manifests validate, and a tiny quick run
of bench/run completes and writes its report. Timing is never asserted here; the real figures
come from `make bench` (docs/benchmarks.md)."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUMB = os.environ.get('PLUMB_BIN', os.path.join(REPO, 'bin', 'plumb'))
PY = '/usr/bin/python3'


def test_generator_output_validates(tmp_path):
    out = tmp_path / 'm'
    r = subprocess.run([PY, os.path.join(REPO, 'bench', 'gen.py'), '--n', '4', '--out', str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert '36 resources' in r.stdout
    v = subprocess.run([PLUMB, 'validate', '-f', str(out), '--output', 'json'],
                       capture_output=True, text=True)
    assert v.returncode == 0, v.stdout + v.stderr
    doc = json.loads(v.stdout)
    assert doc['valid'] is True and doc['errors'] == []
    assert sum(doc['resources'].values()) == 36


def test_generator_is_deterministic(tmp_path):
    for d in ('a', 'b'):
        subprocess.run([PY, os.path.join(REPO, 'bench', 'gen.py'), '--n', '2', '--out',
                        str(tmp_path / d)], check=True, capture_output=True)
    for f in ('defaults.yaml', 'stacks/s0001.yaml', 'stacks/s0002.yaml'):
        assert (tmp_path / 'a' / f).read_text() == (tmp_path / 'b' / f).read_text()


def test_quick_run_writes_report(tmp_path):
    report = tmp_path / 'bench.md'
    env = dict(os.environ, PLUMB_BIN=PLUMB, PLUMB_POLL_MS='40')
    r = subprocess.run([os.path.join(REPO, 'bench', 'run'), '--n', '3', '--quick', '--k', '3',
                        '--repeat', '1', '--idle-seconds', '1', '--out', str(report),
                        '--workdir', str(tmp_path / 'work')],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    text = report.read_text()
    for needle in ('# Benchmarks', '## Goals', '## N = 3 stacks (27 resources)',
                   'serial boto3', '10-worker refresh', 'plumb / serial', 'nproc'):
        assert needle in text, needle
    res = json.loads((tmp_path / 'work' / 'n3' / 'results.json').read_text())
    assert res['apply']['rc'] == 0
    assert all(s['rc'] == 0 for s in res['steady'])
    # every out-of-band edit shows up in the detection run
    assert res['detect']['k'] == 3 and res['detect']['found'] == 3, res['detect']
    assert res['serial']['errors'] == 0 and res['refresh']['errors'] == 0
    assert res['after_repair_rc'] == 0
    for goal in ('goal ', 'peak RSS'):
        assert goal in r.stdout
