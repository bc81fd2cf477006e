"""Fixtures of the reliability suite, and its report: one emulator per module with short
endpoint lifecycles; per test a clean account, a workspace and plumb's environment with
temporary credentials (a session token too). At the end of the session the figures (faults
injected, kills, restarts, resources checked, duplicates, fuzz executions, secrets found in
plumb's output) are printed and written to build/reliability-report.md; with
RELIABILITY_WRITE_DOCS=1 also into the figures section of docs/reliability.md."""
import datetime
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rel as R  # noqa: E402

STORM_SECONDS, KILLS, FUZZ_SECONDS = R.STORM_SECONDS, R.KILLS, R.FUZZ_SECONDS


@pytest.fixture(scope='module')
def emu():
    e = R.H.emulator.start(create_delay=0.2, update_delay=0.2, delete_delay=0.1)
    yield e
    e.stop()


class Workspace:
    """emu; tmp (the test's directory); state (the state file); env (plumb's environment,
    temporary credentials); m (the manifests directory)."""

    def __init__(self, emu, tmp_path):
        self.emu = emu
        self.tmp = tmp_path
        self.state = str(tmp_path / 'state' / 'state.db')
        self.env = R.session_env(emu, tmp_path)
        self.m = str(tmp_path / 'm')


@pytest.fixture
def ws(emu, tmp_path):
    emu.reset()
    emu.configure(create_delay=0.2, update_delay=0.2, delete_delay=0.1)
    return Workspace(emu, tmp_path)


@pytest.fixture
def daemon():
    ok, why = R.daemon_available()
    if not ok:
        R.FIGURES['skipped'].append(why)
        pytest.skip(why)


def pytest_sessionstart(session):
    if os.path.exists(R.OUTPUT_LOG):
        os.unlink(R.OUTPUT_LOG)
    R.note_secret()


def _report(session):
    F = R.FIGURES
    faults = F['faults']
    lines = ['| figure | value |', '|---|---|']
    lines.append('| faults injected: 5xx answers | %d |' % faults.get('5xx', 0))
    lines.append('| faults injected: throttling answers | %d |' % faults.get('throttle', 0))
    lines.append('| faults injected: dropped connections | %d |' % faults.get('drop', 0))
    lines.append('| faults injected: calls delayed by a latency spike | %d |'
                 % faults.get('latency', 0))
    lines.append('| faults injected: ambiguous creates (applied, reply lost) | %d |'
                 % faults.get('ambiguous', 0))
    lines.append('| fault storm | %s |' % (', '.join('%s %s' % (k, v) for k, v in
                                                    sorted(F['storm'].items())) or 'not run'))
    lines.append('| SIGKILLs delivered / restarts | %d / %d |' % (F['kills'], F['restarts']))
    lines.append('| resources checked against the wanted set | %d |' % F['resources_checked'])
    lines.append('| duplicates found | %d |' % F['duplicates'])
    lines.append('| orphans found | %d |' % F['orphans'])
    lines.append('| state file integrity checks passed | %d |' % F['integrity_checks'])
    lines.append('| plumb runs whose output was grepped / bytes | %d / %d |'
                 % (F['plumb_runs'], F['output_bytes']))
    lines.append('| secrets (secret key, session token) found in output | %d |'
                 % F['secret_leaks'])
    for t, f in sorted(F['fuzz'].items()):
        lines.append('| fuzz %s: executions in %ss (corpus %s) | %s |'
                     % (t, f['seconds'], f.get('corpus', '?'), f['execs']))
    for why in sorted(set(F['skipped'])):
        lines.append('| skipped | %s |' % why.replace('|', '/'))
    return lines


def pytest_sessionfinish(session, exitstatus):
    # the whole output of every plumb run, once more, against every secret issued
    text = ''
    if os.path.exists(R.OUTPUT_LOG):
        with open(R.OUTPUT_LOG, errors='replace') as f:
            text = f.read()
    leaks = R.leaks_in(text)
    if leaks:
        R.FIGURES['secret_leaks'] = max(R.FIGURES['secret_leaks'], len(leaks))
        session.exitstatus = 1
    if session.config.option.collectonly:
        return
    passed = session.testscollected - session.testsfailed
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    head = ('Last run: %s; storm %ss, %d kills per chaos test, fuzz %ss per target; '
            '%d tests collected, %d failed; pytest exit %s.'
            % (now, STORM_SECONDS, KILLS, FUZZ_SECONDS, session.testscollected,
               session.testsfailed, session.exitstatus))
    body = '\n'.join(_report(session))
    os.makedirs(os.path.join(R.REPO, 'build'), exist_ok=True)
    with open(os.path.join(R.REPO, 'build', 'reliability-report.md'), 'w') as f:
        f.write('# Reliability suite: figures\n\n%s\n\n%s\n' % (head, body))
    if os.environ.get('RELIABILITY_WRITE_DOCS') == '1':
        doc = os.path.join(R.REPO, 'docs', 'reliability.md')
        with open(doc) as f:
            text = f.read()
        new = '<!-- figures:begin -->\n%s\n\n%s\n<!-- figures:end -->' % (head, body)
        text = re.sub(r'<!-- figures:begin -->.*<!-- figures:end -->', lambda _: new, text,
                      flags=re.S)
        with open(doc, 'w') as f:
            f.write(text)
    del passed


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.section('reliability figures')
    for line in _report(None):
        terminalreporter.write_line(line)
    terminalreporter.write_line('report: build/reliability-report.md')
