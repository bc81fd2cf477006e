"""`plumb run` against the emulator: the daemon as an operator runs it.

Each test starts the real binary with its status port on a free loopback port, edits manifests
the way editors and git-sync do, changes AWS behind its back with boto3, and reads the result
back from AWS, from /status, /metrics and the state file."""
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

import aws_helpers as H
import promtext
import run_helpers as R


def daemon(ws, *args, env=None):
    R.base_manifests(ws.m) if not os.path.exists(ws.m) else None
    return R.Daemon(env or ws.env, ws.m, ws.state, *args)


def test_first_pass_applies_then_ready_and_status_matches_state(ws):
    R.base_manifests(ws.m, with_endpoint=True)
    d = R.Daemon(ws.env, ws.m, ws.state)
    try:
        code, _, body = d.request('/healthz')
        assert (code, body) == (200, 'ok\n')
        st = d.wait_ready()
        d.wait_until(lambda: all(r['state'] == 'in_sync' for r in d.status()['resources']),
                     what='everything in sync')
        st = d.status()
        assert st['mode'] == 'apply' and st['owner'] == 'daemon-test'
        assert st['account'] == '123456789012' and st['ready'] is True
        addresses = {r['address'] for r in st['resources']}
        assert addresses == {'Topic/alerts', 'Alarm/queue-depth', 'Model/slow',
                             'EndpointConfig/slow', 'Endpoint/slow'}
        # /status matches AWS and the state file
        sm = ws.emu.boto3_client('sagemaker')
        ep = sm.describe_endpoint(EndpointName='slow')
        assert ep['EndpointStatus'] == 'InService'
        byaddr = {r['address']: r for r in st['resources']}
        assert byaddr['EndpointConfig/slow']['physical'] == ep['EndpointConfigName']
        assert R.alarm_threshold(ws.emu) == 10.0
        db = sqlite3.connect(str(ws.state))
        rows = {(k, n) for k, n in db.execute(
            "SELECT kind, name FROM observed WHERE live_json IS NOT NULL")}
        for r in st['resources']:
            assert (r['kind'], r['physical']) in rows, r
        passes = db.execute("SELECT count(*), min(result) FROM passes "
                            "WHERE finished_ms IS NOT NULL").fetchone()
        assert passes[0] >= 1
        db.close()
    finally:
        assert d.stop() == 0


def test_manifest_edit_is_applied_within_two_seconds(ws):
    R.base_manifests(ws.m)
    d = R.Daemon(ws.env, ws.m, ws.state)
    try:
        d.wait_ready()
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 10.0, what='first apply')
        t0 = time.monotonic()
        R.write(os.path.join(ws.m, 'alarm.yaml'), R.alarm(threshold=25))
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 25.0, timeout=2,
                     what='the edit in AWS within 2 s')
        elapsed = time.monotonic() - t0
        print(f'edit applied in {elapsed * 1000:.0f} ms')
        i = d.wait_log('event=pass.start')
        d.wait_log('reason=watch', after=i)
        # editors' temporary files and the state file's journal did not start passes of
        # their own: one pass for the edit, then quiet
        n = sum('reason=watch' in line for line in d.lines)
        time.sleep(1.0)
        assert sum('reason=watch' in line for line in d.lines) == n
    finally:
        assert d.stop() == 0


def test_out_of_band_change_is_corrected_on_next_resync(ws):
    R.base_manifests(ws.m)
    d = R.Daemon(ws.env, ws.m, ws.state, '--resync', '1s')
    try:
        d.wait_ready()
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 10.0, what='first apply')
        cw = ws.emu.boto3_client('cloudwatch')
        a = cw.describe_alarms(AlarmNames=['queue-depth'])['MetricAlarms'][0]
        cw.put_metric_alarm(AlarmName='queue-depth', Namespace=a['Namespace'],
                            MetricName=a['MetricName'], Statistic=a['Statistic'],
                            Period=a['Period'], EvaluationPeriods=a['EvaluationPeriods'],
                            Threshold=99.0, ComparisonOperator=a['ComparisonOperator'],
                            AlarmActions=a['AlarmActions'])
        assert R.alarm_threshold(ws.emu) == 99.0
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 10.0, timeout=10,
                     what='the out-of-band change reverted')
        i = d.wait_log('event=drift')
        assert 'resource=Alarm/queue-depth' in d.lines[i] and 'path=threshold' in d.lines[i]
        assert 'reason=resync' in d.log()
    finally:
        assert d.stop() == 0


