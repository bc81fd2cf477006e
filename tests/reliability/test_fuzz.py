"""The libFuzzer targets of tests/fuzz (the JSON and XML reply parsers, the config/credentials
file parser, and the manifest parser) each run for RELIABILITY_FUZZ_SECONDS over their corpus;
a crash, sanitizer report, leak or hang fails the suite. Built by `make fuzz-build` (the runner
does it first)."""
import os
import re
import subprocess

import pytest

import rel as R

TARGETS = ['json_reply', 'xml_reply', 'aws_config', 'manifest']


@pytest.mark.parametrize('target', TARGETS)
def test_fuzz_target(target):
    if R.FUZZ_SECONDS <= 0:
        why = 'fuzzing off (RELIABILITY_FUZZ_SECONDS=0)'
        R.FIGURES['skipped'].append(why)
        pytest.skip(why)
    binary = os.path.join(R.REPO, 'build-fuzz', 'fuzz_' + target)
    assert os.path.exists(binary), 'build it first: make fuzz-build'
    p = subprocess.run([os.path.join(R.REPO, 'tests', 'fuzz', 'run'), binary, str(R.FUZZ_SECONDS)],
                       capture_output=True, text=True, timeout=R.FUZZ_SECONDS + 300)
    text = p.stdout + p.stderr
    execs = re.search(r'stat::number_of_executed_units:\s*(\d+)', text)
    corpus = re.search(r'corpus inputs', p.stdout) and re.search(
        r'fuzz \S+: (\d+) corpus inputs', p.stdout).group(1)
    R.FIGURES['fuzz'][target] = {'execs': int(execs.group(1)) if execs else 0,
                                 'seconds': R.FUZZ_SECONDS, 'corpus': corpus}
    assert p.returncode == 0, text[-4000:]
    assert execs and int(execs.group(1)) > 0, text[-2000:]