def test_stuck_endpoint_does_not_delay_an_unrelated_alarm(ws):
    ws.emu.configure(create_delay=3600)
    R.base_manifests(ws.m, with_endpoint=True)
    d = R.Daemon(ws.env, ws.m, ws.state)
    try:
        d.wait_ready()
        d.wait_until(lambda: (d.resource('Endpoint/slow') or {}).get('state') == 'waiting',
                     what='the endpoint waiting in Creating')
        assert R.alarm_threshold(ws.emu) == 10.0
        R.write(os.path.join(ws.m, 'alarm.yaml'), R.alarm(threshold=33))
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 33.0, timeout=2,
                     what='the alarm changed while the endpoint is still Creating')
        sm = ws.emu.boto3_client('sagemaker')
        assert sm.describe_endpoint(EndpointName='slow')['EndpointStatus'] == 'Creating'
        st = d.status()
        assert st['queue_depth'] >= 1
        # the endpoint's create was not issued twice by the second pass
        assert ws.emu.counts(operation='CreateEndpoint').get('CreateEndpoint', 0) == 1 or \
            len(ws.emu.calls(operation='CreateEndpoint')) == 1
        # SIGTERM with a wait in flight: stop taking work, exit 0 within the bound
        t0 = time.monotonic()
        assert d.stop(timeout=15) == 0
        assert time.monotonic() - t0 < 10
        assert 'event=shutdown' in d.log() and 'event=stopped' in d.log()
    finally:
        if d.proc.poll() is None:
            d.stop()


def test_sighup_rereads_manifests(ws):
    R.base_manifests(ws.m)
    # a debounce of an hour: only SIGHUP can make this edit take effect
    d = R.Daemon(ws.env, ws.m, ws.state, '--debounce', '1h')
    try:
        d.wait_ready()
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 10.0, what='first apply')
        R.write(os.path.join(ws.m, 'alarm.yaml'), R.alarm(threshold=44))
        time.sleep(0.5)
        assert R.alarm_threshold(ws.emu) == 10.0
        d.send(signal.SIGHUP)
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 44.0, timeout=5, what='SIGHUP')
        assert 'event=reload' in d.log() and 'reason=sighup' in d.log()
        assert d.proc.poll() is None
    finally:
        assert d.stop(signal.SIGINT) == 0


def test_second_instance_is_refused_naming_the_first(ws):
    R.base_manifests(ws.m)
    d = R.Daemon(ws.env, ws.m, ws.state)
    try:
        d.wait_ready()
        p = subprocess.run([H.PLUMB, 'run', '-f', ws.m, '--state', str(ws.state), '--listen',
                            '127.0.0.1:0'], env=ws.env, capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 1
        assert f'plumb run (pid {d.proc.pid})' in p.stderr, p.stderr
        # a plain apply is refused as well while the daemon holds the state
        p = subprocess.run([H.PLUMB, 'apply', '-f', ws.m, '--state', str(ws.state), '--yes'],
                           env=ws.env, capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and 'plumb run' in p.stderr
    finally:
        assert d.stop() == 0


def test_metrics_pass_a_strict_prometheus_parser(ws):
    R.base_manifests(ws.m, with_endpoint=True)
    d = R.Daemon(ws.env, ws.m, ws.state)
    try:
        d.wait_ready()
        d.wait_until(lambda: all(r['state'] == 'in_sync' for r in d.status()['resources']),
                     what='in sync')
        code, headers, text = d.request('/metrics')
        assert code == 200
        assert headers['Content-Type'].startswith('text/plain; version=0.0.4')
        fams = promtext.parse(text)
        for name in ('plumb_resources', 'plumb_drifted_resources',
                     'plumb_reconcile_duration_seconds', 'plumb_aws_calls_total',
                     'plumb_aws_throttles_total', 'plumb_aws_retries_total', 'plumb_queue_depth',
                     'plumb_last_good_pass_timestamp_seconds', 'plumb_passes_total',
                     'plumb_build_info', 'plumb_ready', 'plumb_actions_total'):
            assert name in fams and fams[name]['type'] and fams[name]['help'], name
        assert fams['plumb_reconcile_duration_seconds']['type'] == 'histogram'
        res = {(s[1]['kind'], s[1]['state']): s[2] for s in fams['plumb_resources']['samples']}
        assert res[('Endpoint', 'in_sync')] == 1 and res[('Alarm', 'in_sync')] == 1
        calls = {(s[1]['service'], s[1]['operation'], s[1]['outcome']): s[2]
                 for s in fams['plumb_aws_calls_total']['samples']}
        assert calls[('sagemaker', 'CreateEndpoint', 'ok')] == 1
        assert calls[('sagemaker', 'ListEndpoints', 'ok')] >= 1
        good = fams['plumb_last_good_pass_timestamp_seconds']['samples'][0][2]
        assert abs(good - time.time()) < 120
        # the parser is strict: a broken exposition is refused
        for bad in (text.replace('# TYPE plumb_ready gauge\n', '# TYPE plumb_ready gauge\n'
                                 '# TYPE plumb_ready gauge\n'),
                    text + 'plumb_ready 1\n', text.rstrip('\n'),
                    text.replace('le="+Inf"', 'le="9999"')):
            try:
                promtext.parse(bad)
            except ValueError:
                continue
            raise AssertionError('the strict parser accepted a broken exposition')
    finally:
        assert d.stop() == 0


def test_observe_mode_reports_drift_and_changes_nothing(ws):
    R.base_manifests(ws.m)
    p = subprocess.run([H.PLUMB, 'apply', '-f', ws.m, '--state', str(ws.state), '--yes'],
                       env=ws.env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    R.write(os.path.join(ws.m, 'alarm.yaml'), R.alarm(threshold=77))
    ws.emu.clear_calls()
    d = R.Daemon(ws.env, ws.m, ws.state, '--mode', 'observe')
    try:
        st = d.wait_ready()
        st = d.wait_until(lambda: (d.resource('Alarm/queue-depth') or {}).get('drift') and
                          d.status(), what='drift in /status')
        a = {r['address']: r for r in st['resources']}['Alarm/queue-depth']
        assert a['state'] == 'drifted'
        drift = {x['path']: x for x in a['drift']}
        assert drift['threshold']['wanted'] == 77 and drift['threshold']['live'] == 10
        assert drift['threshold']['first_seen']
        assert st['mode'] == 'observe'
        fams = promtext.parse(d.request('/metrics')[2])
        assert fams['plumb_drifted_resources']['samples'][0][2] == 1
        mutating = [c for c in ws.emu.calls() if not c['operation'].startswith(
            ('List', 'Describe', 'Get'))]
        assert mutating == [], mutating
        assert R.alarm_threshold(ws.emu) == 10.0
        # plumb drift --cached reads the same history beside the running daemon
        p = subprocess.run([H.PLUMB, 'drift', '-f', ws.m, '--state', str(ws.state), '--cached',
                            '--output', 'json'], env=ws.env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 2, p.stderr
        rep = {r['address']: r for r in json.loads(p.stdout)['resources']}
        items = {x['path']: x for x in rep['Alarm/queue-depth']['drift']}
        assert items['threshold']['first_seen'] == drift['threshold']['first_seen']
        assert a['drift_status'] == 'drifted' and a['drift_since']
    finally:
        assert d.stop() == 0
    first = drift['threshold']['first_seen']
    # first seen survives a restart of the daemon
    d = R.Daemon(ws.env, ws.m, ws.state, '--mode', 'observe')
    try:
        d.wait_ready()
        a = d.wait_until(lambda: (d.resource('Alarm/queue-depth') or {}).get('drift') and
                         d.resource('Alarm/queue-depth'), what='drift again')
        assert a['drift'][0]['first_seen'] == first
    finally:
        assert d.stop() == 0


def test_paused_resource_is_left_alone(ws):
    R.base_manifests(ws.m)
    d = R.Daemon(ws.env, ws.m, ws.state, '--resync', '1s')
    try:
        d.wait_ready()
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 10.0, what='first apply')
        R.write(os.path.join(ws.m, 'alarm.yaml'),
                R.alarm(threshold=55, extra=', annotations: {plumb/paused: "true"}'))
        d.wait_until(lambda: (d.resource('Alarm/queue-depth') or {}).get('state') == 'paused',
                     what='paused')
        time.sleep(1.5)  # a resync or two
        assert R.alarm_threshold(ws.emu) == 10.0
        a = d.resource('Alarm/queue-depth')
        assert a['drift'] and a['drift'][0]['wanted'] == 55
    finally:
        assert d.stop() == 0


def test_sync_endpoint_needs_the_token(ws, tmp_path):
    R.base_manifests(ws.m)
    tok = tmp_path / 'token'
    tok.write_text('s3cr3t-sync-token\n')
    d = R.Daemon(ws.env, ws.m, ws.state, '--sync-token-file', str(tok))
    try:
        d.wait_ready()
        n = d.status()['passes']
        code, headers, _ = d.request('/sync', method='POST')
        assert code == 401 and headers['WWW-Authenticate'] == 'Bearer'
        code, _, _ = d.request('/sync', method='POST',
                               headers={'Authorization': 'Bearer wrong'})
        assert code == 401
        code, _, body = d.request('/sync', method='POST',
                                  headers={'Authorization': 'Bearer s3cr3t-sync-token'})
        assert code == 202 and json.loads(body)['pass'] >= n
        d.wait_until(lambda: d.status()['passes'] > n, what='the synced pass')
        assert d.request('/sync')[0] == 405
        assert d.request('/nope')[0] == 404
        assert 's3cr3t-sync-token' not in d.log()
    finally:
        assert d.stop() == 0


@pytest.mark.parametrize('below', [False, True], ids=['root-is-link', 'root-below-link'])
def test_git_sync_symlink_swap_and_revision(ws, tmp_path, below):
    """git-sync publishes a checkout by renaming its link to a new worktree (and keeps the old
    one here, so only the swap itself can start the pass); the root may be the link or a
    directory below it."""
    root = tmp_path / 'git'
    wt1, wt2 = root / '.worktrees' / 'aaa', root / '.worktrees' / 'bbb'
    sub = 'deploy/prod' if below else ''
    R.base_manifests(str(wt1 / sub))
    (wt1 / 'REVISION').write_text('aaa111\n')
    os.symlink(str(wt1), str(root / 'current'))
    d = R.Daemon(ws.env, str(root / 'current' / sub), ws.state)
    try:
        d.wait_ready()
        d.wait_until(lambda: d.status()['revision'] == 'aaa111', what='revision aaa111')
        # git-sync: a new worktree, then the link renamed over the old one
        R.base_manifests(str(wt2 / sub), threshold=66)
        (wt2 / 'REVISION').write_text('bbb222\n')
        os.symlink(str(wt2), str(root / 'current.tmp'))
        os.rename(str(root / 'current.tmp'), str(root / 'current'))
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 66.0, timeout=5, what='the swap')
        d.wait_until(lambda: d.status()['revision'] == 'bbb222', what='revision bbb222')
        assert 'reason=watch' in d.log()
        db = sqlite3.connect(str(ws.state))
        revs = [r[0] for r in db.execute(
            "SELECT revision FROM passes WHERE result = 'ok' ORDER BY id")]
        db.close()
        assert 'aaa111' in revs and revs[-1] == 'bbb222'
    finally:
        assert d.stop() == 0


def test_invalid_edit_applies_nothing_and_says_where(ws):
    R.base_manifests(ws.m)
    d = R.Daemon(ws.env, ws.m, ws.state)
    try:
        d.wait_ready()
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 10.0, what='first apply')
        R.write(os.path.join(ws.m, 'alarm.yaml'),
                R.alarm(threshold=12).replace('period: 60', 'period: sixty'))
        i = d.wait_log('event=manifest.error')
        assert 'alarm.yaml' in d.lines[i] and 'line=' in d.lines[i]
        d.wait_log('result=invalid', after=i)
        assert R.alarm_threshold(ws.emu) == 10.0
        assert d.status()['last_pass']['result'] == 'invalid'
        R.write(os.path.join(ws.m, 'alarm.yaml'), R.alarm(threshold=12))
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 12.0, timeout=5, what='the fix')
    finally:
        assert d.stop() == 0


def _ctx_switches(pid):
    n = 0
    for t in os.listdir(f'/proc/{pid}/task'):
        with open(f'/proc/{pid}/task/{t}/status') as f:
            for line in f:
                if line.startswith(('voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches')):
                    n += int(line.split()[1])
    return n


def test_idle_daemon_does_not_wake_up(ws):
    R.base_manifests(ws.m)
    d = R.Daemon(ws.env, ws.m, ws.state, '--log-format', 'json')
    try:
        d.wait_ready()
        d.wait_until(lambda: R.alarm_threshold(ws.emu) == 10.0, what='first apply')
        time.sleep(0.5)
        before = _ctx_switches(d.proc.pid)
        time.sleep(3)
        woke = _ctx_switches(d.proc.pid) - before
        print(f'context switches over 3 s idle: {woke}')
        assert woke <= 2, woke
        # JSON logs: one object per line with the same keys
        events = [json.loads(line) for line in d.lines if line.startswith('{')]
        assert events and all('event' in e and 'level' in e for e in events)
        assert any(e['event'] == 'pass.end' and 'pass' in e for e in events)
    finally:
        assert d.stop() == 0
